// Copyright 2026 the midisock authors. MIT license.

import type { Message } from "../midi/message.ts";
import { writeAll } from "../util/write_all.ts";
import { META_TEMPO, META_TRACK_NAME, type TrackEvent } from "./midi_file.ts";
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
  /**
   * The file's format. 0: one track, written in place (each flush adds the
   * new events and updates the track's length). 1: a tempo track, then a
   * track for each sender (each named by a Track Name event, in the order
   * they first played), for a recorder that knows who sent what, such as a
   * server; each flush writes the whole file beside it and renames it over
   * the last, so the file on disk is complete at all times. It is kept in
   * memory until then: an hour of dense playing is a few megabytes.
   *
   * @default {0}
   */
  format?: 0 | 1;
}

const END_OF_TRACK = new Uint8Array([0, 0xff, 0x2f, 0]);

/**
 * A Standard MIDI File that grows on disk as messages arrive, and is a
 * valid file after every {@linkcode RecordingFile.flush}. In a type 0 file,
 * each flush writes the new events over the last End of Track, then a new
 * End of Track, then the track's new length in place; a type 1 file (a
 * track for each sender) is written whole beside it and renamed over it. A
 * process killed between flushes leaves a file with everything up to the
 * last flush.
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
 *
 * @example A track for each sender (type 1)
 * ```ts
 * import { message, readMidiFile, RecordingFile } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".mid" });
 * const file = await RecordingFile.create(path, { format: 1 });
 * file.add(message("note_on", { note: 60 }), 1000, "keys");
 * file.add(message("note_on", { note: 36, channel: 9 }), 1250, "drums");
 * file.add(message("note_off", { note: 60 }), 1500, "keys");
 * await file.close();
 * const read = readMidiFile(await Deno.readFile(path));
 * assert.equal(read.format, 1);
 * assert.equal(read.tracks.length, 3); // the tempo, keys, drums
 * const name = (track: number) => read.tracks[track][0];
 * assert.deepEqual(name(1), { delta: 0, meta: 3, data: new TextEncoder().encode("keys") });
 * assert.deepEqual(read.tracks[2][1], {
 *   delta: 240, // 250 ms after the first message, at 120 bpm and 480 ticks a beat
 *   message: message("note_on", { note: 36, channel: 9 }),
 * });
 * await Deno.remove(path);
 * ```
 */
export class RecordingFile {
  #file: Deno.FsFile | undefined; // type 0
  #whole: WholeFile | undefined; // type 1
  #encoder = new TrackEncoder();
  #ticksPerMs: number;
  #start: number | undefined;
  #lastTick = 0; // the latest tick of all tracks
  #pendingTick = 0; // the type 0 track's last event's tick
  #pending: { delta: number; message: Message }[] = [];
  #bodyLength = 0; // the track's bytes before its End of Track
  #messages = 0;
  #closed = false;

  private constructor(
    sink: Deno.FsFile | WholeFile,
    ticksPerBeat: number,
    bpm: number,
  ) {
    if (sink instanceof WholeFile) this.#whole = sink;
    else this.#file = sink;
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
    const format = options.format ?? 0;
    if (format !== 0 && format !== 1) {
      throw new RangeError(`Invalid format: expected 0 or 1, got ${format}`);
    }
    if (!(bpm > 0) || !Number.isFinite(bpm)) {
      throw new RangeError(`Invalid bpm: expected a number > 0, got ${bpm}`);
    }
    const header = headerChunk(0, 1, { ticksPerBeat });
    const tempo = Math.round(60_000_000 / bpm);
    if (tempo > 0xffffff) {
      throw new RangeError(`Invalid bpm: ${bpm} is slower than a file holds`);
    }
    const tempoData = new Uint8Array([
      tempo >> 16,
      (tempo >> 8) & 0xff,
      tempo & 0xff,
    ]);
    if (format === 1) {
      const whole = new WholeFile(path, ticksPerBeat, tempoData);
      await whole.write();
      return new RecordingFile(whole, ticksPerBeat, bpm);
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
      data: tempoData,
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
    return this.#whole?.size ?? 14 + 8 + this.#bodyLength + END_OF_TRACK.length;
  }

  /**
   * Adds a message that arrived at `time` (ms, on any one clock: the first
   * message's time is the file's start). It is written at the next flush.
   *
   * @param msg The message.
   * @param time When it arrived, in ms.
   * @param track Who sent it: in a type 1 file, the name of its track (a
   * new name starts a new track). A type 0 file has one track, and ignores
   * it.
   */
  add(msg: Message, time: number, track = "bus"): void {
    this.#start ??= time;
    const tick = Math.max(
      this.#lastTick,
      Math.round((time - this.#start) * this.#ticksPerMs),
    );
    this.#lastTick = tick;
    this.#messages++;
    if (this.#whole) return this.#whole.add(track, tick, msg);
    this.#pending.push({ delta: tick - (this.#pendingTick), message: msg });
    this.#pendingTick = tick;
  }

  /**
   * Writes what was added since the last flush, so that the file on disk is
   * valid and holds it.
   *
   * @returns When it is written.
   */
  async flush(): Promise<void> {
    if (this.#whole) return await this.#whole.write();
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
    this.#file?.close();
  }

  // Writes events over the End of Track, a new End of Track after them, then
  // the new length.
  async #append(events: Uint8Array): Promise<void> {
    const file = this.#file!;
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

// A type 1 recording: each track's bytes in memory, the whole file written
// beside the path and renamed over it, so that the path holds a complete
// file at all times.
class WholeFile {
  #path: string;
  #ticksPerBeat: number;
  #tempo: Uint8Array; // the tempo track
  #tracks = new Map<
    string,
    { encoder: TrackEncoder; chunks: Uint8Array[]; tick: number }
  >();
  #pending = new Map<string, TrackEvent[]>();
  #changed = true;
  size = 0;

  constructor(path: string, ticksPerBeat: number, tempoData: Uint8Array) {
    this.#path = path;
    this.#ticksPerBeat = ticksPerBeat;
    this.#tempo = new TrackEncoder().encode([
      { delta: 0, meta: META_TEMPO, data: tempoData },
    ]);
  }

  add(name: string, tick: number, message: Message): void {
    let track = this.#tracks.get(name);
    if (track === undefined) {
      track = { encoder: new TrackEncoder(), chunks: [], tick: 0 };
      this.#tracks.set(name, track);
      this.#pending.set(name, [{
        delta: 0,
        meta: META_TRACK_NAME,
        data: new TextEncoder().encode(name),
      }]);
    }
    let pending = this.#pending.get(name);
    if (pending === undefined) this.#pending.set(name, pending = []);
    pending.push({ delta: tick - track.tick, message });
    track.tick = tick;
    this.#changed = true;
  }

  async write(): Promise<void> {
    if (!this.#changed) return;
    this.#changed = false;
    for (const [name, events] of this.#pending) {
      const track = this.#tracks.get(name)!;
      track.chunks.push(track.encoder.encode(events));
    }
    this.#pending.clear();
    const parts = [
      headerChunk(1, this.#tracks.size + 1, {
        ticksPerBeat: this.#ticksPerBeat,
      }),
      ...trackChunk([this.#tempo]),
    ];
    for (const track of this.#tracks.values()) {
      parts.push(...trackChunk(track.chunks));
    }
    const next = `${this.#path}.partial`;
    const file = await Deno.open(next, {
      write: true,
      create: true,
      truncate: true,
    });
    try {
      for (const part of parts) await writeAll(file, part);
    } finally {
      file.close();
    }
    await Deno.rename(next, this.#path);
    this.size = parts.reduce((sum, part) => sum + part.length, 0);
  }
}

// An MTrk chunk of events, with its End of Track: its parts, to write.
function trackChunk(events: Uint8Array[]): Uint8Array[] {
  const length = events.reduce((sum, part) => sum + part.length, 0) +
    END_OF_TRACK.length;
  const head = new Uint8Array(8);
  head.set([0x4d, 0x54, 0x72, 0x6b]);
  new DataView(head.buffer).setUint32(4, length);
  return [head, ...events, END_OF_TRACK];
}
