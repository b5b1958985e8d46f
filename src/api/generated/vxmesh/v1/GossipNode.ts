// Original file: proto/vxmesh.proto


export interface GossipNode {
  'name'?: (string);
  'addr'?: (string);
  'port'?: (number);
  'state'?: (string);
  'self'?: (boolean);
}

export interface GossipNode__Output {
  'name': (string);
  'addr': (string);
  'port': (number);
  'state': (string);
  'self': (boolean);
}
