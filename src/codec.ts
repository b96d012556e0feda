// Copyright 2026 the midisock authors. MIT license.

import { encodedLength, encodeInto } from "./_encode_into.ts";
import { grow } from "./_grow.ts";
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

// How many microtask turns with no new message the encoder waits before it
// lets a chunk go. A pipeTo() moves each chunk through a few microtask turns,
// so this lets a burst from a pipe coalesce, while a lone message waits only
// a few turns (about a microsecond), not a timer. Fewer turns cut a piped
// burst into many small chunks: on loopback, 3 turns halve the throughput of
// a port's writable, while 32 and 64 do no better than each other.
const IDLE_TURNS = 32;

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
    const batch = new _Batch(max);
    super({
      start(controller) {
        batch.controller = controller;
      },
      transform(msg) {
        batch.add(msg);
      },
      flush() {
        batch.flush();
      },
    }, {
      // Writers wait while 1024 messages are queued. The queue holds the
      // writers' own objects, so a count bounds it as well as bytes would,
      // and it saves a size() call a message.
      highWaterMark: 1024,
    });
  }
}

/** The encoder's pending chunk, and the microtask turns that let it go. */
class _Batch {
  controller: TransformStreamDefaultController<Uint8Array> | undefined;
  #max: number;
  #buf: Uint8Array;
  #len = 0;
  #scheduled = false;
  #arrived = false;
  #idle = 0;

  constructor(max: number) {
    this.#max = max;
    this.#buf = new Uint8Array(0); // grown with the first burst
  }

  add(msg: Message): void {
    try {
      this.#add(msg);
    } catch (error) {
      // A bad message: the good ones before it go before the stream errors.
      this.flush();
      throw error;
    }
  }

  #add(msg: Message): void {
    const n = encodedLength(msg);
    if (this.#len + n > this.#max) this.flush(); // a full chunk goes first
    if (n > this.#max) {
      const big = new Uint8Array(n);
      encodeInto(msg, big, 0);
      this.controller!.enqueue(big);
      return;
    }
    // The batch buffer grows with the burst, up to maxChunkBytes. A bad
    // message throws before #len moves, so its bytes never count.
    this.#buf = grow(this.#buf, this.#len, n, 256, this.#max);
    this.#len = encodeInto(msg, this.#buf, this.#len);
    this.#arrived = true;
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#idle = 0;
      queueMicrotask(this.#tick);
    }
  }

  #tick = (): void => {
    if (this.#len === 0) {
      this.#scheduled = false;
      return;
    }
    if (this.#arrived) {
      this.#arrived = false;
      this.#idle = 0;
      queueMicrotask(this.#tick);
      return;
    }
    if (++this.#idle < IDLE_TURNS) {
      queueMicrotask(this.#tick);
      return;
    }
    this.#scheduled = false;
    try {
      this.flush();
    } catch {
      // The stream was cancelled or errored: there is no one to deliver to.
      this.#len = 0;
    }
  };

  flush(): void {
    if (this.#len === 0) return;
    const chunk = this.#buf.slice(0, this.#len);
    this.#len = 0;
    this.#arrived = false;
    this.controller!.enqueue(chunk);
  }
}
