// Original file: proto/vxmesh.proto


export interface PublishSpec {
  'publishedPort'?: (number);
  'targetPort'?: (number);
  'protocol'?: (string);
  'mode'?: (string);
  '_publishedPort'?: "publishedPort";
  '_protocol'?: "protocol";
  '_mode'?: "mode";
}

export interface PublishSpec__Output {
  'publishedPort'?: (number);
  'targetPort': (number);
  'protocol'?: (string);
  'mode'?: (string);
}
