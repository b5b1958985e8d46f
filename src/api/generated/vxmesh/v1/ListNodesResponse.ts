// Original file: proto/vxmesh.proto

import type { GossipNode as _vxmesh_v1_GossipNode, GossipNode__Output as _vxmesh_v1_GossipNode__Output } from '../../vxmesh/v1/GossipNode.js';

export interface ListNodesResponse {
  'nodes'?: (_vxmesh_v1_GossipNode)[];
}

export interface ListNodesResponse__Output {
  'nodes': (_vxmesh_v1_GossipNode__Output)[];
}
