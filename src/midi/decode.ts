// Copyright 2026 the midisock authors. MIT license.

import type { Message } from "./message.ts";
import { MidiParser, type MidiParserOptions } from "./parser.ts";

/**
 * Parses a complete buffer of MIDI bytes into messages, with the rules of
 * {@linkcode MidiParser}. A message left incomplete at the end of the buffer
 * is dropped; use a MidiParser to keep parsing across buffers, or to count
 * what was skipped.
 *
 * @param bytes MIDI bytes.
 * @param options Parser options: running status and the sysex limit.
 * @returns The messages in the buffer, in order.
 *
 * @example Decoding a buffer
 * ```ts
 * import { decode } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decode(new Uint8Array([0xb0, 7, 100, 0xf8, 0xf0, 1, 2, 0xf7])), [
 *   { type: "control_change", channel: 0, control: 7, value: 100 },
 *   { type: "clock" },
 *   { type: "sysex", data: new Uint8Array([1, 2]) },
 * ]);
 * ```
 *
 * @example Parsing as mido does, without running status
 * ```ts
 * import { decode } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([0x90, 60, 100, 62, 100]);
 * assert.equal(decode(bytes).length, 2);
 * assert.equal(decode(bytes, { runningStatus: false }).length, 1);
 * ```
 */
export function decode(
  bytes: Uint8Array,
  options?: MidiParserOptions,
): Message[] {
  return new MidiParser(options).feed(bytes);
}
