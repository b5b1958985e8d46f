// Original file: proto/vxmesh.proto

import type { ServiceVipInfo as _vxmesh_v1_ServiceVipInfo, ServiceVipInfo__Output as _vxmesh_v1_ServiceVipInfo__Output } from '../../vxmesh/v1/ServiceVipInfo.js';
import type { ServicePortInfo as _vxmesh_v1_ServicePortInfo, ServicePortInfo__Output as _vxmesh_v1_ServicePortInfo__Output } from '../../vxmesh/v1/ServicePortInfo.js';
import type { ServiceTaskInfo as _vxmesh_v1_ServiceTaskInfo, ServiceTaskInfo__Output as _vxmesh_v1_ServiceTaskInfo__Output } from '../../vxmesh/v1/ServiceTaskInfo.js';

export interface ServiceInfo {
  'id'?: (string);
  'name'?: (string);
  'endpointMode'?: (string);
  'affinity'?: (string);
  'networks'?: (string)[];
  'vips'?: (_vxmesh_v1_ServiceVipInfo)[];
  'ports'?: (_vxmesh_v1_ServicePortInfo)[];
  'labels'?: ({[key: string]: string});
  'tasks'?: (_vxmesh_v1_ServiceTaskInfo)[];
  'version'?: (number);
  'createdAt'?: (string);
}

export interface ServiceInfo__Output {
  'id': (string);
  'name': (string);
  'endpointMode': (string);
  'affinity': (string);
  'networks': (string)[];
  'vips': (_vxmesh_v1_ServiceVipInfo__Output)[];
  'ports': (_vxmesh_v1_ServicePortInfo__Output)[];
  'labels': ({[key: string]: string});
  'tasks': (_vxmesh_v1_ServiceTaskInfo__Output)[];
  'version': (number);
  'createdAt': (string);
}
