// Edge validation of the JSON bodies dockerd sends: shapes only, each error says which field is wrong.

/** A malformed request: answered with HTTP 400 and {"Err": message}. */
export class BadRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequest';
  }
}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The request body as an object; `null` (an empty body) only where allowEmpty. */
export function bodyObject(method: string, body: unknown): Json {
  if (!isObject(body)) {
    throw new BadRequest(`${method}: the request body must be a JSON object, got ${describe(body)}`);
  }
  return body;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `the string "${value.slice(0, 40)}"` : typeof value;
}

export function requiredString(method: string, body: Json, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value === '') {
    throw new BadRequest(`${method}: field ${key} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

/** A string field that may be absent, null or "" (all mean "not given"). */
export function optionalString(method: string, body: Json, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new BadRequest(`${method}: field ${key} must be a string, got ${describe(value)}`);
  return value;
}

export function optionalBool(method: string, body: Json, key: string): boolean {
  const value = body[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new BadRequest(`${method}: field ${key} must be true or false, got ${describe(value)}`);
  return value;
}

export function optionalObject(method: string, body: Json, key: string): Json {
  const value = body[key];
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new BadRequest(`${method}: field ${key} must be an object, got ${describe(value)}`);
  return value;
}

export function optionalArray(method: string, body: Json, key: string): unknown[] {
  const value = body[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new BadRequest(`${method}: field ${key} must be an array, got ${describe(value)}`);
  return value;
}

/** A map of string values (e.g. AuxAddresses, --opt values). */
export function stringMap(method: string, body: Json, key: string): Record<string, string> {
  const obj = optionalObject(method, body, key);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== 'string') throw new BadRequest(`${method}: ${key}.${k} must be a string, got ${describe(v)}`);
    out[k] = v;
  }
  return out;
}

/** Docker object ids are hex strings (64 characters from dockerd; accept any plain id). */
const DOCKER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export function dockerId(method: string, body: Json, key: string): string {
  const id = requiredString(method, body, key);
  if (!DOCKER_ID_RE.test(id)) throw new BadRequest(`${method}: field ${key} "${id.slice(0, 40)}" is not a docker id`);
  return id;
}

/** "10.0.0.1/24" -> "10.0.0.1"; a bare address is returned as it is. */
export function stripPrefixLength(address: string): string {
  const slash = address.indexOf('/');
  return slash < 0 ? address : address.slice(0, slash);
}
