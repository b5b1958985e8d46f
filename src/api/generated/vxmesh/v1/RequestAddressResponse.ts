// Original file: proto/vxmesh.proto


export interface RequestAddressResponse {
  'address'?: (string);
}

export interface RequestAddressResponse__Output {
  'address': (string);
}
