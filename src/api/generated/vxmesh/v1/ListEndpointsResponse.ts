// Original file: proto/vxmesh.proto

import type { EndpointInfo as _vxmesh_v1_EndpointInfo, EndpointInfo__Output as _vxmesh_v1_EndpointInfo__Output } from '../../vxmesh/v1/EndpointInfo.js';

export interface ListEndpointsResponse {
  'endpoints'?: (_vxmesh_v1_EndpointInfo)[];
}

export interface ListEndpointsResponse__Output {
  'endpoints': (_vxmesh_v1_EndpointInfo__Output)[];
}
