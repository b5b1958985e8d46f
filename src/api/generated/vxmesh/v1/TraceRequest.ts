// Original file: proto/vxmesh.proto


export interface TraceRequest {
  'endpoint'?: (string);
  'to'?: (string);
}

export interface TraceRequest__Output {
  'endpoint': (string);
  'to': (string);
}
