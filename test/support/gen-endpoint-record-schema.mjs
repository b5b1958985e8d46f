#!/usr/bin/env node
// Regenerates src/ingress/endpoint-record-schema.ts (the protobufjs JSON descriptor of Docker's
// EndpointRecord) from src/ingress/endpoint-record.proto:
//   node test/support/gen-endpoint-record-schema.mjs          (write)
//   node test/support/gen-endpoint-record-schema.mjs --check  (exit 1 if the file is stale)
import { genProtoSchema } from './gen-proto-schema.mjs';

genProtoSchema({
  script: import.meta.url,
  proto: new URL('../../src/ingress/endpoint-record.proto', import.meta.url),
  out: new URL('../../src/ingress/endpoint-record-schema.ts', import.meta.url),
  exportName: 'endpointRecordSchema',
  about: "protobufjs JSON descriptor of Docker's libnetwork EndpointRecord.",
});
