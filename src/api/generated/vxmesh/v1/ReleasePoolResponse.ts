// Original file: proto/vxmesh.proto


export interface ReleasePoolResponse {
}

export interface ReleasePoolResponse__Output {
}
