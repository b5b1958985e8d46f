// Original file: proto/vxmesh.proto


export interface RequestAddressRequest {
  'poolId'?: (string);
  'address'?: (string);
  'purpose'?: (string);
  '_address'?: "address";
  '_purpose'?: "purpose";
}

export interface RequestAddressRequest__Output {
  'poolId': (string);
  'address'?: (string);
  'purpose'?: (string);
}
