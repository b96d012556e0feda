// Copyright 2026 the midisock authors. MIT license.

import { encode } from "../midi/encode.ts";
import type { Division, MidiFile, TrackEvent } from "./midi_file.ts";

/** Appends a variable-length quantity (0..0x0FFFFFFF). */
function pushVarLength(out: number[], value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0x0fffffff) {
    throw new RangeError(
      `Invalid delta or length: expected an integer in 0..268435455, got ${value}`,
    );
  }
  const stack = [value & 0x7f];
  while ((value >>>= 7) > 0) stack.push((value & 0x7f) | 0x80);
  for (let i = stack.length - 1; i >= 0; i--) out.push(stack[i]);
}

/**
 * Writes the events of one track as the bytes of an MTrk chunk's body, with
 * running status for channel messages (as mido writes). It carries running
 * status from one call to the next of one writer, so a track can be written
 * in pieces.
 */
export class TrackEncoder {
  #running = 0;

  /**
   * The bytes of some events of the track.
   *
   * @param events The events.
   * @returns Their bytes.
   */
  encode(events: Iterable<TrackEvent>): Uint8Array {
    const out: number[] = [];
    for (const event of events) {
      pushVarLength(out, event.delta);
      if ("meta" in event) {
        if (
          !Number.isInteger(event.meta) || event.meta < 0 || event.meta > 0x7f
        ) {
          throw new RangeError(
            `Invalid meta type: expected an integer in 0..127, got ${event.meta}`,
          );
        }
        out.push(0xff, event.meta);
        pushVarLength(out, event.data.length);
        for (const byte of event.data) out.push(byte);
        this.#running = 0;
        continue;
      }
      const bytes = encode(event.message);
      const status = bytes[0];
      if (status === 0xf0) {
        out.push(0xf0);
        pushVarLength(out, bytes.length - 1);
        for (let i = 1; i < bytes.length; i++) out.push(bytes[i]);
        this.#running = 0;
      } else if (status === 0xff) {
        // reset: FF would be a meta event; it goes as an escape.
        out.push(0xf7, 1, 0xff);
        this.#running = 0;
      } else {
        const from = status === this.#running ? 1 : 0;
        for (let i = from; i < bytes.length; i++) out.push(bytes[i]);
        this.#running = status < 0xf0 ? status : 0;
      }
    }
    return new Uint8Array(out);
  }
}

/**
 * The MThd chunk of a file.
 *
 * @param format 0, 1 or 2.
 * @param trackCount How many tracks follow.
 * @param division The time base.
 * @returns The 14 bytes.
 */
export function headerChunk(
  format: 0 | 1 | 2,
  trackCount: number,
  division: Division,
): Uint8Array {
  const bytes = new Uint8Array(14);
  const view = new DataView(bytes.buffer);
  bytes.set([0x4d, 0x54, 0x68, 0x64]); // MThd
  view.setUint32(4, 6);
  view.setUint16(8, format);
  view.setUint16(10, trackCount);
  if ("ticksPerBeat" in division) {
    const ppq = division.ticksPerBeat;
    if (!Number.isInteger(ppq) || ppq < 1 || ppq > 0x7fff) {
      throw new RangeError(
        `Invalid ticksPerBeat: expected an integer in 1..32767, got ${ppq}`,
      );
    }
    view.setUint16(12, ppq);
  } else {
    const { fps, ticksPerFrame } = division;
    if (![24, 25, 29, 30].includes(fps)) {
      throw new RangeError(
        `Invalid fps: expected 24, 25, 29 or 30, got ${fps}`,
      );
    }
    if (
      !Number.isInteger(ticksPerFrame) || ticksPerFrame < 1 ||
      ticksPerFrame > 255
    ) {
      throw new RangeError(
        `Invalid ticksPerFrame: expected an integer in 1..255, got ${ticksPerFrame}`,
      );
    }
    bytes[12] = 256 - fps;
    bytes[13] = ticksPerFrame;
  }
  return bytes;
}

/**
 * Writes a Standard MIDI File. Each track ends with End of Track: one is
 * added where a track lacks it. Channel messages use running status, as
 * mido writes them; a sysex is one F0 packet; reset (FF, which a file
 * reserves for meta events) goes as an F7 escape.
 *
 * @param file The file.
 * @returns Its bytes.
 * @throws {RangeError} For a delta, division or meta type out of range.
 * @throws {TypeError} For a bad message (see {@linkcode message}).
 *
 * @example A type 0 file with a tempo and a note
 * ```ts
 * import { message, writeMidiFile } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const bytes = writeMidiFile({
 *   format: 0,
 *   division: { ticksPerBeat: 96 },
 *   tracks: [[
 *     { delta: 0, meta: 0x51, data: new Uint8Array([0x07, 0xa1, 0x20]) },
 *     { delta: 0, message: message("note_on", { note: 60 }) },
 *     { delta: 96, message: message("note_off", { note: 60 }) },
 *   ]],
 * });
 * assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "MThd");
 * ```
 */
export function writeMidiFile(file: MidiFile): Uint8Array {
  const chunks = [headerChunk(file.format, file.tracks.length, file.division)];
  for (const track of file.tracks) {
    const last = track[track.length - 1];
    const ended = last !== undefined && "meta" in last &&
      last.meta === 0x2f;
    const events = ended
      ? track
      : [...track, { delta: 0, meta: 0x2f, data: new Uint8Array(0) }];
    const body = new TrackEncoder().encode(events);
    const head = new Uint8Array(8);
    head.set([0x4d, 0x54, 0x72, 0x6b]); // MTrk
    new DataView(head.buffer).setUint32(4, body.length);
    chunks.push(head, body);
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
