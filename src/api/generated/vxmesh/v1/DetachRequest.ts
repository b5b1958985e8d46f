// Original file: proto/vxmesh.proto


export interface DetachRequest {
  'endpointId'?: (string);
}

export interface DetachRequest__Output {
  'endpointId': (string);
}
