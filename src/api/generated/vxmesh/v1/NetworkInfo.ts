// Original file: proto/vxmesh.proto

import type { SubnetInfo as _vxmesh_v1_SubnetInfo, SubnetInfo__Output as _vxmesh_v1_SubnetInfo__Output } from '../../vxmesh/v1/SubnetInfo.js';

export interface NetworkInfo {
  'id'?: (string);
  'name'?: (string);
  'vni'?: (number);
  'mtu'?: (number);
  'internal'?: (boolean);
  'labels'?: ({[key: string]: string});
  'ipv4'?: (_vxmesh_v1_SubnetInfo | null);
  'ipv6'?: (_vxmesh_v1_SubnetInfo | null);
  'sandbox'?: (string);
  'endpointCount'?: (number);
  'createdAt'?: (string);
  'hosts'?: (string)[];
}

export interface NetworkInfo__Output {
  'id': (string);
  'name': (string);
  'vni': (number);
  'mtu': (number);
  'internal': (boolean);
  'labels': ({[key: string]: string});
  'ipv4': (_vxmesh_v1_SubnetInfo__Output | null);
  'ipv6': (_vxmesh_v1_SubnetInfo__Output | null);
  'sandbox': (string);
  'endpointCount': (number);
  'createdAt': (string);
  'hosts': (string)[];
}
