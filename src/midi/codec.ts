// Copyright 2026 the midisock authors. MIT license.

import { batchTransformer, IDLE_TURNS } from "./_batch.ts";
import type { Message } from "./message.ts";
import {
  MidiParser,
  type MidiParserOptions,
  type MidiParserStats,
} from "./parser.ts";

/** Options for {@linkcode MidiDecoderStream}: the parser's options. */
export type MidiDecoderStreamOptions = MidiParserOptions;

/**
 * Turns a stream of MIDI bytes, split anyhow, into a stream of messages, with
 * the rules of {@linkcode MidiParser}. Garbage never errors the stream: it is
 * skipped and counted in {@linkcode MidiDecoderStream.stats}.
 *
 * @example Decoding a byte stream
 * ```ts
 * import { MidiDecoderStream } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const bytes = ReadableStream.from([
 *   new Uint8Array([0x90, 60]),
 *   new Uint8Array([100, 0xfa]),
 * ]);
 * const messages = await Array.fromAsync(bytes.pipeThrough(new MidiDecoderStream()));
 * assert.deepEqual(messages, [
 *   { type: "note_on", channel: 0, note: 60, velocity: 100 },
 *   { type: "start" },
 * ]);
 * ```
 */
export class MidiDecoderStream extends TransformStream<Uint8Array, Message> {
  #parser: MidiParser;

  /**
   * Makes a decoder.
   *
   * @param options Parser options: running status and the sysex limit.
   */
  constructor(options: MidiDecoderStreamOptions = {}) {
    const parser = new MidiParser(options);
    super({
      transform(chunk, controller) {
        const messages = parser.feed(chunk);
        for (let i = 0; i < messages.length; i++) {
          controller.enqueue(messages[i]);
        }
      },
      flush() {
        parser.end();
      },
    });
    this.#parser = parser;
  }

  /**
   * What the parser has counted so far: messages, skipped bytes, discarded
   * and oversized messages.
   *
   * @example Counting garbage
   * ```ts
   * import { MidiDecoderStream } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const decoder = new MidiDecoderStream();
   * const out = ReadableStream.from([new Uint8Array([1, 2, 3, 0xf8])])
   *   .pipeThrough(decoder);
   * assert.deepEqual(await Array.fromAsync(out), [{ type: "clock" }]);
   * assert.equal(decoder.stats.skippedBytes, 3);
   * ```
   */
  get stats(): MidiParserStats {
    return this.#parser.stats;
  }
}

/** Options for {@linkcode MidiEncoderStream}. */
export interface MidiEncoderStreamOptions {
  /**
   * The most bytes that the encoder gathers into one chunk before it lets the
   * chunk go. A single larger message (a big sysex) is a chunk of its own.
   *
   * @default {65536}
   */
  maxChunkBytes?: number;
}

/**
 * Turns a stream of messages into a stream of MIDI bytes, each message as its
 * complete bytes (no running status), exactly as mido's `msg.bin()`.
 *
 * Messages that arrive together are coalesced into one chunk, so a burst is
 * one socket write and not hundreds. A chunk goes out as soon as the messages
 * stop coming: after a few microtask turns, never after a timer.
 *
 * A hand-written message is checked as {@linkcode message} checks it. A bad
 * message errors the stream with that TypeError or RangeError, and none of
 * its bytes are written; the messages before it are let go first.
 *
 * @example Encoding a burst into one chunk
 * ```ts
 * import { message, MidiEncoderStream } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const messages = ReadableStream.from([
 *   message("note_on", { note: 60 }),
 *   message("note_on", { note: 64 }),
 *   message("note_on", { note: 67 }),
 * ]);
 * const chunks = await Array.fromAsync(messages.pipeThrough(new MidiEncoderStream()));
 * assert.deepEqual(chunks, [
 *   new Uint8Array([0x90, 60, 64, 0x90, 64, 64, 0x90, 67, 64]),
 * ]);
 * ```
 */
export class MidiEncoderStream extends TransformStream<Message, Uint8Array> {
  /**
   * Makes an encoder.
   *
   * @param options Chunk size.
   * @throws {RangeError} For a `maxChunkBytes` that is not an integer of at
   * least 16.
   */
  constructor(options: MidiEncoderStreamOptions = {}) {
    const max = options.maxChunkBytes ?? 65536;
    if (!Number.isInteger(max) || max < 16) {
      throw new RangeError(
        `Invalid maxChunkBytes option: expected an integer of at least 16, got ${max}`,
      );
    }
    super(batchTransformer(max, IDLE_TURNS), {
      // Writers wait while 1024 messages are queued. The queue holds the
      // writers' own objects, so a count bounds it as well as bytes would,
      // and it saves a size() call a message.
      highWaterMark: 1024,
    });
  }
}
