// Original file: proto/vxmesh.proto


export interface CreateNetworkRequest {
  'name'?: (string);
  'subnet'?: (string);
  'gateway'?: (string);
  'ipRange'?: (string);
  'auxAddresses'?: ({[key: string]: string});
  'ipv6'?: (boolean);
  'subnetV6'?: (string);
  'gatewayV6'?: (string);
  'ipRangeV6'?: (string);
  'mtu'?: (number);
  'internal'?: (boolean);
  'labels'?: ({[key: string]: string});
  'ipv4PoolId'?: (string);
  'ipv6PoolId'?: (string);
  '_subnet'?: "subnet";
  '_gateway'?: "gateway";
  '_ipRange'?: "ipRange";
  '_ipv6'?: "ipv6";
  '_subnetV6'?: "subnetV6";
  '_gatewayV6'?: "gatewayV6";
  '_ipRangeV6'?: "ipRangeV6";
  '_mtu'?: "mtu";
  '_internal'?: "internal";
  '_ipv4PoolId'?: "ipv4PoolId";
  '_ipv6PoolId'?: "ipv6PoolId";
}

export interface CreateNetworkRequest__Output {
  'name': (string);
  'subnet'?: (string);
  'gateway'?: (string);
  'ipRange'?: (string);
  'auxAddresses': ({[key: string]: string});
  'ipv6'?: (boolean);
  'subnetV6'?: (string);
  'gatewayV6'?: (string);
  'ipRangeV6'?: (string);
  'mtu'?: (number);
  'internal'?: (boolean);
  'labels': ({[key: string]: string});
  'ipv4PoolId'?: (string);
  'ipv6PoolId'?: (string);
}
