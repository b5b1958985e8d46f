// Original file: proto/vxmesh.proto

import type { NetworkInfo as _vxmesh_v1_NetworkInfo, NetworkInfo__Output as _vxmesh_v1_NetworkInfo__Output } from '../../vxmesh/v1/NetworkInfo.js';

export interface ListNetworksResponse {
  'networks'?: (_vxmesh_v1_NetworkInfo)[];
}

export interface ListNetworksResponse__Output {
  'networks': (_vxmesh_v1_NetworkInfo__Output)[];
}
