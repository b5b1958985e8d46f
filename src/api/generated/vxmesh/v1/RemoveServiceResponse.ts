// Original file: proto/vxmesh.proto


export interface RemoveServiceResponse {
}

export interface RemoveServiceResponse__Output {
}
