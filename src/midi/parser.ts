// Copyright 2026 the midisock authors. MIT license.

import type { Message } from "./message.ts";

/** Options for {@linkcode MidiParser}. */
export interface MidiParserOptions {
  /**
   * Accept running status: data bytes after a complete channel message repeat
   * its status. mido does not; set this to `false` to parse as mido does.
   *
   * @default {true}
   */
  runningStatus?: boolean;
  /**
   * The largest sysex, counted in data bytes between F0 and F7, that the
   * parser will keep. A longer sysex is discarded whole and counted in
   * {@linkcode MidiParserStats.oversizedSysex}. This bounds the parser's
   * memory, whatever the input. Any integer from 0 to
   * `Number.MAX_SAFE_INTEGER` is taken; the largest means no bound but
   * memory.
   *
   * @default {1048576}
   */
  maxSysexBytes?: number;
}

/**
 * Counters of what a {@linkcode MidiParser} has seen. Every byte that did not
 * become part of a message is counted in `skippedBytes`.
 */
export interface MidiParserStats {
  /** Messages emitted. */
  messages: number;
  /**
   * Bytes that made no message: data bytes with no status, undefined status
   * bytes (F4, F5, F9, FD), stray F7 bytes, and the bytes of discarded and
   * oversized messages.
   */
  skippedBytes: number;
  /**
   * Messages cut short by a status byte (or by the end of the stream), and
   * so discarded.
   */
  discardedMessages: number;
  /** Sysex messages discarded because they were over `maxSysexBytes`. */
  oversizedSysex: number;
}

const IDLE = 0; // no message in progress
const CHANNEL = 1; // a channel or system common message with data to come
const SYSEX = 2; // inside F0 ... F7
const SKIP = 3; // inside an oversized sysex, skipping to the next status

const DEFAULT_MAX_SYSEX = 1024 * 1024;
const INITIAL_SYSEX_CAPACITY = 256;
// A sysex buffer that grew past this is let go once its message is done.
const RETAINED_SYSEX_CAPACITY = 64 * 1024;
// A sysex buffer grows by copying up to this size, and in place beyond it.
const SMALL_SYSEX_CAPACITY = 16 * 1024;
// The most address space that a sysex buffer that grows in place reserves
// (its maxByteLength; the memory is taken as it grows). V8 refuses a
// reservation of 2^46 bytes on x86-64 Linux, and one of
// Number.MAX_SAFE_INTEGER outright ("Invalid array buffer max length");
// and each big sysex in progress holds one. So maxSysexBytes is clamped to
// this where the buffer is made. A sysex that grows past it is copied into
// a buffer twice as big, and so on, up to maxSysexBytes.
const MAX_SYSEX_RESERVATION = 64 * 1024 * 1024;

function realtime(type: Message["type"]): Message {
  return Object.freeze({ type }) as Message;
}

// Real-time messages have no fields, so one frozen object each is shared.
const REALTIME: (Message | undefined)[] = [];
REALTIME[0xf8] = realtime("clock");
REALTIME[0xfa] = realtime("start");
REALTIME[0xfb] = realtime("continue");
REALTIME[0xfc] = realtime("stop");
REALTIME[0xfe] = realtime("active_sensing");
REALTIME[0xff] = realtime("reset");
const TUNE_REQUEST = realtime("tune_request");

/**
 * Parses a chunk into `out` from index 0 on, and returns how many messages
 * it made (the entries past them are left as they were): for a port that
 * reads a stream, with no new array a chunk. Not part of the public API.
 */
export let feedInto: (
  parser: MidiParser,
  chunk: Uint8Array,
  out: Message[],
) => number;

/**
 * The parser's count of skipped bytes, read with no copy of its stats:
 * whether a chunk dropped anything. Not part of the public API.
 */
export let skippedOf: (parser: MidiParser) => number;

function checkOptions(options: MidiParserOptions): [boolean, number] {
  const running = options.runningStatus ?? true;
  if (typeof running !== "boolean") {
    throw new TypeError(
      `Invalid runningStatus option: expected a boolean, got ${typeof running}`,
    );
  }
  const max = options.maxSysexBytes ?? DEFAULT_MAX_SYSEX;
  if (typeof max !== "number" || !Number.isInteger(max)) {
    throw new TypeError(
      `Invalid maxSysexBytes option: expected an integer in 0..${Number.MAX_SAFE_INTEGER}, got ${max}`,
    );
  }
  if (max < 0 || max > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(
      `Invalid maxSysexBytes option: expected an integer in 0..${Number.MAX_SAFE_INTEGER}, got ${max}`,
    );
  }
  return [running, max];
}

// Messages are frozen, so equal ones can be the same object. A small
// direct-mapped cache of recent channel and system common messages saves
// making (and freezing) an object for the notes, controllers and clocks that
// a MIDI stream repeats. It is shared by every parser and never grows.
const CACHE_BITS = 12;
const CACHE_KEYS = new Int32Array(1 << CACHE_BITS).fill(-1);
const CACHE_MESSAGES: (Message | undefined)[] = new Array(1 << CACHE_BITS);

function channelMessage(status: number, d0: number, d1: number): Message {
  const key = (status << 14) | (d0 << 7) | d1;
  const slot = Math.imul(key, 0x9e3779b1) >>> (32 - CACHE_BITS);
  if (CACHE_KEYS[slot] === key) return CACHE_MESSAGES[slot]!;
  const msg = makeMessage(status, d0, d1);
  CACHE_KEYS[slot] = key;
  CACHE_MESSAGES[slot] = msg;
  return msg;
}

function makeMessage(status: number, d0: number, d1: number): Message {
  const channel = status & 0x0f;
  switch (status & 0xf0) {
    case 0x80:
      return Object.freeze({
        type: "note_off",
        channel,
        note: d0,
        velocity: d1,
      });
    case 0x90:
      return Object.freeze({
        type: "note_on",
        channel,
        note: d0,
        velocity: d1,
      });
    case 0xa0:
      return Object.freeze({ type: "polytouch", channel, note: d0, value: d1 });
    case 0xb0:
      return Object.freeze({
        type: "control_change",
        channel,
        control: d0,
        value: d1,
      });
    case 0xc0:
      return Object.freeze({ type: "program_change", channel, program: d0 });
    case 0xd0:
      return Object.freeze({ type: "aftertouch", channel, value: d0 });
    case 0xe0:
      return Object.freeze({
        type: "pitchwheel",
        channel,
        pitch: (d0 | (d1 << 7)) - 8192,
      });
    case 0xf0:
      switch (status) {
        case 0xf1:
          return Object.freeze({
            type: "quarter_frame",
            frameType: d0 >> 4,
            frameValue: d0 & 0x0f,
          });
        case 0xf2:
          return Object.freeze({ type: "songpos", pos: d0 | (d1 << 7) });
        default:
          return Object.freeze({ type: "song_select", song: d0 });
      }
  }
  throw new Error(`Unreachable: status ${status}`);
}

/**
 * An incremental MIDI 1.0 byte-stream parser. Feed it chunks of any size, in
 * any split, and it yields the same messages. No input makes it throw, and its
 * memory stays under `maxSysexBytes` plus a few bytes.
 *
 * The rules, where they differ from mido's parser:
 * 1. Running status is on by default. Any F0..F7 byte cancels it. Real-time
 *    bytes do not.
 * 2. Real-time bytes (F8 FA FB FC FE FF) are emitted wherever they appear,
 *    even inside another message, and that message is kept.
 * 3. F9 and FD are ignored and change nothing. F4 and F5 discard any partial
 *    message and cancel running status.
 * 4. A sysex runs from F0 to F7. A sysex cut by another non-real-time status
 *    byte is discarded. A stray F7, and data bytes with no status, are
 *    ignored.
 * 5. A sysex over `maxSysexBytes` is discarded whole and counted.
 *
 * Every byte that does not become part of a message is counted in
 * {@linkcode MidiParser.stats}.
 *
 * Messages are frozen, so two equal messages may be the same object: the
 * parser keeps a small cache of recent channel messages rather than make a
 * new object for each repeated note or controller. Compare messages by their
 * fields, not with `===`.
 *
 * @example Parsing a stream in pieces
 * ```ts
 * import { MidiParser } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const parser = new MidiParser();
 * assert.deepEqual(parser.feed(new Uint8Array([0x90, 60])), []);
 * assert.deepEqual(parser.feed(new Uint8Array([100, 62, 0])), [
 *   { type: "note_on", channel: 0, note: 60, velocity: 100 },
 *   { type: "note_on", channel: 0, note: 62, velocity: 0 }, // running status
 * ]);
 * ```
 *
 * @example Garbage is skipped and counted
 * ```ts
 * import { MidiParser } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const parser = new MidiParser();
 * const messages = parser.feed(new Uint8Array([0x01, 0x02, 0xf4, 0xf8]));
 * assert.deepEqual(messages, [{ type: "clock" }]);
 * assert.equal(parser.stats.skippedBytes, 3);
 * ```
 */
export class MidiParser {
  #runningStatus: boolean;
  #maxSysex: number;
  #state = IDLE;
  #status = 0; // status byte of the message in progress (or running status)
  #need = 0; // data bytes the message needs
  #have = 0; // data bytes it has
  #d0 = 0;
  #partial = 0; // bytes of the current message that would be lost if cut
  #sysex: Uint8Array | null = null;
  #sysexLength = 0;
  #stats: MidiParserStats = {
    messages: 0,
    skippedBytes: 0,
    discardedMessages: 0,
    oversizedSysex: 0,
  };

  /**
   * Makes a parser.
   *
   * @param options How to parse.
   * @throws {TypeError} For an option of the wrong type.
   * @throws {RangeError} For a `maxSysexBytes` below 0 or over
   * `Number.MAX_SAFE_INTEGER`.
   */
  constructor(options: MidiParserOptions = {}) {
    [this.#runningStatus, this.#maxSysex] = checkOptions(options);
  }

  /**
   * Counters of messages emitted and bytes skipped so far (a snapshot).
   *
   * @example Counting an oversized sysex
   * ```ts
   * import { MidiParser } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const parser = new MidiParser({ maxSysexBytes: 2 });
   * parser.feed(new Uint8Array([0xf0, 1, 2, 3, 0xf7]));
   * assert.equal(parser.stats.oversizedSysex, 1);
   * assert.equal(parser.stats.skippedBytes, 5);
   * ```
   */
  get stats(): MidiParserStats {
    return { ...this.#stats };
  }

  /**
   * The bytes of memory that the parser holds for a sysex in progress. It is
   * never more than `maxSysexBytes`.
   *
   * @example The buffer is bounded
   * ```ts
   * import { MidiParser } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const parser = new MidiParser({ maxSysexBytes: 1000 });
   * parser.feed(new Uint8Array([0xf0, ...new Array(5000).fill(1)]));
   * assert.ok(parser.bufferedBytes <= 1000);
   * ```
   */
  get bufferedBytes(): number {
    return this.#sysex?.byteLength ?? 0;
  }

  /**
   * The bytes of memory that the parser holds for a sysex still arriving:
   * {@linkcode MidiParser.bufferedBytes} while one is, and 0 between
   * messages (when the buffer that it keeps for the next sysex, at most
   * 64 KiB, waits empty).
   *
   * @example Held while a sysex arrives, not after
   * ```ts
   * import { MidiParser } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const parser = new MidiParser();
   * parser.feed(new Uint8Array([0xf0, 1, 2]));
   * assert.ok(parser.partialBytes >= 2);
   * parser.feed(new Uint8Array([0xf7]));
   * assert.equal(parser.partialBytes, 0);
   * ```
   */
  get partialBytes(): number {
    return this.#state === SYSEX ? this.bufferedBytes : 0;
  }

  /**
   * How many bytes of a message that has begun and not ended the parser has
   * taken: 0 between messages. A peer that leaves it above 0 and sends
   * nothing more has left a message half sent.
   *
   * @example Half a note_on, then the rest
   * ```ts
   * import { MidiParser } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const parser = new MidiParser();
   * parser.feed(new Uint8Array([0x90, 0x3c]));
   * assert.equal(parser.pendingBytes, 2);
   * parser.feed(new Uint8Array([0x40]));
   * assert.equal(parser.pendingBytes, 0);
   * ```
   */
  get pendingBytes(): number {
    if (this.#state === SYSEX) return this.#sysexLength + 1;
    return this.#state === CHANNEL ? this.#partial : 0;
  }

  /**
   * Whether the parser is skipping the rest of a message that it dropped
   * (a sysex over `maxSysexBytes`, or one that {@linkcode discardPartial}
   * let go), up to the next status byte. Its bytes are counted as they are
   * skipped; a port waits for the skip to end before it reports the drop,
   * so that one message dropped makes one report, with its total.
   *
   * @example Skipping an oversized sysex to its end
   * ```ts
   * import { MidiParser } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const parser = new MidiParser({ maxSysexBytes: 2 });
   * parser.feed(new Uint8Array([0xf0, 1, 2, 3]));
   * assert.equal(parser.skipping, true);
   * parser.feed(new Uint8Array([4, 5, 0xf7]));
   * assert.equal(parser.skipping, false);
   * assert.equal(parser.stats.oversizedSysex, 1);
   * assert.equal(parser.stats.skippedBytes, 7);
   * ```
   */
  get skipping(): boolean {
    return this.#state === SKIP;
  }

  /**
   * Parses the next chunk of the stream.
   *
   * @param chunk Bytes, in any split.
   * @returns The messages that this chunk completed, in order.
   *
   * @example Feeding a chunk
   * ```ts
   * import { MidiParser } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const parser = new MidiParser();
   * assert.deepEqual(parser.feed(new Uint8Array([0xc3, 5])), [
   *   { type: "program_change", channel: 3, program: 5 },
   * ]);
   * ```
   */
  feed(chunk: Uint8Array): Message[] {
    const out: Message[] = [];
    this.#feed(chunk, out);
    return out;
  }

  static {
    feedInto = (parser, chunk, out) => parser.#feed(chunk, out);
    skippedOf = (parser) => parser.#stats.skippedBytes;
  }

  // Parses a chunk into out[0..], and returns how many messages it made.
  #feed(chunk: Uint8Array, out: Message[]): number {
    let count = 0;
    const stats = this.#stats;
    const max = this.#maxSysex;
    let state = this.#state;
    let status = this.#status;
    let need = this.#need;
    let have = this.#have;
    let d0 = this.#d0;
    let partial = this.#partial;
    let skipped = 0;
    const len = chunk.length;
    for (let i = 0; i < len; i++) {
      const b = chunk[i];
      if (b < 0x80) {
        if (state === CHANNEL) {
          if (have === 0) {
            if (need === 1) {
              out[count++] = channelMessage(status, b, 0);
              partial = 0;
              if (!this.#runningStatus || status >= 0xf0) state = IDLE;
            } else {
              d0 = b;
              have = 1;
              partial++;
            }
          } else {
            out[count++] = channelMessage(status, d0, b);
            have = 0;
            partial = 0;
            if (!this.#runningStatus || status >= 0xf0) state = IDLE;
          }
        } else if (state === SYSEX) {
          // Take the whole run of data bytes up to the next status byte (or
          // up to the limit) at once.
          let end = i + 1;
          while (end < len && chunk[end] < 0x80) end++;
          const n = this.#sysexLength;
          const take = Math.min(end - i, max - n);
          if (take > 0) {
            let buf = this.#sysex;
            if (buf === null || n + take > buf.length) {
              buf = this.#grow(n, n + take);
            }
            if (take > 64) {
              buf.set(chunk.subarray(i, i + take), n);
            } else {
              for (let k = 0; k < take; k++) buf[n + k] = chunk[i + k];
            }
            this.#sysexLength = n + take;
            i += take - 1;
          } else {
            // Oversized: discard it whole and skip to the next status byte.
            stats.oversizedSysex++;
            skipped += n + 2; // F0, the data kept so far, and this byte
            this.#release();
            state = SKIP;
          }
        } else {
          // No status: stray data bytes, or inside a skip. Skip the run.
          let end = i + 1;
          while (end < len && chunk[end] < 0x80) end++;
          skipped += end - i;
          i = end - 1;
        }
      } else if (b >= 0xf8) {
        const rt = REALTIME[b];
        if (rt !== undefined) out[count++] = rt;
        else skipped++; // F9, FD: undefined, no effect
      } else {
        // A channel, system common or sysex status byte (80..F7).
        if (state === SYSEX) {
          if (b === 0xf7) {
            const n = this.#sysexLength;
            const data = n === 0 ? new Uint8Array(0) : this.#sysex!.slice(0, n);
            out[count++] = Object.freeze({ type: "sysex", data }) as Message;
            this.#release();
            state = IDLE;
            continue;
          }
          stats.discardedMessages++;
          skipped += this.#sysexLength + 1;
          this.#release();
        } else if (state === SKIP) {
          if (b === 0xf7) {
            skipped++;
            state = IDLE;
            continue;
          }
        } else if (partial > 0) {
          stats.discardedMessages++;
          skipped += partial;
        }
        partial = 0;
        have = 0;
        if (b < 0xf0) {
          state = CHANNEL;
          status = b;
          need = (b & 0xe0) === 0xc0 ? 1 : 2;
          partial = 1;
        } else {
          state = IDLE;
          switch (b) {
            case 0xf0:
              state = SYSEX;
              this.#sysexLength = 0;
              break;
            case 0xf1:
            case 0xf3:
              state = CHANNEL;
              status = b;
              need = 1;
              partial = 1;
              break;
            case 0xf2:
              state = CHANNEL;
              status = b;
              need = 2;
              partial = 1;
              break;
            case 0xf6:
              out[count++] = TUNE_REQUEST;
              break;
            default: // F4, F5 undefined, F7 stray
              skipped++;
          }
        }
      }
    }
    this.#state = state;
    this.#status = status;
    this.#need = need;
    this.#have = have;
    this.#d0 = d0;
    this.#partial = partial;
    stats.skippedBytes += skipped;
    stats.messages += count;
    return count;
  }

  /**
   * Discards the sysex in progress, if there is one, and lets go of the
   * memory that the parser holds for it: it is counted in
   * `discardedMessages` (its bytes in `skippedBytes`), and the rest of it
   * is skipped up to the next status byte. A {@linkcode PortServer} does
   * this to the largest partial message of its clients when they would
   * hold more than its `maxBufferedBytes`.
   *
   * @returns The bytes of memory let go.
   *
   * @example Discarding a sysex in progress
   * ```ts
   * import { MidiParser } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const parser = new MidiParser();
   * parser.feed(new Uint8Array([0xf0, 1, 2, 3]));
   * assert.ok(parser.discardPartial() > 0);
   * assert.equal(parser.bufferedBytes, 0);
   * assert.deepEqual(parser.feed(new Uint8Array([4, 0xf7, 0xfa])), [{ type: "start" }]);
   * assert.equal(parser.stats.discardedMessages, 1);
   * assert.equal(parser.stats.skippedBytes, 6);
   * ```
   */
  discardPartial(): number {
    const held = this.bufferedBytes;
    if (this.#state === SYSEX) {
      this.#stats.discardedMessages++;
      this.#stats.skippedBytes += this.#sysexLength + 1; // F0 and the data
      this.#state = SKIP;
    }
    this.#sysex = null;
    this.#sysexLength = 0;
    return held;
  }

  /**
   * Ends the stream: a message still in progress is discarded and counted,
   * and the parser starts afresh.
   *
   * @example A cut message is counted
   * ```ts
   * import { MidiParser } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const parser = new MidiParser();
   * parser.feed(new Uint8Array([0x90, 60]));
   * parser.end();
   * assert.equal(parser.stats.discardedMessages, 1);
   * assert.equal(parser.stats.skippedBytes, 2);
   * ```
   */
  end(): void {
    const stats = this.#stats;
    if (this.#state === SYSEX) {
      stats.discardedMessages++;
      stats.skippedBytes += this.#sysexLength + 1;
    } else if (this.#state === CHANNEL && this.#partial > 0) {
      stats.discardedMessages++;
      stats.skippedBytes += this.#partial;
    }
    this.#release();
    this.#state = IDLE;
    this.#partial = 0;
    this.#have = 0;
  }

  // A bigger sysex buffer that keeps the first n bytes and has room for
  // `need` bytes (need <= maxSysexBytes).
  #grow(n: number, need: number): Uint8Array {
    const old = this.#sysex;
    const size = Math.min(
      this.#maxSysex,
      Math.max(INITIAL_SYSEX_CAPACITY, (old?.length ?? 0) * 2, need),
    );
    const ab = old?.buffer as ArrayBuffer | undefined;
    if (ab?.resizable && size <= ab.maxByteLength) {
      ab.resize(size); // grows in place: no copy, no garbage
      return old!;
    }
    let buf: Uint8Array;
    if (size <= SMALL_SYSEX_CAPACITY || size > MAX_SYSEX_RESERVATION) {
      buf = new Uint8Array(size);
    } else {
      // A big sysex grows in one resizable buffer, up to maxSysexBytes (or
      // MAX_SYSEX_RESERVATION). Its memory is mapped for it alone, so the
      // system gets it back as soon as it is let go, and a few hundred
      // clients each most of the way through a 1 MiB sysex leave no heap
      // behind them.
      const big = new ArrayBuffer(size, {
        maxByteLength: Math.min(this.#maxSysex, MAX_SYSEX_RESERVATION),
      });
      buf = new Uint8Array(big);
    }
    if (old !== null) buf.set(old.subarray(0, n));
    this.#sysex = buf;
    return buf;
  }

  #release(): void {
    if (this.#sysex !== null && this.#sysex.length > RETAINED_SYSEX_CAPACITY) {
      this.#sysex = null;
    }
    this.#sysexLength = 0;
  }
}
