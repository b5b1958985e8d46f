// Original file: proto/vxmesh.proto


export interface RemoveNetworkRequest {
  'nameOrId'?: (string);
}

export interface RemoveNetworkRequest__Output {
  'nameOrId': (string);
}
