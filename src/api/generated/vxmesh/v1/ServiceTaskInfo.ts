// Original file: proto/vxmesh.proto


export interface ServiceTaskInfo {
  'endpointId'?: (string);
  'name'?: (string);
  'network'?: (string);
  'ipv4'?: (string);
  'ipv6'?: (string);
  'node'?: (string);
  '_ipv4'?: "ipv4";
  '_ipv6'?: "ipv6";
}

export interface ServiceTaskInfo__Output {
  'endpointId': (string);
  'name': (string);
  'network': (string);
  'ipv4'?: (string);
  'ipv6'?: (string);
  'node': (string);
}
