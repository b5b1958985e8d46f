// The real-dockerd harness itself: it must start a private dockerd, run a container from the
// imported busybox image, survive a dockerd restart, and leave nothing behind.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dockerUnavailableReason, run, startDockerHost } from './harness.js';

const skip = dockerUnavailableReason();

describe.skipIf(skip !== undefined)('docker test harness', () => {
  it('runs a private dockerd in its own netns and tears it all down', async () => {
    const host = await startDockerHost({ prefix: 'vxdth' });
    let dockerPid: number | undefined;
    try {
      dockerPid = Number(readFileSync(`${host.dir}/docker.pid`, 'utf8'));
      // the bridge dockerd made lives in our netns, not in the root namespace
      const links = await run('ip', ['-n', host.ns, '-br', 'link']);
      expect(links.stdout).toMatch(/docker0/);
      const out = await host.dockerOk(['run', '--rm', host.image, 'sh', '-c', 'echo hello-$((20+22))']);
      expect(out).toBe('hello-42');
      await host.dockerOk(['run', '-d', '--name', 'keep', '--restart', 'always', host.image, 'sleep', '600']);
      await host.restartDockerd();
      const state = await host.dockerOk(['inspect', '-f', '{{.State.Running}}', 'keep']);
      expect(state).toBe('true');
    } finally {
      await host.close();
    }
    expect(existsSync(host.dir)).toBe(false);
    expect((await run('ip', ['netns', 'list'])).stdout).not.toContain(host.ns);
    expect(dockerPid).toBeGreaterThan(0);
    expect(existsSync(`/proc/${dockerPid}`) && !readFileSync(`/proc/${dockerPid}/stat`, 'utf8').includes(') Z')).toBe(false);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(host.dir);
  }, 180_000);
});
