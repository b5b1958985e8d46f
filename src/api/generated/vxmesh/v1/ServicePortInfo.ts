// Original file: proto/vxmesh.proto


export interface ServicePortInfo {
  'protocol'?: (string);
  'targetPort'?: (number);
  'publishedPort'?: (number);
  'mode'?: (string);
}

export interface ServicePortInfo__Output {
  'protocol': (string);
  'targetPort': (number);
  'publishedPort': (number);
  'mode': (string);
}
