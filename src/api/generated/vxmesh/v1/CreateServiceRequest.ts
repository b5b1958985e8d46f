// Original file: proto/vxmesh.proto

import type { PublishSpec as _vxmesh_v1_PublishSpec, PublishSpec__Output as _vxmesh_v1_PublishSpec__Output } from '../../vxmesh/v1/PublishSpec.js';

export interface CreateServiceRequest {
  'name'?: (string);
  'networks'?: (string)[];
  'publish'?: (_vxmesh_v1_PublishSpec)[];
  'endpointMode'?: (string);
  'affinity'?: (string);
  'labels'?: ({[key: string]: string});
  '_endpointMode'?: "endpointMode";
  '_affinity'?: "affinity";
}

export interface CreateServiceRequest__Output {
  'name': (string);
  'networks': (string)[];
  'publish': (_vxmesh_v1_PublishSpec__Output)[];
  'endpointMode'?: (string);
  'affinity'?: (string);
  'labels': ({[key: string]: string});
}
