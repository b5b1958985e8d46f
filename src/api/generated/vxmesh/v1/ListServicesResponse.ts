// Original file: proto/vxmesh.proto

import type { ServiceInfo as _vxmesh_v1_ServiceInfo, ServiceInfo__Output as _vxmesh_v1_ServiceInfo__Output } from '../../vxmesh/v1/ServiceInfo.js';

export interface ListServicesResponse {
  'services'?: (_vxmesh_v1_ServiceInfo)[];
}

export interface ListServicesResponse__Output {
  'services': (_vxmesh_v1_ServiceInfo__Output)[];
}
