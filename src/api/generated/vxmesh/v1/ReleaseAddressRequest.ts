// Original file: proto/vxmesh.proto


export interface ReleaseAddressRequest {
  'poolId'?: (string);
  'address'?: (string);
}

export interface ReleaseAddressRequest__Output {
  'poolId': (string);
  'address': (string);
}
