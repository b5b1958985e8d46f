// What a CLI command may touch: output streams and the environment; errors that decide exit codes.
//
// Errors: as text, "error: MESSAGE" lines on stderr. Under --json, one JSON object per error and line,
// also on stderr, so stdout only ever carries the result document:
//   {"error":{"code":"INVALID_ARGUMENT","message":"--subnet must not be empty ..."}}
// Warnings that do not stop a command come as {"warning":{"message":...}} lines, also on stderr.
// The exit status is the same in both forms: 0 ok, 1 the agent (or the work) failed, 2 bad command line.
import type { ErrorCode } from '../errors.js';

export interface TextSink {
  write(text: string): unknown;
}

export interface CliIo {
  stdout: TextSink;
  stderr: TextSink;
}

/** Bad command line: printed with the command's usage, exit status 2, code INVALID_ARGUMENT under --json. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The JSON form of an error; `extra` adds fields such as the node a key operation failed on. */
export function errorDocument(code: ErrorCode, message: string, extra: Record<string, string> = {}): { error: Record<string, string> } {
  return { error: { code, message, ...extra } };
}

/** One error on stderr, as text or as a JSON line. `hint` (usage help) is only printed as text. */
export function writeError(io: CliIo, json: boolean, code: ErrorCode, message: string, hint?: string): void {
  if (json) io.stderr.write(`${JSON.stringify(errorDocument(code, message))}\n`);
  else io.stderr.write(`error: ${message}\n${hint === undefined ? '' : `${hint}\n`}`);
}
