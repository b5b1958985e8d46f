// Original file: proto/vxmesh.proto


export interface ReleaseAddressResponse {
}

export interface ReleaseAddressResponse__Output {
}
