// Original file: proto/vxmesh.proto


export interface EndpointInfo {
  'id'?: (string);
  'network'?: (string);
  'networkId'?: (string);
  'name'?: (string);
  'aliases'?: (string)[];
  'netns'?: (string);
  'ipv4'?: (string);
  'ipv6'?: (string);
  'mac'?: (string);
  'ifName'?: (string);
  'gatewayIpv4'?: (string);
  'gatewayIpv6'?: (string);
  'labels'?: ({[key: string]: string});
  'createdAt'?: (string);
  'service'?: (string);
  '_ipv6'?: "ipv6";
  '_gatewayIpv4'?: "gatewayIpv4";
  '_gatewayIpv6'?: "gatewayIpv6";
  '_service'?: "service";
}

export interface EndpointInfo__Output {
  'id': (string);
  'network': (string);
  'networkId': (string);
  'name': (string);
  'aliases': (string)[];
  'netns': (string);
  'ipv4': (string);
  'ipv6'?: (string);
  'mac': (string);
  'ifName': (string);
  'gatewayIpv4'?: (string);
  'gatewayIpv6'?: (string);
  'labels': ({[key: string]: string});
  'createdAt': (string);
  'service'?: (string);
}
