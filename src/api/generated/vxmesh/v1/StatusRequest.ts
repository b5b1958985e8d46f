// Original file: proto/vxmesh.proto


export interface StatusRequest {
}

export interface StatusRequest__Output {
}
