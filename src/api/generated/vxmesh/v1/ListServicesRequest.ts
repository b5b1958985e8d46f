// Original file: proto/vxmesh.proto


export interface ListServicesRequest {
}

export interface ListServicesRequest__Output {
}
