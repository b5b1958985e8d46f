// Original file: proto/vxmesh.proto


export interface ListNodesRequest {
}

export interface ListNodesRequest__Output {
}
