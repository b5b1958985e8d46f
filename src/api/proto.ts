// Loads proto/vxmesh.proto at runtime; shared by the server and the client so both agree on options.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** Same relative location from src/api (vitest) and dist/api (compiled). */
export const PROTO_PATH = fileURLToPath(new URL('../../proto/vxmesh.proto', import.meta.url));

export const SERVICE_NAME = 'vxmesh.v1.Vxmesh';

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
  service: grpc.ServiceDefinition;
  clientConstructor: grpc.ServiceClientConstructor;
}

export function loadVxmeshProto(): VxmeshProto {
  const packageDefinition = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
    vxmesh: { v1: { Vxmesh: grpc.ServiceClientConstructor } };
  };
  const clientConstructor = loaded.vxmesh.v1.Vxmesh;
  return { service: clientConstructor.service, clientConstructor };
}
