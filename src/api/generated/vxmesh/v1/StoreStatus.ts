// Original file: proto/vxmesh.proto


export interface StoreStatus {
  'ok'?: (boolean);
  'error'?: (string);
  '_error'?: "error";
}

export interface StoreStatus__Output {
  'ok': (boolean);
  'error'?: (string);
}
