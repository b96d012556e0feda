// Copyright 2026 the midisock authors. MIT license.
// Private: the encoder's hot path. Checks a message and writes its bytes.

import { TYPES } from "./specs.ts";
import { TRUSTED, validate } from "./_validate.ts";

/** Throws the precise validation error for a message that failed a check. */
function invalid(msg: unknown): never {
  validate(msg);
  // validate() found nothing wrong: the fast path disagrees, which is a bug.
  throw new TypeError(`Cannot encode message: ${JSON.stringify(msg)}`);
}

// The number of own enumerable keys, without allocating.
function keyCount(obj: object): number {
  let n = 0;
  for (const _ in obj) n++;
  return n;
}

/** 7-bit value or default, or -1 if bad. */
function u7(v: unknown, def: number): number {
  if (v === undefined) return def;
  return typeof v === "number" && (v & 0x7f) === v ? v : -1;
}

function int(v: unknown, min: number, max: number): number {
  if (v === undefined) return 0;
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max
    ? v
    : NaN;
}

/**
 * Checks that an object has no key but its type's fields, type and time, and
 * that its time is good. Absent fields take their defaults.
 */
function checkShape(m: Record<string, unknown>, type: string): boolean {
  const t = m.time;
  let expected = 1;
  if (t !== undefined) {
    if (typeof t !== "number" || !Number.isFinite(t)) return false;
    expected++;
  } else if ("time" in m) {
    expected++;
  }
  const names = TYPES[type].fields;
  for (let i = 0; i < names.length; i++) {
    if (names[i] in m) expected++;
  }
  return keyCount(m) === expected;
}

/**
 * The number of bytes that `msg` encodes to. Throws the validation error if
 * `msg` is not a valid message.
 */
export function encodedLength(msg: unknown): number {
  if (typeof msg !== "object" || msg === null) invalid(msg);
  const type = (msg as { type?: unknown }).type;
  switch (type) {
    case "note_off":
    case "note_on":
    case "polytouch":
    case "control_change":
    case "pitchwheel":
    case "songpos":
      return 3;
    case "program_change":
    case "aftertouch":
    case "quarter_frame":
    case "song_select":
      return 2;
    case "sysex": {
      const data = (msg as { data?: ArrayLike<number> }).data;
      if (data === undefined) return 2;
      if (typeof data !== "object" || data === null) invalid(msg);
      return data.length + 2;
    }
    case "tune_request":
    case "clock":
    case "start":
    case "continue":
    case "stop":
    case "active_sensing":
    case "reset":
      return 1;
    default:
      invalid(msg);
  }
}

/**
 * Checks `msg` and writes its bytes into `buf` at `offset`, which must have
 * room for {@linkcode encodedLength} bytes. Returns the offset after the
 * message. On a bad message it throws before it writes anything that counts:
 * the caller's offset does not move.
 */
export function encodeInto(
  msg: unknown,
  buf: Uint8Array,
  offset: number,
): number {
  const m = msg as Record<string, unknown>;
  const type = m.type as string;
  switch (type) {
    case "note_off":
    case "note_on":
    case "polytouch":
    case "control_change": {
      if (TRUSTED.has(m)) {
        buf[offset] = TYPES[type].status | (m.channel as number);
        buf[offset + 1] =
          (type === "control_change" ? m.control : m.note) as number;
        buf[offset + 2] = (type === "note_on" || type === "note_off"
          ? m.velocity
          : m.value) as number;
        return offset + 3;
      }
      const ch = u7(m.channel, 0);
      const a = u7(type === "control_change" ? m.control : m.note, 0);
      const b = u7(
        type === "polytouch" || type === "control_change"
          ? m.value
          : m.velocity,
        type === "polytouch" || type === "control_change" ? 0 : 64,
      );
      if (ch < 0 || ch > 15 || a < 0 || b < 0 || !checkShape(m, type)) {
        invalid(msg);
      }
      buf[offset] = TYPES[type].status | ch;
      buf[offset + 1] = a;
      buf[offset + 2] = b;
      return offset + 3;
    }
    case "program_change":
    case "aftertouch": {
      const ch = u7(m.channel, 0);
      const a = u7(type === "aftertouch" ? m.value : m.program, 0);
      if (ch < 0 || ch > 15 || a < 0 || !checkShape(m, type)) invalid(msg);
      buf[offset] = TYPES[type].status | ch;
      buf[offset + 1] = a;
      return offset + 2;
    }
    case "pitchwheel": {
      const ch = u7(m.channel, 0);
      const pitch = int(m.pitch, -8192, 8191);
      if (ch < 0 || ch > 15 || pitch !== pitch || !checkShape(m, type)) {
        invalid(msg);
      }
      const v = pitch + 8192;
      buf[offset] = 0xe0 | ch;
      buf[offset + 1] = v & 0x7f;
      buf[offset + 2] = v >> 7;
      return offset + 3;
    }
    case "sysex": {
      if (!checkShape(m, type)) invalid(msg);
      const data = m.data as ArrayLike<number> | undefined;
      buf[offset] = 0xf0;
      let o = offset + 1;
      if (data !== undefined) {
        if (data instanceof Uint8Array) {
          for (let i = 0; i < data.length; i++) {
            if (data[i] > 0x7f) invalid(msg);
          }
          buf.set(data, o);
          o += data.length;
        } else {
          if (typeof data !== "object" || data === null) invalid(msg);
          for (let i = 0; i < data.length; i++) {
            const b = data[i];
            if (typeof b !== "number" || (b & 0x7f) !== b) invalid(msg);
            buf[o++] = b;
          }
        }
      }
      buf[o] = 0xf7;
      return o + 1;
    }
    case "quarter_frame": {
      const ft = int(m.frameType, 0, 7);
      const fv = int(m.frameValue, 0, 15);
      if (ft !== ft || fv !== fv || !checkShape(m, type)) invalid(msg);
      buf[offset] = 0xf1;
      buf[offset + 1] = (ft << 4) | fv;
      return offset + 2;
    }
    case "songpos": {
      const pos = int(m.pos, 0, 16383);
      if (pos !== pos || !checkShape(m, type)) invalid(msg);
      buf[offset] = 0xf2;
      buf[offset + 1] = pos & 0x7f;
      buf[offset + 2] = pos >> 7;
      return offset + 3;
    }
    case "song_select": {
      const song = u7(m.song, 0);
      if (song < 0 || !checkShape(m, type)) invalid(msg);
      buf[offset] = 0xf3;
      buf[offset + 1] = song;
      return offset + 2;
    }
    case "tune_request":
    case "clock":
    case "start":
    case "continue":
    case "stop":
    case "active_sensing":
    case "reset":
      if (!checkShape(m, type)) invalid(msg);
      buf[offset] = TYPES[type].status;
      return offset + 1;
    default:
      invalid(msg);
  }
}

/**
 * The bytes of several messages, one after another, in one buffer. Throws
 * the validation error of the first bad message.
 */
export function encodeAll(messages: readonly unknown[]): Uint8Array {
  let length = 0;
  for (const msg of messages) length += encodedLength(msg);
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const msg of messages) offset = encodeInto(msg, bytes, offset);
  return bytes;
}
