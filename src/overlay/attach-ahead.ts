// Beside attach's store transaction: the endpoint's veths (and its gateway leg) are made while the
// transaction is in flight, planned from the records it is about to write (links-ahead.ts), so the
// store's round trip hides behind kernel work. `undo` (the store refused) removes them again;
// `withdraw` (the records are stored) hands them over to the records.

import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { errText } from '../errors.js';
import { endpointRecord, gatewayRecord, needsGateway, type AttachTarget } from './attach-steps.js';
import { endpointFields, networkFields } from './log-fields.js';
import type { OverlayKernel } from './overlay-kernel.js';
import type { OverlayRecords } from './records.js';

/** The address of a record planned ahead: the links made from it carry none (the workload's batch sets them, after the store answered). */
const PLANNED_ADDRESS = '0.0.0.0';

export interface LinksMadeAhead {
  /** Resolves (never rejects) when the early batch is over, with its time in ms; a failure is only logged (plumb makes them again). */
  done: Promise<number>;
  withdraw: () => void;
  /** Waits for the early batch, withdraws, and removes what it made (re-read, not assumed). */
  undo: () => Promise<void>;
}

export function makeLinksAhead(kernel: OverlayKernel, records: OverlayRecords, t: AttachTarget, id: string, log: Logger): LinksMadeAhead {
  const t0 = performance.now();
  const ep = endpointRecord(records, t, PLANNED_ADDRESS, undefined, id);
  const gw = needsGateway(records, t) ? gatewayRecord(records, t, ep, PLANNED_ADDRESS) : undefined;
  const withdraw = kernel.ahead.add(ep, gw);
  // Started on the next turn of the event loop: the caller's store request goes out first (spawning the
  // kernel's tools blocks the loop while it forks).
  const made = new Promise<void>((resolve) => setImmediate(resolve)).then(() => Promise.all([kernel.syncSandbox(t.net), gw ? kernel.syncHost() : undefined]));
  const done = made.then(
    () => performance.now() - t0,
    (e: unknown) => {
      log.debug({ ...endpointFields(ep, t.net), err: errText(e) }, 'links made ahead of the store write failed; plumbing makes them again');
      return performance.now() - t0;
    },
  );
  const undo = async () => {
    await done;
    withdraw();
    log.info(endpointFields(ep, t.net), 'the store refused the attach: removing the links made ahead of it');
    kernel.forgetSandbox(t.net);
    await kernel.syncSandbox(t.net, true).catch((e) => log.error({ ...networkFields(t.net), err: errText(e) }, 'undoing links made ahead: sandbox'));
    if (gw) await kernel.syncHost(true).catch((e) => log.error({ err: errText(e) }, 'undoing links made ahead: host'));
    kernel.forgetWorkload(t.req.netns);
  };
  return { done, withdraw, undo };
}
