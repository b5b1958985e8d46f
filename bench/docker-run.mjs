#!/usr/bin/env node
// `docker run --rm --network NET busybox true` wall time on a vxmesh network vs docker's own bridge
// network, measured in the same run against a private dockerd 20.10 in its own netns (the same
// harness as test/docker). Goal: vxmesh / bridge median <= 1.2.
//   usage (root, after `npx tsc`): node bench/docker-run.mjs [--runs N] [--json]
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const repo = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, json: { type: 'boolean', default: false } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs}: give a positive integer`);
const agentEntry = process.env.VXMESH_BENCH_AGENT_ENTRY ?? join(repo, 'dist', 'cli', 'main.js');
if (!existsSync(agentEntry)) throw new Error(`${agentEntry} is missing: run npx tsc first`);

// The harness is TypeScript: bundle it with esbuild (vitest's own dependency) to load it here.
const buildDir = mkdtempSync(join(tmpdir(), 'vxbench-'));
const harnessFile = join(buildDir, 'harness.mjs');
await build({ entryPoints: [join(repo, 'test', 'docker', 'harness.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: harnessFile, logLevel: 'error' });
const { startDockerHost, uniqueName, run, dockerUnavailableReason } = await import(harnessFile);
const why = dockerUnavailableReason();
if (why) throw new Error(`cannot run a private dockerd here: ${why}`);

const log = (msg) => { if (!values.json) console.error(msg); };
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { runs: s.length, medianMs: q(0.5), p90Ms: q(0.9), minMs: s[0], meanMs: s.reduce((a, b) => a + b, 0) / s.length };
};

const host = await startDockerHost({ prefix: 'vxbn', repoRoot: repo });
const plugin = uniqueName('vxmeshbench');
const prefix = uniqueName('vb').slice(0, 6);
const pluginSocket = `/run/docker/plugins/${plugin}.sock`;
try {
  const agent = host.spawnInNetns('agent', [process.execPath, agentEntry, 'agent', '--socket', join(host.dir, 'vxmesh.sock'),
    '--data-dir', join(host.dir, 'vxmesh-data'), '--netns-prefix', prefix, '--plugin-name', plugin,
    '--advertise-addr', host.underlayAddr, '--log-level', 'warn'], { DOCKER_HOST: `unix://${host.socket}` });
  const deadline = Date.now() + 30_000;
  while (!existsSync(pluginSocket)) {
    if (agent.exited() || Date.now() > deadline) throw new Error(`agent did not serve ${pluginSocket}:\n${readFileSync(agent.logFile, 'utf8').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await host.dockerOk(['network', 'create', '-d', plugin, '--ipam-driver', plugin, 'vxnet']);
  await host.dockerOk(['network', 'create', '-d', 'bridge', 'brnet']);
  const timeRun = async (network) => {
    const t0 = process.hrtime.bigint();
    await host.dockerOk(['run', '--rm', '--network', network, host.image, 'true']);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  await timeRun('vxnet'); // warm-up: plugin activation, image layers in page cache
  await timeRun('brnet');
  const samples = { vxmesh: [], bridge: [] };
  for (let i = 0; i < runs; i++) {
    // interleaved, alternating which goes first, so both see the same machine load
    const order = i % 2 === 0 ? ['vxmesh', 'bridge'] : ['bridge', 'vxmesh'];
    for (const which of order) samples[which].push(await timeRun(which === 'vxmesh' ? 'vxnet' : 'brnet'));
    log(`run ${i + 1}/${runs}: vxmesh ${samples.vxmesh.at(-1).toFixed(0)} ms, bridge ${samples.bridge.at(-1).toFixed(0)} ms`);
  }
  const vx = stats(samples.vxmesh);
  const br = stats(samples.bridge);
  const result = { bench: 'docker run --rm true', vxmesh: vx, bridge: br, ratioMedian: vx.medianMs / br.medianMs, goal: 1.2 };
  if (values.json) console.log(JSON.stringify(result));
  else {
    console.log(`docker run --rm --network NET busybox true, ${runs} runs each (interleaved)`);
    console.log(`  vxmesh: median ${vx.medianMs.toFixed(0)} ms  p90 ${vx.p90Ms.toFixed(0)} ms  min ${vx.minMs.toFixed(0)} ms`);
    console.log(`  bridge: median ${br.medianMs.toFixed(0)} ms  p90 ${br.p90Ms.toFixed(0)} ms  min ${br.minMs.toFixed(0)} ms`);
    console.log(`  ratio (median): ${result.ratioMedian.toFixed(2)}x  (goal <= ${result.goal}x)`);
  }
  await host.docker(['network', 'rm', 'vxnet', 'brnet']);
} finally {
  await host.close();
  for (const ns of (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '')) {
    if (ns.startsWith(prefix)) await run('ip', ['netns', 'del', ns]);
  }
  rmSync(pluginSocket, { force: true });
  rmSync(buildDir, { recursive: true, force: true });
}
