// Copyright 2026 the midisock authors. MIT license.

import { decode } from "../midi/decode.ts";
import { MidiParser } from "../midi/parser.ts";
import { message } from "../midi/message.ts";
import type { Division, MidiFile, TrackEvent } from "./midi_file.ts";

/** Data bytes that follow each channel status (by its high nibble). */
function channelDataLength(status: number): number {
  const kind = status & 0xf0;
  return kind === 0xc0 || kind === 0xd0 ? 1 : 2;
}

/** Data bytes that follow a system common or real-time status (F1..FE). */
function systemDataLength(status: number): number {
  if (status === 0xf2) return 2;
  if (status === 0xf1 || status === 0xf3) return 1;
  return 0;
}

function ascii(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + 4));
}

function hex(byte: number): string {
  return "0x" + byte.toString(16).toUpperCase().padStart(2, "0");
}

/**
 * Reads a Standard MIDI File: formats 0, 1 and 2, ticks per beat or SMPTE
 * division, running status, meta events, and sysex, including a sysex split
 * into continuation packets (F0 … then F7 …), which becomes one message.
 * An F7 packet that continues nothing holds raw bytes (an escape), and its
 * messages are read from them. Chunks of unknown types are skipped, as the
 * specification says; reading stops after the number of tracks that the
 * header gives, as mido's does.
 *
 * A malformed file throws SyntaxError, with the chunk and the byte offset
 * where it went wrong: truncated data, lengths that run past the end, a data
 * byte with no status (running status does not carry from one track to the
 * next). Reading never loops and never reads past the bytes it was given.
 *
 * @param bytes The file's bytes.
 * @returns The file.
 * @throws {SyntaxError} If the file is malformed.
 *
 * @example Reading what writeMidiFile() wrote
 * ```ts
 * import { message, readMidiFile, writeMidiFile } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const bytes = writeMidiFile({
 *   format: 0,
 *   division: { ticksPerBeat: 480 },
 *   tracks: [[{ delta: 0, message: message("note_on", { note: 60 }) }]],
 * });
 * const file = readMidiFile(bytes);
 * assert.deepEqual(file.tracks[0][0], { delta: 0, message: message("note_on", { note: 60 }) });
 * ```
 */
export function readMidiFile(bytes: Uint8Array): MidiFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (where: string, at: number, what: string): never => {
    throw new SyntaxError(
      `Cannot read MIDI file: ${where} at byte ${at}: ${what}`,
    );
  };
  if (bytes.length < 14) {
    fail("MThd", 0, `the file has ${bytes.length} bytes, fewer than a header`);
  }
  if (ascii(bytes, 0) !== "MThd") {
    fail("MThd", 0, `expected "MThd", got ${JSON.stringify(ascii(bytes, 0))}`);
  }
  const headerLength = view.getUint32(4);
  if (headerLength < 6) fail("MThd", 4, `header length ${headerLength} < 6`);
  if (8 + headerLength > bytes.length) {
    fail("MThd", 4, `header length ${headerLength} runs past the end`);
  }
  const format = view.getUint16(8);
  if (format > 2) fail("MThd", 8, `unknown format ${format}`);
  const trackCount = view.getUint16(10);
  const rawDivision = view.getUint16(12);
  let division: Division;
  if (rawDivision & 0x8000) {
    const fps = 256 - (rawDivision >> 8);
    if (fps !== 24 && fps !== 25 && fps !== 29 && fps !== 30) {
      fail("MThd", 12, `unknown SMPTE frame rate ${-fps}`);
    }
    const ticksPerFrame = rawDivision & 0xff;
    if (ticksPerFrame === 0) fail("MThd", 12, "0 ticks per frame");
    division = { fps: fps as 24 | 25 | 29 | 30, ticksPerFrame };
  } else {
    if (rawDivision === 0) fail("MThd", 12, "0 ticks per beat");
    division = { ticksPerBeat: rawDivision };
  }
  const tracks: TrackEvent[][] = [];
  let at = 8 + headerLength;
  while (tracks.length < trackCount) {
    const where = `MTrk ${tracks.length + 1}`;
    if (at + 8 > bytes.length) {
      fail(
        where,
        at,
        `the header says ${trackCount} tracks, and the file ends after ${tracks.length}`,
      );
    }
    const type = ascii(bytes, at);
    const length = view.getUint32(at + 4);
    if (at + 8 + length > bytes.length) {
      fail(
        type === "MTrk" ? where : `chunk ${JSON.stringify(type)}`,
        at + 4,
        `the chunk says ${length} bytes, and only ${
          bytes.length - at - 8
        } remain`,
      );
    }
    if (type === "MTrk") {
      tracks.push(readTrack(bytes, at + 8, at + 8 + length, where, fail));
    }
    at += 8 + length;
  }
  return { format: format as 0 | 1 | 2, division, tracks };
}

function readTrack(
  bytes: Uint8Array,
  start: number,
  end: number,
  where: string,
  fail: (where: string, at: number, what: string) => never,
): TrackEvent[] {
  const events: TrackEvent[] = [];
  let at = start;
  let running = 0; // running status; none at the start of a track
  let carried = 0; // ticks of events folded into a later one
  // A sysex in continuation packets: its bytes so far, and its delta.
  let sysex: number[] | undefined;
  let sysexDelta = 0;
  const need = (n: number, what: string) => {
    if (at + n > end) fail(where, at, `${what} runs past the end of the chunk`);
  };
  const varLength = (what: string): number => {
    let value = 0;
    for (let i = 0; i < 4; i++) {
      need(1, what);
      const byte = bytes[at++];
      value = value * 128 + (byte & 0x7f);
      if (!(byte & 0x80)) return value;
    }
    return fail(where, at - 4, `${what} is longer than 4 bytes`);
  };
  while (at < end) {
    const eventAt = at;
    const delta = varLength("a delta time") + carried;
    carried = 0;
    need(1, "an event");
    let status = bytes[at];
    if (status < 0x80) {
      if (running === 0) {
        fail(
          where,
          at,
          `data byte ${
            hex(status)
          } with no status (running status does not carry over from another track or past a meta or sysex event)`,
        );
      }
      status = running;
    } else {
      at++;
    }
    if (status === 0xff) {
      running = 0;
      need(1, "a meta event");
      const meta = bytes[at++];
      if (meta > 0x7f) fail(where, at - 1, `meta type ${hex(meta)} > 0x7F`);
      const length = varLength("a meta event's length");
      need(length, "a meta event");
      events.push({ delta, meta, data: bytes.slice(at, at + length) });
      at += length;
    } else if (status === 0xf0 || status === 0xf7) {
      running = 0;
      const length = varLength("a sysex length");
      need(length, "a sysex event");
      const data = bytes.subarray(at, at + length);
      at += length;
      const complete = data.length > 0 && data[data.length - 1] === 0xf7;
      const body = complete ? data.subarray(0, -1) : data;
      if (status === 0xf0 || sysex !== undefined) {
        if (status === 0xf0) {
          if (sysex !== undefined) {
            fail(where, eventAt, "a sysex starts before the last one ended");
          }
          sysex = [];
          sysexDelta = delta;
        } else {
          carried += delta; // a continuation: its time goes to the next
        }
        for (const byte of body) {
          if (byte > 0x7f) {
            fail(where, eventAt, `sysex data byte ${hex(byte)} > 0x7F`);
          }
          sysex!.push(byte);
        }
        if (complete) {
          events.push({
            delta: sysexDelta,
            message: message("sysex", { data: sysex! }),
          });
          sysex = undefined;
        }
      } else {
        // An escape: raw bytes (real-time or system messages).
        const parser = new MidiParser({ runningStatus: false });
        const found = parser.feed(data);
        if (found.length === 0) carried += delta;
        found.forEach((msg, i) =>
          events.push({ delta: i === 0 ? delta : 0, message: msg })
        );
      }
    } else {
      const length = status < 0xf0
        ? channelDataLength(status)
        : systemDataLength(status);
      need(length, `a ${hex(status)} event`);
      for (let i = 0; i < length; i++) {
        if (bytes[at + i] > 0x7f) {
          fail(
            where,
            at + i,
            `status ${hex(bytes[at + i])} where a data byte of ${
              hex(status)
            } belongs`,
          );
        }
      }
      const raw = new Uint8Array(length + 1);
      raw[0] = status;
      raw.set(bytes.subarray(at, at + length), 1);
      at += length;
      const [msg] = decode(raw);
      if (msg === undefined) {
        fail(where, eventAt, `undefined status ${hex(status)}`);
      }
      events.push({ delta, message: msg });
      running = status < 0xf0 ? status : 0;
    }
  }
  if (sysex !== undefined) {
    fail(where, end, "the track ends inside a sysex that continues (F7)");
  }
  return events;
}
