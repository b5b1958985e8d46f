// Original file: proto/vxmesh.proto


export interface DoctorCheckResult {
  'check'?: (string);
  'subject'?: (string);
  'ok'?: (boolean);
  'detail'?: (string);
  'fix'?: (string);
  '_subject'?: "subject";
  '_fix'?: "fix";
}

export interface DoctorCheckResult__Output {
  'check': (string);
  'subject'?: (string);
  'ok': (boolean);
  'detail': (string);
  'fix'?: (string);
}
