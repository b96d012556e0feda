// Copyright 2026 the midisock authors. MIT license.
// Test helper: a seeded random number generator and random messages, so that
// a failing run can be repeated with the seed that it printed.

import { type Message, message, type MessageType } from "../mod.ts";

/** The seed that tests use unless MIDISOCK_SEED names another one. */
export const DEFAULT_SEED = 0x5eed_1234;

/**
 * Reads MIDISOCK_SEED, or returns {@linkcode DEFAULT_SEED} when it is unset
 * or the tests may not read the environment.
 */
export function testSeed(): number {
  const permission = Deno.permissions.querySync({
    name: "env",
    variable: "MIDISOCK_SEED",
  });
  if (permission.state !== "granted") return DEFAULT_SEED;
  const text = Deno.env.get("MIDISOCK_SEED");
  if (text === undefined || text === "") return DEFAULT_SEED;
  const seed = Number(text);
  if (!Number.isInteger(seed)) {
    throw new TypeError(`MIDISOCK_SEED must be an integer, got ${text}`);
  }
  return seed >>> 0;
}

/** A small, fast, seeded generator (mulberry32). */
export class Random {
  #state: number;

  constructor(readonly seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in min..max, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** `n` random bytes (0..255). */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

/** All 18 types, in mido's order. */
export const ALL_TYPES: readonly MessageType[] = [
  "note_off",
  "note_on",
  "polytouch",
  "control_change",
  "program_change",
  "aftertouch",
  "pitchwheel",
  "sysex",
  "quarter_frame",
  "songpos",
  "song_select",
  "tune_request",
  "clock",
  "start",
  "continue",
  "stop",
  "active_sensing",
  "reset",
];

const RANGES: Record<string, [number, number]> = {
  channel: [0, 15],
  note: [0, 127],
  velocity: [0, 127],
  value: [0, 127],
  control: [0, 127],
  program: [0, 127],
  song: [0, 127],
  pitch: [-8192, 8191],
  pos: [0, 16383],
  frameType: [0, 7],
  frameValue: [0, 15],
};

const FIELDS_OF: Record<MessageType, readonly string[]> = {
  note_off: ["channel", "note", "velocity"],
  note_on: ["channel", "note", "velocity"],
  polytouch: ["channel", "note", "value"],
  control_change: ["channel", "control", "value"],
  program_change: ["channel", "program"],
  aftertouch: ["channel", "value"],
  pitchwheel: ["channel", "pitch"],
  sysex: ["data"],
  quarter_frame: ["frameType", "frameValue"],
  songpos: ["pos"],
  song_select: ["song"],
  tune_request: [],
  clock: [],
  start: [],
  continue: [],
  stop: [],
  active_sensing: [],
  reset: [],
};

/** A field value, with the ends of the range and their neighbours often. */
function fieldValue(rng: Random, name: string): number {
  const [min, max] = RANGES[name];
  if (rng.chance(0.3)) return rng.pick([min, min + 1, max - 1, max]);
  return rng.int(min, max);
}

/** Sysex data of a length that is mostly short, sometimes empty or long. */
export function sysexData(rng: Random, maxLength = 300): Uint8Array {
  const roll = rng.next();
  const length = roll < 0.1
    ? 0
    : roll < 0.2
    ? 1
    : roll < 0.9
    ? rng.int(2, Math.min(32, maxLength))
    : rng.int(0, maxLength);
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    data[i] = rng.chance(0.2) ? rng.pick([0, 127]) : rng.int(0, 127);
  }
  return data;
}

/** Options for {@linkcode randomMessage}. */
export interface RandomMessageOptions {
  /** Give the message an integer time. @default {false} */
  time?: boolean;
  /** The longest sysex data. @default {300} */
  maxSysex?: number;
  /** The types to pick from. @default {ALL_TYPES} */
  types?: readonly MessageType[];
}

/** A random valid message, built by message(). */
export function randomMessage(
  rng: Random,
  options: RandomMessageOptions = {},
): Message {
  const type = rng.pick(options.types ?? ALL_TYPES);
  const fields: Record<string, unknown> = {};
  for (const name of FIELDS_OF[type]) {
    fields[name] = name === "data"
      ? sysexData(rng, options.maxSysex ?? 300)
      : fieldValue(rng, name);
  }
  if (options.time) {
    fields.time = rng.chance(0.3) ? 0 : rng.int(0, 1_000_000);
  }
  return message(type, fields);
}
