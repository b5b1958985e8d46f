// Original file: proto/vxmesh.proto


export interface ServiceVipInfo {
  'network'?: (string);
  'networkId'?: (string);
  'ipv4'?: (string);
  'ipv6'?: (string);
  '_ipv4'?: "ipv4";
  '_ipv6'?: "ipv6";
}

export interface ServiceVipInfo__Output {
  'network': (string);
  'networkId': (string);
  'ipv4'?: (string);
  'ipv6'?: (string);
}
