// Original file: proto/vxmesh.proto

import type { GossipKeyFailure as _vxmesh_v1_GossipKeyFailure, GossipKeyFailure__Output as _vxmesh_v1_GossipKeyFailure__Output } from '../../vxmesh/v1/GossipKeyFailure.js';

export interface GossipKeyResponse {
  'keys'?: (string)[];
  'primary'?: (string);
  'nodes'?: (number);
  'failed'?: (_vxmesh_v1_GossipKeyFailure)[];
}

export interface GossipKeyResponse__Output {
  'keys': (string)[];
  'primary': (string);
  'nodes': (number);
  'failed': (_vxmesh_v1_GossipKeyFailure__Output)[];
}
