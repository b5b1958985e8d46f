// Errors meant for the user, with codes the API maps to gRPC status codes. Importable by every layer.

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'RESOURCE_EXHAUSTED'
  | 'INTERNAL';

/** An error meant for the user: `message` says what is wrong and, where possible, what to do. */
export class VxError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'VxError';
  }
}

/** The message of anything thrown, for logs and error texts. */
export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
