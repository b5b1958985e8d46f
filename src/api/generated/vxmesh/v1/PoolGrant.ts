// Original file: proto/vxmesh.proto


export interface PoolGrant {
  'poolId'?: (string);
  'pool'?: (string);
}

export interface PoolGrant__Output {
  'poolId': (string);
  'pool': (string);
}
