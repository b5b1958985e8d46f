// Original file: proto/vxmesh.proto


export interface FeatureProbe {
  'vxlan'?: (boolean);
  'nftables'?: (boolean);
  'ipvs'?: (boolean);
}

export interface FeatureProbe__Output {
  'vxlan': (boolean);
  'nftables': (boolean);
  'ipvs': (boolean);
}
