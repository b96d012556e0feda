// Copyright 2026 the midisock authors. MIT license.
/**
 * MIDI messages: plain frozen objects with a `type` discriminant, named and
 * shaped like Python mido's messages (fields in camelCase).
 *
 * @module
 */

import { build } from "./_validate.ts";

/** The field that every message may carry. */
export interface MessageBase {
  /**
   * Time in the text format only (mido's `time`). It never goes on the wire.
   */
  readonly time?: number;
}

/** A Note Off channel message (status 0x80). */
export interface NoteOff extends MessageBase {
  /** The message type, `"note_off"`. */
  readonly type: "note_off";
  /** Channel, 0..15. */
  readonly channel: number;
  /** Note number, 0..127. */
  readonly note: number;
  /** Release velocity, 0..127 (default 64). */
  readonly velocity: number;
}

/** A Note On channel message (status 0x90). */
export interface NoteOn extends MessageBase {
  /** The message type, `"note_on"`. */
  readonly type: "note_on";
  /** Channel, 0..15. */
  readonly channel: number;
  /** Note number, 0..127. */
  readonly note: number;
  /** Velocity, 0..127 (default 64). */
  readonly velocity: number;
}

/** A Polyphonic Key Pressure channel message (status 0xA0). */
export interface Polytouch extends MessageBase {
  /** The message type, `"polytouch"`. */
  readonly type: "polytouch";
  /** Channel, 0..15. */
  readonly channel: number;
  /** Note number, 0..127. */
  readonly note: number;
  /** Pressure, 0..127. */
  readonly value: number;
}

/** A Control Change channel message (status 0xB0). */
export interface ControlChange extends MessageBase {
  /** The message type, `"control_change"`. */
  readonly type: "control_change";
  /** Channel, 0..15. */
  readonly channel: number;
  /** Controller number, 0..127. */
  readonly control: number;
  /** Controller value, 0..127. */
  readonly value: number;
}

/** A Program Change channel message (status 0xC0). */
export interface ProgramChange extends MessageBase {
  /** The message type, `"program_change"`. */
  readonly type: "program_change";
  /** Channel, 0..15. */
  readonly channel: number;
  /** Program number, 0..127. */
  readonly program: number;
}

/** A Channel Pressure channel message (status 0xD0). */
export interface Aftertouch extends MessageBase {
  /** The message type, `"aftertouch"`. */
  readonly type: "aftertouch";
  /** Channel, 0..15. */
  readonly channel: number;
  /** Pressure, 0..127. */
  readonly value: number;
}

/** A Pitch Bend channel message (status 0xE0). */
export interface Pitchwheel extends MessageBase {
  /** The message type, `"pitchwheel"`. */
  readonly type: "pitchwheel";
  /** Channel, 0..15. */
  readonly channel: number;
  /** Bend, -8192..8191, 0 is the centre. */
  readonly pitch: number;
}

/** A System Exclusive message (F0 data... F7). */
export interface Sysex extends MessageBase {
  /** The message type, `"sysex"`. */
  readonly type: "sysex";
  /** The bytes between F0 and F7, each 0..127. */
  readonly data: Uint8Array;
}

/** An MTC Quarter Frame message (status 0xF1). */
export interface QuarterFrame extends MessageBase {
  /** The message type, `"quarter_frame"`. */
  readonly type: "quarter_frame";
  /** Frame type, 0..7 (mido's frame_type). */
  readonly frameType: number;
  /** Frame value, 0..15 (mido's frame_value). */
  readonly frameValue: number;
}

/** A Song Position Pointer message (status 0xF2). */
export interface Songpos extends MessageBase {
  /** The message type, `"songpos"`. */
  readonly type: "songpos";
  /** Position in MIDI beats, 0..16383. */
  readonly pos: number;
}

/** A Song Select message (status 0xF3). */
export interface SongSelect extends MessageBase {
  /** The message type, `"song_select"`. */
  readonly type: "song_select";
  /** Song number, 0..127. */
  readonly song: number;
}

/** A Tune Request message (status 0xF6). */
export interface TuneRequest extends MessageBase {
  /** The message type, `"tune_request"`. */
  readonly type: "tune_request";
}

/** A Timing Clock real-time message (status 0xF8). */
export interface Clock extends MessageBase {
  /** The message type, `"clock"`. */
  readonly type: "clock";
}

/** A Start real-time message (status 0xFA). */
export interface Start extends MessageBase {
  /** The message type, `"start"`. */
  readonly type: "start";
}

/** A Continue real-time message (status 0xFB). */
export interface Continue extends MessageBase {
  /** The message type, `"continue"`. */
  readonly type: "continue";
}

/** A Stop real-time message (status 0xFC). */
export interface Stop extends MessageBase {
  /** The message type, `"stop"`. */
  readonly type: "stop";
}

/** An Active Sensing real-time message (status 0xFE). */
export interface ActiveSensing extends MessageBase {
  /** The message type, `"active_sensing"`. */
  readonly type: "active_sensing";
}

/** A System Reset real-time message (status 0xFF). */
export interface Reset extends MessageBase {
  /** The message type, `"reset"`. */
  readonly type: "reset";
}

/**
 * Any MIDI message. Narrow it with `type`:
 *
 * @example Narrowing on the type
 * ```ts
 * import { type Message, message } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const msg: Message = message("note_on", { note: 60 });
 * if (msg.type === "note_on") assert.equal(msg.velocity, 64);
 * ```
 */
export type Message =
  | NoteOff
  | NoteOn
  | Polytouch
  | ControlChange
  | ProgramChange
  | Aftertouch
  | Pitchwheel
  | Sysex
  | QuarterFrame
  | Songpos
  | SongSelect
  | TuneRequest
  | Clock
  | Start
  | Continue
  | Stop
  | ActiveSensing
  | Reset;

/** The name of a message type, such as `"note_on"`. */
export type MessageType = Message["type"];

/** The message of one type. */
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

/**
 * The fields that {@linkcode message} takes for a type. Every field is
 * optional and defaults as in mido. Sysex data may be any array of integers.
 */
export type MessageFields<T extends MessageType> =
  & {
    [K in Exclude<keyof MessageOf<T>, "type">]?: K extends "data"
      ? Uint8Array | readonly number[]
      : MessageOf<T>[K];
  }
  & {
    /** The same type again, so that a copy (`{ ...msg, note: 64 }`) works. */
    type?: T;
  };

/**
 * Builds a message, checks every field, fills mido's defaults (velocity 64,
 * every other field 0, empty sysex data) and returns it frozen.
 *
 * @param type One of the 18 mido message types.
 * @param fields The fields to set. The others take their defaults.
 * @returns A frozen message object.
 * @throws {TypeError} For an unknown type or field, or a value that is not an
 * integer. The message names the type, the field, the range and the value.
 * @throws {RangeError} For a value out of range.
 *
 * @example Building messages
 * ```ts
 * import { message } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const on = message("note_on", { channel: 9, note: 36, velocity: 100 });
 * assert.deepEqual(on, {
 *   type: "note_on",
 *   channel: 9,
 *   note: 36,
 *   velocity: 100,
 * });
 * assert.ok(Object.isFrozen(on));
 * assert.deepEqual(message("sysex", { data: [0x7e, 0x7f] }).data, new Uint8Array([0x7e, 0x7f]));
 * ```
 *
 * @example Copying with changes, like mido's msg.copy()
 * ```ts
 * import { message } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const on = message("note_on", { note: 60, velocity: 100 });
 * const fifth = message(on.type, { ...on, note: 67 });
 * assert.deepEqual(fifth, message("note_on", { note: 67, velocity: 100 }));
 * ```
 *
 * @example Bad fields are errors that say what is wrong
 * ```ts
 * import { message } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => message("note_on", { note: 128 }), {
 *   name: "RangeError",
 *   message: "Invalid note_on note: expected an integer in 0..127, got 128",
 * });
 * ```
 */
export function message<T extends MessageType>(
  type: T,
  fields?: MessageFields<T>,
): MessageOf<T> {
  return build(type, fields) as MessageOf<T>;
}
