// Mapping between the agent's VxError codes and gRPC status codes, in both directions.
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { ErrorCode } from '../errors.js';

const TO_GRPC: Record<ErrorCode, GrpcStatus> = {
  INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
  NOT_FOUND: GrpcStatus.NOT_FOUND,
  ALREADY_EXISTS: GrpcStatus.ALREADY_EXISTS,
  FAILED_PRECONDITION: GrpcStatus.FAILED_PRECONDITION,
  RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
  INTERNAL: GrpcStatus.INTERNAL,
};

export function errorCodeToGrpc(code: ErrorCode): GrpcStatus {
  return TO_GRPC[code];
}

/** gRPC status -> VxError code; statuses the agent never sends map to INTERNAL. */
export function grpcToErrorCode(code: GrpcStatus): ErrorCode {
  for (const [errorCode, grpcCode] of Object.entries(TO_GRPC)) {
    if (grpcCode === code) return errorCode as ErrorCode;
  }
  return 'INTERNAL';
}
