// Original file: proto/vxmesh.proto


export interface RemoveNetworkResponse {
}

export interface RemoveNetworkResponse__Output {
}
