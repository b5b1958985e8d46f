// Original file: proto/vxmesh.proto


export interface SubnetInfo {
  'subnet'?: (string);
  'gateway'?: (string);
  'ipRange'?: (string);
  'auxAddresses'?: ({[key: string]: string});
  '_ipRange'?: "ipRange";
}

export interface SubnetInfo__Output {
  'subnet': (string);
  'gateway': (string);
  'ipRange'?: (string);
  'auxAddresses': ({[key: string]: string});
}
