// Copyright 2026 the midisock authors. MIT license.
// Private: the table of message types, their status bytes, fields and ranges.

/** The range of one message field. */
export interface FieldSpec {
  /** The camelCase field name used on a message object. */
  readonly name: string;
  /** The snake_case name used in mido's text format. */
  readonly textName: string;
  readonly min: number;
  readonly max: number;
  readonly default: number;
}

/** One message type. */
export interface TypeSpec {
  readonly type: string;
  /** The status byte, with channel 0 for channel messages. */
  readonly status: number;
  /** The fields in mido's order (the order of the text format). */
  readonly fields: readonly string[];
}

/** Every numeric field with its range and mido's default. */
export const FIELDS: Readonly<Record<string, FieldSpec>> = {
  channel: field("channel", "channel", 0, 15, 0),
  note: field("note", "note", 0, 127, 0),
  velocity: field("velocity", "velocity", 0, 127, 64),
  value: field("value", "value", 0, 127, 0),
  control: field("control", "control", 0, 127, 0),
  program: field("program", "program", 0, 127, 0),
  song: field("song", "song", 0, 127, 0),
  pitch: field("pitch", "pitch", -8192, 8191, 0),
  pos: field("pos", "pos", 0, 16383, 0),
  frameType: field("frameType", "frame_type", 0, 7, 0),
  frameValue: field("frameValue", "frame_value", 0, 15, 0),
};

function field(
  name: string,
  textName: string,
  min: number,
  max: number,
  def: number,
): FieldSpec {
  return { name, textName, min, max, default: def };
}

/** Text (snake_case) field name to message (camelCase) field name. */
export const TEXT_TO_FIELD: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.values(FIELDS).map((f) => [f.textName, f.name])),
  data: "data",
};

/** Message (camelCase) field name to text (snake_case) field name. */
export const FIELD_TO_TEXT: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.values(FIELDS).map((f) => [f.name, f.textName])),
  data: "data",
};

/** All 18 types, in mido's order. */
export const TYPES: Readonly<Record<string, TypeSpec>> = Object.fromEntries(
  ([
    ["note_off", 0x80, ["channel", "note", "velocity"]],
    ["note_on", 0x90, ["channel", "note", "velocity"]],
    ["polytouch", 0xa0, ["channel", "note", "value"]],
    ["control_change", 0xb0, ["channel", "control", "value"]],
    ["program_change", 0xc0, ["channel", "program"]],
    ["aftertouch", 0xd0, ["channel", "value"]],
    ["pitchwheel", 0xe0, ["channel", "pitch"]],
    ["sysex", 0xf0, ["data"]],
    ["quarter_frame", 0xf1, ["frameType", "frameValue"]],
    ["songpos", 0xf2, ["pos"]],
    ["song_select", 0xf3, ["song"]],
    ["tune_request", 0xf6, []],
    ["clock", 0xf8, []],
    ["start", 0xfa, []],
    ["continue", 0xfb, []],
    ["stop", 0xfc, []],
    ["active_sensing", 0xfe, []],
    ["reset", 0xff, []],
  ] as const).map(([type, status, fields]) => [
    type,
    { type, status, fields },
  ]),
);

/** Formats an allowed range for error messages. */
export function describeRange(spec: FieldSpec): string {
  return `${spec.min}..${spec.max}`;
}

/** Formats a received value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") {
    return `an object (${value.constructor?.name ?? "Object"})`;
  }
  return String(value);
}
