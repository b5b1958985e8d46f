// Original file: proto/vxmesh.proto


export interface GossipKeyFailure {
  'node'?: (string);
  'error'?: (string);
}

export interface GossipKeyFailure__Output {
  'node': (string);
  'error': (string);
}
