// `ip -batch` lines that create links from typed specs. Only the kernel layer spells argv.
import { nsTarget, type NsRef } from './ns.js';
import type { LinkSpec, VethLinkSpec, VxlanLinkSpec } from './state.js';

/** Spec kinds this namespace can create by itself (a veth needs its peer, `other` never). */
export function creatableHere(spec: LinkSpec): boolean {
  switch (spec.kind) {
    case 'bridge':
    case 'dummy':
      return true;
    case 'vxlan':
      return !spec.createIn;
    case 'veth':
      return spec.peer !== undefined;
    case 'other':
      return false;
  }
}

/** Where the planner's vxlan-from-elsewhere trick puts its temporary name, if it uses one. */
export function tempNameOf(spec: LinkSpec): string | undefined {
  return spec.adoptFrom ?? (spec.kind === 'vxlan' ? spec.createIn?.tempName : undefined);
}

export function vxlanAddLine(spec: VxlanLinkSpec, name: string, mtu = 0): string {
  checkName(name);
  if (!Number.isInteger(spec.vni) || spec.vni < 1 || spec.vni > 16_777_215) throw new Error(`vxlan ${spec.name}: VNI ${spec.vni} is outside 1-16777215`);
  if (!Number.isInteger(spec.dstPort) || spec.dstPort < 1 || spec.dstPort > 65_535) throw new Error(`vxlan ${spec.name}: port ${spec.dstPort} is outside 1-65535`);
  const local = spec.local ? ` local ${spec.local}` : '';
  return `link add ${name}${mtu ? ` mtu ${mtu}` : ''} type vxlan id ${spec.vni} dstport ${spec.dstPort}${local}${spec.learning ? '' : ' nolearning'}${spec.proxy ? ' proxy' : ''}`;
}

function vethAddLine(spec: VethLinkSpec, mtu: number): string {
  const p = spec.peer!;
  checkName(p.name);
  // `self` is the agent's namespace (rendered as /proc/PID/ns/net), not the one being planned.
  const peerNs = p.ns ? ` netns ${nsTarget(p.ns)}` : '';
  return `link add ${spec.name}${mtu ? ` mtu ${mtu}` : ''} type veth peer name ${p.name}${p.mtu ? ` mtu ${p.mtu}` : ''}${peerNs}`;
}

/**
 * The line that creates `spec` in the namespace being planned. A bridge's MTU given at creation
 * is not sticky (the first enslaved port resets it to the ports' minimum), so a bridge is made
 * without one and pinned with `link set mtu` afterwards; other kinds get it at creation.
 */
export function linkAddLine(spec: LinkSpec): { line: string; mtu: number } {
  checkName(spec.name);
  const mtu = spec.mtu && spec.kind !== 'bridge' ? spec.mtu : 0;
  switch (spec.kind) {
    case 'bridge':
      return { line: `link add ${spec.name} type bridge`, mtu: 0 };
    case 'dummy':
      return { line: `link add ${spec.name}${mtu ? ` mtu ${mtu}` : ''} type dummy`, mtu };
    case 'vxlan':
      return { line: vxlanAddLine(spec, spec.name, mtu), mtu };
    case 'veth':
      return { line: vethAddLine(spec, mtu), mtu };
    case 'other':
      throw new Error(`link ${spec.name} is of a kind vxmesh does not create`);
  }
}

/** Lines, run in `createIn`, that make a vxlan under its temporary name and move it to `here`. */
export function vxlanElsewhereLines(spec: VxlanLinkSpec, here: NsRef): string[] {
  const tmp = spec.createIn!.tempName;
  return [vxlanAddLine(spec, tmp), `link set dev ${tmp} netns ${nsTarget(here)}`];
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name) || name === '.' || name === '..') {
    throw new Error(`interface name "${name}" is not valid (1-15 of letters, digits, _ . -)`);
  }
}
