// Original file: proto/vxmesh.proto


export interface AttachRequest {
  'network'?: (string);
  'netns'?: (string);
  'name'?: (string);
  'aliases'?: (string)[];
  'ip'?: (string);
  'ipv6'?: (string);
  'mac'?: (string);
  'leaveInHost'?: (boolean);
  'labels'?: ({[key: string]: string});
  'preallocated'?: (boolean);
  'resolvConf'?: (string);
  'service'?: (string);
  '_netns'?: "netns";
  '_name'?: "name";
  '_ip'?: "ip";
  '_ipv6'?: "ipv6";
  '_mac'?: "mac";
  '_leaveInHost'?: "leaveInHost";
  '_preallocated'?: "preallocated";
  '_resolvConf'?: "resolvConf";
  '_service'?: "service";
}

export interface AttachRequest__Output {
  'network': (string);
  'netns'?: (string);
  'name'?: (string);
  'aliases': (string)[];
  'ip'?: (string);
  'ipv6'?: (string);
  'mac'?: (string);
  'leaveInHost'?: (boolean);
  'labels': ({[key: string]: string});
  'preallocated'?: (boolean);
  'resolvConf'?: (string);
  'service'?: (string);
}
