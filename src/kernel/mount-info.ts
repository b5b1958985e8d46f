// The agent's own mount table (/proc/self/mountinfo), read for src/agent/mount-ns.ts's verdict.
import { readFile } from 'node:fs/promises';

/** The text of /proc/self/mountinfo, or '' when it cannot be read. */
export function readSelfMountInfo(): Promise<string> {
  return readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
}
