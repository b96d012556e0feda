// Copyright 2026 the midisock authors. MIT license.

import type { Message } from "../midi/message.ts";
import {
  type Division,
  META_END_OF_TRACK,
  META_TEMPO,
  type MidiFile,
  type TrackEvent,
} from "./midi_file.ts";

/** A message of a file, and when it is played. */
export interface ScheduledMessage {
  /** When, in ms from the file's start (at the speed asked). */
  time: number;
  /** The message. */
  message: Message;
}

/** When each message of a file is played: what {@linkcode playSchedule} gives. */
export interface PlaySchedule {
  /** The messages, in the order they are played, times never decreasing. */
  messages: ScheduledMessage[];
  /**
   * How long the file lasts, in ms: the time of its last End of Track (or
   * of its last event, if that is later). A loop starts again after it.
   */
  duration: number;
}

/** Options for {@linkcode playSchedule}. */
export interface PlayScheduleOptions {
  /**
   * How fast to play: 2 plays twice as fast, 0.5 half as fast. A number
   * greater than 0.
   *
   * @default {1}
   */
  speed?: number;
}

/** The tempo of a file that sets none: 120 beats a minute. */
const DEFAULT_TEMPO = 500_000; // µs a quarter note

/**
 * When each message of a Standard MIDI File is played: the tracks merged
 * (events at one tick in the order of their tracks, then of the track),
 * each tick turned into milliseconds by the file's full tempo map (Set
 * Tempo events in any track of a type 0 or 1 file, 120 bpm until the
 * first), or by its SMPTE division (frames a second, ticks a frame, where
 * tempo does not count; 29 means 29.97). The tracks of a type 2 file are
 * independent sequences, and are played one after another, each with its
 * own tempo map.
 *
 * Meta events steer the schedule and are not in it: tempo changes time,
 * End of Track ends the file (its `duration`), and text, markers and the
 * others are left out. What is left goes on the wire: channel messages,
 * system messages, and each sysex whole, including one that the file
 * continued across F7 packets ({@linkcode readMidiFile} joins them).
 *
 * It is pure: it opens nothing and waits for nothing. A player waits for
 * each message's time against a monotonic clock, from the file's start.
 *
 * @param file The file.
 * @param options The speed.
 * @returns The messages with their times, and the file's duration.
 * @throws {RangeError} For a speed that is not a number greater than 0.
 *
 * @example A tempo change halfway
 * ```ts
 * import { message, playSchedule } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const tempo = (us: number) => new Uint8Array([us >> 16, (us >> 8) & 0xff, us & 0xff]);
 * const { messages, duration } = playSchedule({
 *   format: 0,
 *   division: { ticksPerBeat: 480 },
 *   tracks: [[
 *     { delta: 0, message: message("note_on", { note: 60 }) },
 *     { delta: 480, meta: 0x51, data: tempo(250_000) }, // 240 bpm from beat 1
 *     { delta: 480, message: message("note_off", { note: 60 }) },
 *     { delta: 0, meta: 0x2f, data: new Uint8Array() },
 *   ]],
 * });
 * assert.deepEqual(messages.map((m) => m.time), [0, 750]); // 500 ms + 250 ms
 * assert.equal(duration, 750);
 * ```
 *
 * @example Twice as fast
 * ```ts
 * import { message, playSchedule } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const { messages } = playSchedule({
 *   format: 0,
 *   division: { fps: 25, ticksPerFrame: 40 }, // 1000 ticks a second
 *   tracks: [[{ delta: 1000, message: message("start") }]],
 * }, { speed: 2 });
 * assert.equal(messages[0].time, 500);
 * ```
 */
export function playSchedule(
  file: MidiFile,
  options: PlayScheduleOptions = {},
): PlaySchedule {
  const speed = options.speed ?? 1;
  if (typeof speed !== "number" || !(speed > 0) || !Number.isFinite(speed)) {
    throw new RangeError(
      `Invalid speed: expected a number greater than 0, got ${speed}`,
    );
  }
  const sequences = file.format === 2
    ? file.tracks.map((track) => [track])
    : [file.tracks];
  const messages: ScheduledMessage[] = [];
  let offset = 0;
  for (const tracks of sequences) {
    const part = scheduleTracks(tracks, file.division);
    for (const { time, message } of part.messages) {
      messages.push({ time: (offset + time) / speed, message });
    }
    offset += part.duration;
  }
  return { messages, duration: offset / speed };
}

/** An event at its absolute tick, and where it came from (for the order). */
interface Timed {
  tick: number;
  track: number;
  event: TrackEvent;
}

/** Tracks played together, at speed 1. */
function scheduleTracks(
  tracks: TrackEvent[][],
  division: Division,
): PlaySchedule {
  const timed: Timed[] = [];
  tracks.forEach((events, track) => {
    let tick = 0;
    for (const event of events) {
      tick += event.delta;
      timed.push({ tick, track, event });
    }
  });
  // Stable: at one tick, in track order, then in the track's own order.
  timed.sort((a, b) => a.tick - b.tick || a.track - b.track);
  const messages: ScheduledMessage[] = [];
  let duration = 0;
  if ("fps" in division) {
    const ticksPerMs = (division.fps === 29 ? 30000 / 1001 : division.fps) *
      division.ticksPerFrame / 1000;
    for (const { tick, event } of timed) {
      const time = tick / ticksPerMs;
      if ("message" in event) messages.push({ time, message: event.message });
      duration = Math.max(duration, time);
    }
    return { messages, duration };
  }
  const ppq = division.ticksPerBeat;
  // The tempo map, as the merged events meet it: the time and the tick
  // where the tempo last changed.
  let tempo = DEFAULT_TEMPO;
  let baseTick = 0;
  let baseTime = 0;
  for (const { tick, event } of timed) {
    const time = baseTime + (tick - baseTick) * tempo / ppq / 1000;
    if ("message" in event) {
      messages.push({ time, message: event.message });
    } else if (event.meta === META_TEMPO && event.data.length === 3) {
      baseTime = time;
      baseTick = tick;
      tempo = (event.data[0] << 16) | (event.data[1] << 8) | event.data[2];
    } else if (event.meta !== META_END_OF_TRACK) {
      continue; // text, markers, signatures: not on the wire, no time
    }
    duration = Math.max(duration, time);
  }
  return { messages, duration };
}
