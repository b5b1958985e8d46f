// Original file: proto/vxmesh.proto


export interface InspectServiceRequest {
  'nameOrId'?: (string);
}

export interface InspectServiceRequest__Output {
  'nameOrId': (string);
}
