#!/usr/bin/env node
// Regenerates src/overlay/peer-record-schema.ts (the protobufjs JSON descriptor of Docker's
// PeerRecord) from src/overlay/peer-record.proto:
//   node test/support/gen-peer-record-schema.mjs          (write)
//   node test/support/gen-peer-record-schema.mjs --check  (exit 1 if the file is stale)
import { genProtoSchema } from './gen-proto-schema.mjs';

genProtoSchema({
  script: import.meta.url,
  proto: new URL('../../src/overlay/peer-record.proto', import.meta.url),
  out: new URL('../../src/overlay/peer-record-schema.ts', import.meta.url),
  exportName: 'peerRecordSchema',
  about: "protobufjs JSON descriptor of Docker's overlay PeerRecord.",
});
