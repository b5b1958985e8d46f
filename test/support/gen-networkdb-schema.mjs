#!/usr/bin/env node
// Regenerates src/gossip/networkdb/networkdb-schema.ts (the protobufjs JSON descriptor vxmesh
// loads at run time) from src/gossip/networkdb/networkdb.proto:
//   node test/support/gen-networkdb-schema.mjs          (write)
//   node test/support/gen-networkdb-schema.mjs --check  (exit 1 if the file is stale)
import { genProtoSchema } from './gen-proto-schema.mjs';

genProtoSchema({
  script: import.meta.url,
  proto: new URL('../../src/gossip/networkdb/networkdb.proto', import.meta.url),
  out: new URL('../../src/gossip/networkdb/networkdb-schema.ts', import.meta.url),
  exportName: 'networkdbSchema',
  about: "protobufjs JSON descriptor of Docker NetworkDB's messages.",
});
