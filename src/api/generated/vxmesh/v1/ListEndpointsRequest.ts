// Original file: proto/vxmesh.proto


export interface ListEndpointsRequest {
  'network'?: (string);
  '_network'?: "network";
}

export interface ListEndpointsRequest__Output {
  'network'?: (string);
}
