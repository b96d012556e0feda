// Copyright 2026 the midisock authors. MIT license.

import { encodedLength, encodeInto } from "./encode_into.ts";
import type { Message } from "./message.ts";

/**
 * Encodes a message as its complete MIDI bytes, exactly as mido's
 * `msg.bin()` does. It never uses running status.
 *
 * A hand-written message object is checked first, with the same errors as
 * {@linkcode message}. Missing fields take mido's defaults. The `time` field
 * is never encoded.
 *
 * @param msg The message to encode.
 * @returns A new Uint8Array with the message's bytes.
 * @throws {TypeError} For an unknown type or field, or a non-integer value.
 * @throws {RangeError} For a value out of range.
 *
 * @example Encoding a note and a pitch bend
 * ```ts
 * import { encode, message } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   encode(message("note_on", { channel: 1, note: 60, velocity: 100 })),
 *   new Uint8Array([0x91, 60, 100]),
 * );
 * assert.deepEqual(
 *   encode({ type: "pitchwheel", channel: 0, pitch: 8191 }),
 *   new Uint8Array([0xe0, 0x7f, 0x7f]),
 * );
 * ```
 */
export function encode(msg: Message): Uint8Array {
  const out = new Uint8Array(encodedLength(msg));
  encodeInto(msg, out, 0);
  return out;
}
