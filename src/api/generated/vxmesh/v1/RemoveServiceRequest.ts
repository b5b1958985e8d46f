// Original file: proto/vxmesh.proto


export interface RemoveServiceRequest {
  'nameOrId'?: (string);
}

export interface RemoveServiceRequest__Output {
  'nameOrId': (string);
}
