// Original file: proto/vxmesh.proto


export interface DetachResponse {
}

export interface DetachResponse__Output {
}
