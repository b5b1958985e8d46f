// Original file: proto/vxmesh.proto


export interface InspectNetworkRequest {
  'nameOrId'?: (string);
}

export interface InspectNetworkRequest__Output {
  'nameOrId': (string);
}
