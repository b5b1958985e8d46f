// Builds the cached answer for one name and type from the records a view can see. Owned names are
// never forwarded: a missing type is NODATA with an SOA, a name under an owned one NXDOMAIN.
import { QType, Rcode } from '../wire/constants.js';
import { nameKey, parentKey } from '../wire/name.js';
import type { CachedAnswer } from '../wire/response.js';
import { RecordWriter, type Soa } from '../wire/rr-builder.js';
import { EXISTS, type Contribution } from './contributions.js';
import type { DnsTtls } from './types.js';

/** What a view can see: the records owning a name, and whether a name has owned names below it. */
export interface ViewLookup {
  records(key: string): readonly Contribution[];
  hasOwnedBelow(key: string): boolean;
  /** Whether any network (seen by this view or not) owns the name. */
  ownedAnywhere(key: string): boolean;
}

const MNAME = nameKey('ns.vxmesh.');
const RNAME = nameKey('hostmaster.vxmesh.');

/** The answer for (key, qtype), or undefined when no owned name covers it (forward it). */
export function buildAnswer(view: ViewLookup, key: string, qtype: number, ttls: DnsTtls, serial: number): CachedAnswer | undefined {
  const owned = view.records(key);
  if (owned.length > 0) {
    const matching = dedupe(owned.filter((c) => c.rdata.type === qtype || (qtype === QType.ANY && c.rdata.type !== EXISTS)));
    return matching.length > 0 ? positive(view, key, matching, ttls) : negative(key, key, Rcode.NOERROR, ttls, serial);
  }
  for (let zone = parentKey(key); zone !== undefined; zone = parentKey(zone)) {
    if (view.records(zone).length === 0) continue;
    // An empty non-terminal (e.g. _tcp.api when _80._tcp.api exists) exists: NODATA, not NXDOMAIN.
    const rcode = view.hasOwnedBelow(key) ? Rcode.NOERROR : Rcode.NXDOMAIN;
    return negative(key, zone, rcode, ttls, serial);
  }
  // A name of a network the asker is not on: NXDOMAIN, never forwarded (internal names stay inside).
  for (let zone: string | undefined = key; zone !== undefined; zone = parentKey(zone)) {
    if (view.ownedAnywhere(zone)) return negative(key, zone, Rcode.NXDOMAIN, ttls, serial);
  }
  return undefined;
}

function dedupe(list: readonly Contribution[]): Contribution[] {
  const seen = new Set<string>();
  return list.filter((c) => !seen.has(c.identity) && seen.add(c.identity) !== undefined);
}

function positive(view: ViewLookup, key: string, answers: Contribution[], ttls: DnsTtls): CachedAnswer {
  const w = new RecordWriter(key);
  const starts: number[] = [];
  const srvTargets = new Set<string>();
  for (const c of answers) {
    starts.push(w.length);
    const r = c.rdata;
    if (r.type === QType.PTR) w.ptr(key, ttls.answer, r.target);
    else if (r.type === QType.SRV) {
      w.srv(key, ttls.answer, 0, 0, r.port, r.target);
      srvTargets.add(r.target);
    } else if (r.type !== EXISTS) w.address(key, ttls.answer, Buffer.from(r.ip, 'latin1'));
  }
  const answersEnd = w.length;
  // SRV: the targets' addresses in the additional section (RFC 2782), as this view sees them.
  let arcount = 0;
  for (const target of srvTargets) {
    for (const c of dedupe(view.records(target))) {
      if (c.rdata.type !== QType.A && c.rdata.type !== QType.AAAA) continue;
      w.address(target, ttls.answer, Buffer.from(c.rdata.ip, 'latin1'));
      arcount++;
    }
  }
  const tail = w.toBuffer();
  const shuffle = answers.length > 1 && answers.every((c) => c.shuffle) && arcount === 0
    ? { answers: starts.map((s, i) => tail.subarray(s, starts[i + 1] ?? answersEnd)), rest: tail.subarray(answersEnd) }
    : undefined;
  return { rcode: Rcode.NOERROR, ancount: answers.length, nscount: 0, arcount, tail, shuffle };
}

function negative(key: string, zoneKey: string, rcode: Rcode.NOERROR | Rcode.NXDOMAIN, ttls: DnsTtls, serial: number): CachedAnswer {
  const w = new RecordWriter(key);
  const soa: Soa = { zoneKey, mnameKey: MNAME, rnameKey: RNAME, serial, ttl: ttls.negative, minimum: ttls.negative };
  w.soa(soa);
  return { rcode, ancount: 0, nscount: 1, arcount: 0, tail: w.toBuffer() };
}
