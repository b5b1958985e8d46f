// Original file: proto/vxmesh.proto


export interface TraceHop {
  'at'?: (string);
  'detail'?: (string);
  'ok'?: (boolean);
}

export interface TraceHop__Output {
  'at': (string);
  'detail': (string);
  'ok': (boolean);
}
