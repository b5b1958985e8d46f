// Original file: proto/vxmesh.proto

import type { DoctorCheckResult as _vxmesh_v1_DoctorCheckResult, DoctorCheckResult__Output as _vxmesh_v1_DoctorCheckResult__Output } from '../../vxmesh/v1/DoctorCheckResult.js';

export interface DoctorReport {
  'ok'?: (boolean);
  'checks'?: (_vxmesh_v1_DoctorCheckResult)[];
}

export interface DoctorReport__Output {
  'ok': (boolean);
  'checks': (_vxmesh_v1_DoctorCheckResult__Output)[];
}
