// Copyright 2026 the midisock authors. MIT license.

import type { Message } from "../midi/message.ts";
import { headerChunk, TrackEncoder } from "./write_midi_file.ts";

/** Options for {@linkcode RecordingFile.create}. */
export interface RecordingFileOptions {
  /**
   * Ticks per quarter note.
   *
   * @default {480}
   */
  ticksPerBeat?: number;
  /**
   * The tempo written at the start, in beats per minute; it turns arrival
   * times into ticks.
   *
   * @default {120}
   */
  bpm?: number;
}

const END_OF_TRACK = new Uint8Array([0, 0xff, 0x2f, 0]);

/**
 * A type 0 Standard MIDI File that grows on disk as messages arrive, and is
 * a valid file after every {@linkcode RecordingFile.flush}: each flush
 * writes the new events over the last End of Track, then a new End of
 * Track, then the track's new length in place. A process killed between
 * flushes leaves a file with everything up to the last flush.
 *
 * @example Recording two notes
 * ```ts
 * import { message, readMidiFile, RecordingFile } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".mid" });
 * const file = await RecordingFile.create(path, { ticksPerBeat: 480, bpm: 120 });
 * file.add(message("note_on", { note: 60 }), 1000);
 * file.add(message("note_off", { note: 60 }), 1500); // 500 ms: one beat
 * await file.close();
 * const read = readMidiFile(await Deno.readFile(path));
 * assert.equal(read.tracks[0][2].delta, 480);
 * await Deno.remove(path);
 * ```
 */
export class RecordingFile {
  #file: Deno.FsFile;
  #encoder = new TrackEncoder();
  #ticksPerMs: number;
  #start: number | undefined;
  #lastTick = 0;
  #pending: { delta: number; message: Message }[] = [];
  #bodyLength = 0; // the track's bytes before its End of Track
  #messages = 0;
  #closed = false;

  private constructor(file: Deno.FsFile, ticksPerBeat: number, bpm: number) {
    this.#file = file;
    this.#ticksPerMs = ticksPerBeat * bpm / 60_000;
  }

  /**
   * Creates (or truncates) the file, and writes the header, the tempo and
   * an End of Track: a valid, empty recording.
   *
   * @param path Where.
   * @param options The resolution and the tempo.
   * @returns The recording.
   */
  static async create(
    path: string,
    options: RecordingFileOptions = {},
  ): Promise<RecordingFile> {
    const ticksPerBeat = options.ticksPerBeat ?? 480;
    const bpm = options.bpm ?? 120;
    if (!(bpm > 0) || !Number.isFinite(bpm)) {
      throw new RangeError(`Invalid bpm: expected a number > 0, got ${bpm}`);
    }
    const header = headerChunk(0, 1, { ticksPerBeat });
    const tempo = Math.round(60_000_000 / bpm);
    if (tempo > 0xffffff) {
      throw new RangeError(`Invalid bpm: ${bpm} is slower than a file holds`);
    }
    const file = await Deno.open(path, {
      write: true,
      create: true,
      truncate: true,
    });
    const recording = new RecordingFile(file, ticksPerBeat, bpm);
    const head = new Uint8Array(8);
    head.set([0x4d, 0x54, 0x72, 0x6b]);
    const tempoEvent = recording.#encoder.encode([{
      delta: 0,
      meta: 0x51,
      data: new Uint8Array([tempo >> 16, (tempo >> 8) & 0xff, tempo & 0xff]),
    }]);
    await writeAll(file, header);
    await writeAll(file, head);
    await recording.#append(tempoEvent);
    return recording;
  }

  /** Messages added. */
  get messages(): number {
    return this.#messages;
  }

  /** The file's size after the last flush, in bytes. */
  get size(): number {
    return 14 + 8 + this.#bodyLength + END_OF_TRACK.length;
  }

  /**
   * Adds a message that arrived at `time` (ms, on any one clock: the first
   * message's time is the file's start). It is written at the next flush.
   *
   * @param msg The message.
   * @param time When it arrived, in ms.
   */
  add(msg: Message, time: number): void {
    this.#start ??= time;
    const tick = Math.max(
      this.#lastTick,
      Math.round((time - this.#start) * this.#ticksPerMs),
    );
    this.#pending.push({ delta: tick - this.#lastTick, message: msg });
    this.#lastTick = tick;
    this.#messages++;
  }

  /**
   * Writes what was added since the last flush, so that the file on disk is
   * valid and holds it.
   *
   * @returns When it is written.
   */
  async flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const bytes = this.#encoder.encode(this.#pending.splice(0));
    await this.#append(bytes);
  }

  /**
   * Flushes and closes the file.
   *
   * @returns When it is closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    this.#file.close();
  }

  // Writes events over the End of Track, a new End of Track after them, then
  // the new length.
  async #append(events: Uint8Array): Promise<void> {
    const file = this.#file;
    await file.seek(22 + this.#bodyLength, Deno.SeekMode.Start);
    const out = new Uint8Array(events.length + END_OF_TRACK.length);
    out.set(events);
    out.set(END_OF_TRACK, events.length);
    await writeAll(file, out);
    this.#bodyLength += events.length;
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(
      0,
      this.#bodyLength + END_OF_TRACK.length,
    );
    await file.seek(18, Deno.SeekMode.Start);
    await writeAll(file, length);
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}
