// CoreDNS-style handler chain: each handler answers a query or passes it on. The chain the server
// uses is policy (what vxmesh refuses), then records (owned names), then forward (everything else).
import type { DnsView } from './records/record-store.js';
import { QType, Rcode, CLASS_IN } from './wire/constants.js';
import type { Query } from './wire/query.js';
import { answerFromCache, rcodeResponse, udpLimit } from './wire/response.js';
import type { Forwarder } from './forward/forwarder.js';

export interface DnsRequest {
  readonly query: Query;
  readonly view: DnsView;
  readonly transport: 'udp' | 'tcp';
  /** Sends the response (once). */
  reply(msg: Buffer): void;
}

export interface Handler {
  readonly name: string;
  /** True when this handler answered (or will answer) the request; false passes it on. */
  handle(req: DnsRequest): boolean;
}

/** Whether the policy handler lets a query through (the server's fast path checks this first). */
export function passesPolicy(q: Query): boolean {
  return !(q.edns && q.edns.version > 0) && q.qtype !== QType.OPT && q.qclass === CLASS_IN && q.qtype !== QType.AXFR && q.qtype !== QType.IXFR;
}

/** Refuses what vxmesh will not do: zone transfers and non-IN classes; BADVERS for EDNS > 0. */
export const policyHandler: Handler = {
  name: 'policy',
  handle(req) {
    const q = req.query;
    if (q.edns && q.edns.version > 0) req.reply(rcodeResponse(q, Rcode.BADVERS));
    else if (q.qtype === QType.OPT) req.reply(rcodeResponse(q, Rcode.FORMERR));
    else if (q.qclass !== CLASS_IN || q.qtype === QType.AXFR || q.qtype === QType.IXFR) req.reply(rcodeResponse(q, Rcode.REFUSED));
    else return false;
    return true;
  },
};

/** Owned names, answered from the view's cached bytes. */
export const recordsHandler: Handler = {
  name: 'records',
  handle(req) {
    const a = req.view.answer(req.query);
    if (!a) return false;
    req.reply(answerFromCache(req.query, a, req.transport === 'udp' ? udpLimit(req.query) : 0xffff));
    return true;
  },
};

/** Everything else: to the upstream resolvers; SERVFAIL when none answers (or none is configured). */
export function forwardHandler(forwarder: Forwarder | undefined): Handler {
  return {
    name: 'forward',
    handle(req) {
      if (!forwarder) {
        req.reply(rcodeResponse(req.query, Rcode.SERVFAIL));
        return true;
      }
      forwarder.forward(req.query, req.transport)
        .then((msg) => req.reply(msg ?? rcodeResponse(req.query, Rcode.SERVFAIL)), () => req.reply(rcodeResponse(req.query, Rcode.SERVFAIL)))
        .catch(() => undefined); // the client went away meanwhile: nothing to answer
      return true;
    },
  };
}

/** Runs the chain; a query nobody took is REFUSED (cannot happen with a forward handler last). */
export function runChain(chain: readonly Handler[], req: DnsRequest): void {
  for (const h of chain) if (h.handle(req)) return;
  req.reply(rcodeResponse(req.query, Rcode.REFUSED));
}
