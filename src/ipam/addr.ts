// The IP codec moved to src/util/ip-addr.ts (lowest layer, shared with src/model's validation);
// re-exported here so src/ipam's callers keep their imports.
export * from '../util/ip-addr.js';
