// Original file: proto/vxmesh.proto


export interface ListNetworksRequest {
}

export interface ListNetworksRequest__Output {
}
