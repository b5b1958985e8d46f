// The rules by which a docker network on one host joins the vxmesh network another host's dockerd made.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { AgentApi, NetworkInfo } from '../../src/model/api.js';
import { LABEL_IPAM, LABEL_NETWORK_ID, type PluginContext } from '../../src/plugin/context.js';
import { adoptExisting, networkStillInUse, poolIdOfSubnet } from '../../src/plugin/shared-network.js';

const HOST_A_ID = 'a'.repeat(64);
const HOST_B_ID = 'b'.repeat(64);

function network(over: Partial<NetworkInfo> = {}): NetworkInfo {
  return {
    id: 'n1', name: 'net1', vni: 4097, mtu: 1450, internal: false,
    labels: { [LABEL_NETWORK_ID]: HOST_A_ID, [LABEL_IPAM]: 'vxmesh' },
    ipv4: { subnet: '10.30.0.0/24', gateway: '10.30.0.1/24', auxAddresses: {} },
    sandbox: 'vx-n1', endpointCount: 0, createdAt: '2026-01-01T00:00:00Z', ...over,
  };
}

function context(networks: NetworkInfo[] = []): PluginContext {
  return {
    api: { listNetworks: async () => networks } as unknown as AgentApi,
    logger: pino({ level: 'silent' }),
    dockerSocket: undefined,
    nameWaitMs: 0,
    poolIds: new Map(),
    pendingNetworks: new Map(),
    adopted: new Map(),
  };
}

const request = (subnet: string, ipam = 'vxmesh') => ({ subnet, ipv6: false, internal: false, labels: { [LABEL_NETWORK_ID]: HOST_B_ID, [LABEL_IPAM]: ipam } });

describe('adoptExisting', () => {
  it('joins another host\'s docker network of that name when the options match, and remembers it', () => {
    const ctx = context();
    const existing = network();
    expect(adoptExisting(ctx, HOST_B_ID, request('10.30.0.0/24'), existing, 'vxmesh.network')).toBe(existing);
    expect(ctx.adopted.get(HOST_B_ID)).toBe('n1');
  });

  it('refuses another subnet, naming both', () => {
    const ctx = context();
    expect(() => adoptExisting(ctx, HOST_B_ID, request('10.31.0.0/24'), network(), 'vxmesh.network'))
      .toThrow('vxmesh network "net1" already exists in the cluster with subnet 10.30.0.0/24 (this request: 10.31.0.0/24)');
    expect(ctx.adopted.size).toBe(0);
  });

  it('refuses a network not made by docker, or made with the other IPAM', () => {
    const ctx = context();
    expect(() => adoptExisting(ctx, HOST_B_ID, request('10.30.0.0/24'), network({ labels: {} }), 'vxmesh.network')).toThrow(/already exists: it was made not by docker/);
    expect(() => adoptExisting(ctx, HOST_B_ID, request('10.30.0.0/24', 'docker'), network(), 'vxmesh.network')).toThrow(/made with --ipam-driver vxmesh/);
  });

  it('hands its own network back unchanged (a retried CreateNetwork)', () => {
    const ctx = context();
    expect(adoptExisting(ctx, HOST_A_ID, request('10.99.0.0/24'), network(), 'vxmesh.network').id).toBe('n1');
    expect(ctx.adopted.size).toBe(0);
  });
});

describe('networkStillInUse', () => {
  it('is the pool\'s network only while some host has endpoints on it', async () => {
    const pool = poolIdOfSubnet('10.30.0.0/24');
    expect(await networkStillInUse(context([network({ hosts: ['h2'] })]), pool)).toMatchObject({ id: 'n1' });
    expect(await networkStillInUse(context([network({ hosts: [] })]), pool)).toBeUndefined();
    expect(await networkStillInUse(context([network({ hosts: ['h2'] })]), poolIdOfSubnet('10.31.0.0/24'))).toBeUndefined();
  });
});
