// Original file: proto/vxmesh.proto


export interface DoctorRequest {
}

export interface DoctorRequest__Output {
}
