// Original file: proto/vxmesh.proto


export interface StoreStatus {
  'ok'?: (boolean);
  'error'?: (string);
  'owedReady'?: (number);
  '_error'?: "error";
  '_owedReady'?: "owedReady";
}

export interface StoreStatus__Output {
  'ok': (boolean);
  'error'?: (string);
  'owedReady'?: (number);
}
