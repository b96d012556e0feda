// Copyright 2026 the midisock authors. MIT license.
// `midisock send --hex`: raw bytes in hex, checked to be whole MIDI messages.

import { encode } from "../midi/encode.ts";
import { message, type MessageType } from "../midi/message.ts";
import { MidiParser, type MidiParserOptions } from "../midi/parser.ts";
import { TYPES } from "../midi/specs.ts";

const HEX_WORD = /^[0-9a-fA-F]+$/;

/**
 * Parses bytes in hex, such as "90 3c 64" or "903c64", and checks that they
 * are whole MIDI messages (see {@linkcode checkWhole}).
 */
export function parseHex(text: string): Uint8Array {
  const hex = text.trim().split(/\s+/);
  for (const word of hex) {
    if (!HEX_WORD.test(word)) {
      throw new SyntaxError(
        `Cannot parse ${JSON.stringify(word)} in ${
          JSON.stringify(text)
        }: expected hex bytes, such as 90 3c 64`,
      );
    }
    if (word.length % 2 !== 0) {
      throw new SyntaxError(
        `Cannot parse ${JSON.stringify(word)} in ${
          JSON.stringify(text)
        }: expected two hex digits a byte`,
      );
    }
  }
  const digits = hex.join("");
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  }
  checkWhole(bytes, text);
  return bytes;
}

/** How checkWhole() parses: no running status, and no bound on a sysex. */
const WHOLE_PARSER: MidiParserOptions = {
  runningStatus: false,
  maxSysexBytes: Number.MAX_SAFE_INTEGER,
};

/**
 * Checks that `bytes` are whole MIDI messages, each with its own status
 * byte: every byte belongs to a message that MidiParser (without running
 * status) emits. Real-time bytes may stand anywhere, even inside another
 * message, as MIDI 1.0 allows.
 *
 * @throws {SyntaxError} For the first byte at fault: the end of the bytes or
 * a status byte inside an unfinished message, a data byte with no status
 * byte, an undefined status byte (F4, F5, F9, FD), or a stray F7.
 */
function checkWhole(bytes: Uint8Array, text: string): void {
  const parser = new MidiParser(WHOLE_PARSER);
  parser.feed(bytes);
  parser.end();
  if (parser.stats.skippedBytes === 0) return;

  // Something was skipped: feed the bytes again one at a time, to find the
  // first byte that the parser skipped or that cut a message short.
  const quoted = JSON.stringify(text);
  const scan = new MidiParser(WHOLE_PARSER);
  let status = 0; // the status byte of the last message begun
  let have = 0; // the data bytes it has
  const unfinished = () => {
    if (status === 0xf0) return "a sysex: no F7";
    const type = statusType(status);
    const missing = encode(message(type)).length - 1 - have;
    return `a ${type}: expected ${missing} more data ${
      missing === 1 ? "byte" : "bytes"
    }`;
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    const before = scan.stats;
    scan.feed(bytes.subarray(i, i + 1));
    const after = scan.stats;
    const at = `${quoted}: byte ${i + 1} (${b.toString(16).padStart(2, "0")})`;
    if (after.discardedMessages > before.discardedMessages) {
      throw new SyntaxError(`${at} cuts short ${unfinished()}`);
    }
    if (after.skippedBytes > before.skippedBytes) {
      if (b < 0x80) {
        throw new SyntaxError(
          `${at} is a data byte with no status byte before it (each message needs its own status byte)`,
        );
      }
      throw new SyntaxError(
        b === 0xf7 ? `${at} ends no sysex` : `${at} is undefined in MIDI 1.0`,
      );
    }
    if (b < 0x80) {
      have++;
    } else if (b < 0xf8) {
      status = b;
      have = 0;
    }
  }
  // Nothing was cut or skipped on the way: the last message is unfinished.
  throw new SyntaxError(`${quoted} ends inside ${unfinished()}`);
}

/** The type of message that a status byte (80..F6) begins. */
function statusType(status: number): MessageType {
  const key = status < 0xf0 ? status & 0xf0 : status;
  return Object.values(TYPES).find((spec) => spec.status === key)!
    .type as MessageType;
}
