// Original file: proto/vxmesh.proto


export interface RequestPoolRequest {
  'addressSpace'?: (string);
  'pool'?: (string);
  'subPool'?: (string);
  'v6'?: (boolean);
  'owner'?: (string);
  '_addressSpace'?: "addressSpace";
  '_pool'?: "pool";
  '_subPool'?: "subPool";
  '_owner'?: "owner";
}

export interface RequestPoolRequest__Output {
  'addressSpace'?: (string);
  'pool'?: (string);
  'subPool'?: (string);
  'v6': (boolean);
  'owner'?: (string);
}
