// Copyright 2026 the midisock authors. MIT license.
// Private: builds and checks message objects, for message() and the encoder.

import { describeRange, describeValue, FIELDS, TYPES } from "./specs.ts";

function typeName(type: unknown): string {
  return typeof type === "string" ? type : describeValue(type);
}

/**
 * Messages known to be valid: built by message() or parseMessage(), and
 * frozen, so their fields cannot change. (The parser does not add its
 * messages: a WeakSet entry costs more than checking them again.) The encoder skips checking their
 * fields (but not a sysex's data bytes, which a Uint8Array leaves mutable).
 */
export const TRUSTED: WeakSet<object> = new WeakSet();

/** Throws unless `type` is one of the 18 message types. */
export function checkType(type: unknown): void {
  if (typeof type !== "string" || !Object.hasOwn(TYPES, type)) {
    throw new TypeError(
      `Unknown message type ${
        typeof type === "string" ? JSON.stringify(type) : describeValue(type)
      }: expected one of ${Object.keys(TYPES).join(", ")}`,
    );
  }
}

/**
 * Checks one numeric field. Returns the value, or the default when it is
 * undefined.
 */
export function checkField(type: string, name: string, value: unknown): number {
  const spec = FIELDS[name];
  if (value === undefined) return spec.default;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new TypeError(
      `Invalid ${type} ${name}: expected an integer in ${
        describeRange(spec)
      }, got ${describeValue(value)}`,
    );
  }
  if (value < spec.min || value > spec.max) {
    throw new RangeError(
      `Invalid ${type} ${name}: expected an integer in ${
        describeRange(spec)
      }, got ${value}`,
    );
  }
  return value;
}

/** Checks sysex data and returns a private copy as a Uint8Array. */
export function checkData(type: string, value: unknown): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  if (
    typeof value !== "object" || value === null ||
    typeof (value as ArrayLike<number>).length !== "number"
  ) {
    throw new TypeError(
      `Invalid ${type} data: expected a Uint8Array or an array of integers in 0..127, got ${
        describeValue(value)
      }`,
    );
  }
  const input = value as ArrayLike<unknown>;
  const data = new Uint8Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const byte = input[i];
    if (typeof byte !== "number" || !Number.isInteger(byte)) {
      throw new TypeError(
        `Invalid ${type} data[${i}]: expected an integer in 0..127, got ${
          describeValue(byte)
        }`,
      );
    }
    if (byte < 0 || byte > 127) {
      throw new RangeError(
        `Invalid ${type} data[${i}]: expected an integer in 0..127, got ${byte}`,
      );
    }
    data[i] = byte;
  }
  return data;
}

/** Checks the optional time field. */
export function checkTime(type: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number") {
    throw new TypeError(
      `Invalid ${type} time: expected a number, got ${describeValue(value)}`,
    );
  }
  if (!Number.isFinite(value)) {
    throw new RangeError(
      `Invalid ${type} time: expected a finite number, got ${value}`,
    );
  }
  return value;
}

/** Throws if `fields` has a key that `type` does not have. */
export function checkKeys(
  type: string,
  fields: object,
  allowType: boolean,
): void {
  const spec = TYPES[type];
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    if (key === "time" || (allowType && key === "type")) continue;
    if (!spec.fields.includes(key)) {
      const allowed = spec.fields.length === 0
        ? "it has no fields but time"
        : `its fields are ${spec.fields.join(", ")} and time`;
      throw new TypeError(
        `Unknown ${type} field ${JSON.stringify(key)}: ${allowed}`,
      );
    }
  }
}

/**
 * Builds a frozen message of `type` from `fields`, filling mido's defaults.
 * Every field is checked.
 */
export function build(type: unknown, fields: object | undefined): object {
  checkType(type);
  const name = type as string;
  if (fields !== undefined && (typeof fields !== "object" || fields === null)) {
    throw new TypeError(
      `Invalid ${name} fields: expected an object, got ${
        describeValue(fields)
      }`,
    );
  }
  const input = (fields ?? {}) as Record<string, unknown>;
  // A copy of a message, `{ ...msg, note: 5 }`, may carry its own type.
  if (input.type !== undefined && input.type !== name) {
    throw new TypeError(
      `Invalid ${name} fields: they have type ${
        describeValue(input.type)
      }, expected ${JSON.stringify(name)} or none`,
    );
  }
  checkKeys(name, input, true);
  const out: Record<string, unknown> = { type: name };
  for (const f of TYPES[name].fields) {
    out[f] = f === "data"
      ? checkData(name, input.data)
      : checkField(name, f, input[f]);
  }
  const time = checkTime(name, input.time);
  if (time !== undefined) out.time = time;
  const msg = Object.freeze(out);
  TRUSTED.add(msg);
  return msg;
}

/**
 * Checks a message object that may have been written by hand. Throws the same
 * errors as {@linkcode build}. Missing fields take their defaults when encoded.
 */
export function validate(msg: unknown): void {
  if (typeof msg !== "object" || msg === null) {
    throw new TypeError(
      `Invalid message: expected an object with a type, got ${
        describeValue(msg)
      }`,
    );
  }
  const m = msg as Record<string, unknown>;
  const type = m.type;
  checkType(type);
  const name = typeName(type);
  checkKeys(name, m, true);
  for (const f of TYPES[name].fields) {
    if (f === "data") {
      if (m.data !== undefined) checkData(name, m.data);
    } else {
      checkField(name, f, m[f]);
    }
  }
  checkTime(name, m.time);
}
