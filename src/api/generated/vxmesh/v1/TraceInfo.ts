// Original file: proto/vxmesh.proto

import type { TraceHop as _vxmesh_v1_TraceHop, TraceHop__Output as _vxmesh_v1_TraceHop__Output } from '../../vxmesh/v1/TraceHop.js';

export interface TraceInfo {
  'endpoint'?: (string);
  'network'?: (string);
  'to'?: (string);
  'port'?: (number);
  'resolved'?: (string);
  'hops'?: (_vxmesh_v1_TraceHop)[];
  'ok'?: (boolean);
  '_port'?: "port";
  '_resolved'?: "resolved";
}

export interface TraceInfo__Output {
  'endpoint': (string);
  'network': (string);
  'to': (string);
  'port'?: (number);
  'resolved'?: (string);
  'hops': (_vxmesh_v1_TraceHop__Output)[];
  'ok': (boolean);
}
