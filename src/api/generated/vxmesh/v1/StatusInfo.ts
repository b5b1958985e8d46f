// Original file: proto/vxmesh.proto

import type { FeatureProbe as _vxmesh_v1_FeatureProbe, FeatureProbe__Output as _vxmesh_v1_FeatureProbe__Output } from '../../vxmesh/v1/FeatureProbe.js';
import type { GossipStatus as _vxmesh_v1_GossipStatus, GossipStatus__Output as _vxmesh_v1_GossipStatus__Output } from '../../vxmesh/v1/GossipStatus.js';
import type { StoreStatus as _vxmesh_v1_StoreStatus, StoreStatus__Output as _vxmesh_v1_StoreStatus__Output } from '../../vxmesh/v1/StoreStatus.js';
import type { Long } from '@grpc/proto-loader';

export interface StatusInfo {
  'version'?: (string);
  'advertiseAddr'?: (string);
  'dataDir'?: (string);
  'networks'?: (number);
  'endpoints'?: (number);
  'features'?: (_vxmesh_v1_FeatureProbe | null);
  'gossip'?: (_vxmesh_v1_GossipStatus | null);
  'store'?: (_vxmesh_v1_StoreStatus | null);
  'vxlanDropped'?: (number | string | Long);
  'loadBalancer'?: (string);
  'services'?: (number);
  '_gossip'?: "gossip";
  '_store'?: "store";
  '_vxlanDropped'?: "vxlanDropped";
  '_loadBalancer'?: "loadBalancer";
  '_services'?: "services";
}

export interface StatusInfo__Output {
  'version': (string);
  'advertiseAddr': (string);
  'dataDir': (string);
  'networks': (number);
  'endpoints': (number);
  'features': (_vxmesh_v1_FeatureProbe__Output | null);
  'gossip'?: (_vxmesh_v1_GossipStatus__Output | null);
  'store'?: (_vxmesh_v1_StoreStatus__Output | null);
  'vxlanDropped'?: (number);
  'loadBalancer'?: (string);
  'services'?: (number);
}
