// Original file: proto/vxmesh.proto


export interface GossipKeyRequest {
  'op'?: (string);
  'key'?: (string);
  '_key'?: "key";
}

export interface GossipKeyRequest__Output {
  'op': (string);
  'key'?: (string);
}
