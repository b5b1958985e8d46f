// Original file: proto/vxmesh.proto


export interface ReleasePoolRequest {
  'poolId'?: (string);
}

export interface ReleasePoolRequest__Output {
  'poolId': (string);
}
