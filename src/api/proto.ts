// Loads proto/vxmesh.proto at runtime; shared by the server and the client so both agree on options.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/vxmesh.js';
import type { VxmeshDefinition } from './generated/vxmesh/v1/Vxmesh.js';

/** Same relative location from src/api (vitest) and dist/api (compiled). */
export const PROTO_PATH = fileURLToPath(new URL('../../proto/vxmesh.proto', import.meta.url));

export const SERVICE_NAME = 'vxmesh.v1.Vxmesh';

// Keep in step with the generated types in src/api/generated (test/unit/api-generated.test.ts regenerates them).
// camelCase fields to match src/model/api.ts; defaults so repeated/map fields are always present;
// proto3 `optional` fields stay absent when unset, which keeps "not given" distinct from zero values.
const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: false,
};

export interface VxmeshProto {
  service: VxmeshDefinition;
  clientConstructor: ProtoGrpcType['vxmesh']['v1']['Vxmesh'];
}

export function loadVxmeshProto(): VxmeshProto {
  const packageDefinition = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
  // The one cast: the generated types (src/api/generated, same .proto, same options) describe what loads.
  const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType;
  const clientConstructor = loaded.vxmesh.v1.Vxmesh;
  return { service: clientConstructor.service, clientConstructor };
}
