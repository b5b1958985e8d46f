// DNS wire constants (RFC 1035, 3596, 2782, 6891). Only what the resolver uses.

export const HEADER_LEN = 12;
export const MAX_NAME_LEN = 255;
export const MAX_LABEL_LEN = 63;
/** Largest UDP answer without EDNS (RFC 1035 4.2.1). */
export const CLASSIC_UDP_LIMIT = 512;
/** The UDP size vxmesh advertises and caps answers to (the DNS flag day 2020 value: no IP fragmentation). */
export const OUR_UDP_SIZE = 1232;

export const enum QType {
  A = 1,
  NS = 2,
  CNAME = 5,
  SOA = 6,
  PTR = 12,
  MX = 15,
  TXT = 16,
  AAAA = 28,
  SRV = 33,
  OPT = 41,
  IXFR = 251,
  AXFR = 252,
  ANY = 255,
}

export const CLASS_IN = 1;

export const enum Rcode {
  NOERROR = 0,
  FORMERR = 1,
  SERVFAIL = 2,
  NXDOMAIN = 3,
  NOTIMP = 4,
  REFUSED = 5,
  /** Extended (EDNS) rcode 16: upper 8 bits go in the OPT TTL. */
  BADVERS = 16,
}

export const OPCODE_QUERY = 0;

// Header flag bits (second 16-bit word).
export const FLAG_QR = 0x8000;
export const FLAG_AA = 0x0400;
export const FLAG_TC = 0x0200;
export const FLAG_RD = 0x0100;
export const FLAG_RA = 0x0080;
export const OPCODE_MASK = 0x7800;
/** The DO bit in the OPT record's TTL field (RFC 3225). */
export const EDNS_DO = 0x8000;
