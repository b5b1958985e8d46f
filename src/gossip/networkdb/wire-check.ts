// Strict wire check of a protobuf message against its schema, before protobufjs decodes it.
// protobufjs's decoder trusts field wire types and throws plain RangeErrors; Go's generated
// Unmarshal (what Docker runs) rejects a known field with the wrong wire type, a field number 0,
// groups and truncation. This walk applies those rules, recursively into message fields, with
// messages that name the message and field.
import type { Type } from 'protobufjs';
import { ProtoDecodeError, ProtoReader, WIRE_BYTES, WIRE_VARINT, expectWireType } from './proto-wire.js';

const MAX_DEPTH = 8;
/** Fields protobufjs reads as a 32-bit varint: it takes 5 bytes, then assumes a 10-byte negative. */
function isVarint32(scalar: string): boolean {
  return scalar === 'int32' || scalar === 'uint32' || scalar === 'sint32' || scalar === 'bool';
}

export function checkWire(type: Type, buf: Uint8Array, depth = 0): void {
  if (depth > MAX_DEPTH) throw new ProtoDecodeError(`${type.name}: nested too deeply`);
  const r = new ProtoReader(buf);
  while (!r.done) {
    const h = r.header();
    const field = type.fieldsById[h.field];
    if (!field) {
      r.skip(h.wireType);
      continue;
    }
    const lengthDelimited = field.resolvedType !== null && 'fields' in field.resolvedType
      ? true
      : field.type === 'string' || field.type === 'bytes';
    if (!lengthDelimited) {
      expectWireType(h, WIRE_VARINT, type.name);
      const start = r.offset;
      r.varint();
      const len = r.offset - start;
      // Encoders write these in 1-5 bytes (10 for a negative int32); other lengths only come from
      // crafted input, which protobufjs would misread instead of rejecting.
      const is32 = field.resolvedType !== null || isVarint32(field.type);
      if (is32 && len > 5 && len < 10) {
        throw new ProtoDecodeError(`${type.name} field ${h.field}: ${len}-byte varint for a 32-bit value`);
      }
      continue;
    }
    expectWireType(h, WIRE_BYTES, type.name);
    const data = r.lengthDelimited();
    if (field.resolvedType !== null && 'fields' in field.resolvedType) checkWire(field.resolvedType as Type, data, depth + 1);
  }
}
