// Original file: proto/vxmesh.proto


export interface GossipStatus {
  'node'?: (string);
  'addr'?: (string);
  'port'?: (number);
  'alive'?: (number);
  'members'?: (number);
  'encrypted'?: (boolean);
}

export interface GossipStatus__Output {
  'node': (string);
  'addr': (string);
  'port': (number);
  'alive': (number);
  'members': (number);
  'encrypted': (boolean);
}
