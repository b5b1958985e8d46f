// Shared by the dns unit tests: a query in wire form.

/** A query for `name` (labels as given, letter case kept) of type `qtype`; `edns` adds an OPT with that UDP size. */
export function query(name: string, qtype: number, opts: { id?: number; edns?: number; rd?: boolean } = {}): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(opts.id ?? 0x1234, 0);
  h.writeUInt16BE(opts.rd === false ? 0 : 0x0100, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(opts.edns ? 1 : 0, 10);
  const labels = name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)]));
  const tail = Buffer.from([0, qtype >> 8, qtype & 0xff, 0, 1]);
  const opt = opts.edns ? Buffer.from([0, 0, 41, opts.edns >> 8, opts.edns & 0xff, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0);
  return Buffer.concat([h, ...labels, tail, opt]);
}
