// Original file: proto/vxmesh.proto

import type { PublishSpec as _vxmesh_v1_PublishSpec, PublishSpec__Output as _vxmesh_v1_PublishSpec__Output } from '../../vxmesh/v1/PublishSpec.js';

export interface UpdateServiceRequest {
  'service'?: (string);
  'publish'?: (_vxmesh_v1_PublishSpec)[];
  'setPublish'?: (boolean);
  'affinity'?: (string);
  'labels'?: ({[key: string]: string});
  'setLabels'?: (boolean);
  '_affinity'?: "affinity";
}

export interface UpdateServiceRequest__Output {
  'service': (string);
  'publish': (_vxmesh_v1_PublishSpec__Output)[];
  'setPublish': (boolean);
  'affinity'?: (string);
  'labels': ({[key: string]: string});
  'setLabels': (boolean);
}
