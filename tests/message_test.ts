// Copyright 2026 the midisock authors. MIT license.

import assert from "node:assert/strict";
import { message, type MessageType } from "../mod.ts";

const ALL_TYPES =
  "note_off note_on polytouch control_change program_change aftertouch pitchwheel sysex quarter_frame songpos song_select tune_request clock start continue stop active_sensing reset";

Deno.test("message() builds all 18 types with mido's defaults", () => {
  const expected: Record<MessageType, object> = {
    note_off: { type: "note_off", channel: 0, note: 0, velocity: 64 },
    note_on: { type: "note_on", channel: 0, note: 0, velocity: 64 },
    polytouch: { type: "polytouch", channel: 0, note: 0, value: 0 },
    control_change: {
      type: "control_change",
      channel: 0,
      control: 0,
      value: 0,
    },
    program_change: { type: "program_change", channel: 0, program: 0 },
    aftertouch: { type: "aftertouch", channel: 0, value: 0 },
    pitchwheel: { type: "pitchwheel", channel: 0, pitch: 0 },
    sysex: { type: "sysex", data: new Uint8Array(0) },
    quarter_frame: { type: "quarter_frame", frameType: 0, frameValue: 0 },
    songpos: { type: "songpos", pos: 0 },
    song_select: { type: "song_select", song: 0 },
    tune_request: { type: "tune_request" },
    clock: { type: "clock" },
    start: { type: "start" },
    continue: { type: "continue" },
    stop: { type: "stop" },
    active_sensing: { type: "active_sensing" },
    reset: { type: "reset" },
  };
  assert.deepEqual(Object.keys(expected).join(" "), ALL_TYPES);
  for (const [type, want] of Object.entries(expected)) {
    const got = message(type as MessageType);
    assert.deepEqual(got, want, type);
    assert.deepEqual(Object.keys(got), Object.keys(want), type);
    assert.ok(Object.isFrozen(got), `${type} is frozen`);
    assert.deepEqual(message(type as MessageType, {}), want, type);
  }
});

Deno.test("message() keeps the given fields in mido's order, and time", () => {
  const msg = message("control_change", {
    value: 127,
    time: 1.5,
    channel: 15,
    control: 7,
  });
  assert.deepEqual(msg, {
    type: "control_change",
    channel: 15,
    control: 7,
    value: 127,
    time: 1.5,
  });
  assert.deepEqual(Object.keys(msg), [
    "type",
    "channel",
    "control",
    "value",
    "time",
  ]);
  assert.deepEqual(
    message("quarter_frame", { frameType: 7, frameValue: 15 }),
    { type: "quarter_frame", frameType: 7, frameValue: 15 },
  );
  assert.deepEqual(message("pitchwheel", { pitch: -8192 }), {
    type: "pitchwheel",
    channel: 0,
    pitch: -8192,
  });
  assert.deepEqual(message("songpos", { pos: 16383 }), {
    type: "songpos",
    pos: 16383,
  });
});

Deno.test("message() copies sysex data from an array or a Uint8Array", () => {
  const source = new Uint8Array([1, 2, 3]);
  const fromTyped = message("sysex", { data: source });
  source[0] = 99;
  assert.deepEqual(fromTyped.data, new Uint8Array([1, 2, 3]));
  const fromArray = message("sysex", { data: [0, 127] });
  assert.ok(fromArray.data instanceof Uint8Array);
  assert.deepEqual(fromArray.data, new Uint8Array([0, 127]));
});

Deno.test("message() throws TypeError naming type, field, range and value for a non-integer", () => {
  const cases: [MessageType, Record<string, unknown>, string][] = [
    [
      "note_on",
      { note: 60.5 },
      "Invalid note_on note: expected an integer in 0..127, got 60.5",
    ],
    [
      "note_off",
      { velocity: "64" },
      'Invalid note_off velocity: expected an integer in 0..127, got "64"',
    ],
    [
      "control_change",
      { channel: null },
      "Invalid control_change channel: expected an integer in 0..15, got null",
    ],
    [
      "pitchwheel",
      { pitch: 5n },
      "Invalid pitchwheel pitch: expected an integer in -8192..8191, got 5n",
    ],
    [
      "songpos",
      { pos: NaN },
      "Invalid songpos pos: expected an integer in 0..16383, got NaN",
    ],
    [
      "quarter_frame",
      { frameValue: [1] },
      "Invalid quarter_frame frameValue: expected an integer in 0..15, got an array",
    ],
    [
      "program_change",
      { program: true },
      "Invalid program_change program: expected an integer in 0..127, got true",
    ],
    [
      "song_select",
      { song: Infinity },
      "Invalid song_select song: expected an integer in 0..127, got Infinity",
    ],
    [
      "sysex",
      { data: "abc" },
      'Invalid sysex data: expected a Uint8Array or an array of integers in 0..127, got "abc"',
    ],
    [
      "sysex",
      { data: [1, 2.5] },
      "Invalid sysex data[1]: expected an integer in 0..127, got 2.5",
    ],
    [
      "clock",
      { time: "0" },
      'Invalid clock time: expected a number, got "0"',
    ],
  ];
  for (const [type, fields, text] of cases) {
    assert.throws(
      () => message(type, fields as never),
      { name: "TypeError", message: text },
      text,
    );
  }
});

Deno.test("message() throws RangeError just outside every field's range", () => {
  const ranges: [MessageType, string, number, number][] = [
    ["note_off", "channel", 0, 15],
    ["note_off", "note", 0, 127],
    ["note_off", "velocity", 0, 127],
    ["note_on", "channel", 0, 15],
    ["note_on", "note", 0, 127],
    ["note_on", "velocity", 0, 127],
    ["polytouch", "note", 0, 127],
    ["polytouch", "value", 0, 127],
    ["control_change", "control", 0, 127],
    ["control_change", "value", 0, 127],
    ["program_change", "program", 0, 127],
    ["aftertouch", "value", 0, 127],
    ["pitchwheel", "channel", 0, 15],
    ["pitchwheel", "pitch", -8192, 8191],
    ["quarter_frame", "frameType", 0, 7],
    ["quarter_frame", "frameValue", 0, 15],
    ["songpos", "pos", 0, 16383],
    ["song_select", "song", 0, 127],
  ];
  for (const [type, field, min, max] of ranges) {
    for (const bad of [min - 1, max + 1]) {
      assert.throws(() => message(type, { [field]: bad }), {
        name: "RangeError",
        message:
          `Invalid ${type} ${field}: expected an integer in ${min}..${max}, got ${bad}`,
      });
    }
    // The ends themselves are fine.
    assert.equal(
      (message(type, { [field]: min }) as unknown as Record<string, unknown>)[
        field
      ],
      min,
    );
    assert.equal(
      (message(type, { [field]: max }) as unknown as Record<string, unknown>)[
        field
      ],
      max,
    );
  }
  assert.throws(() => message("sysex", { data: [1, 128] }), {
    name: "RangeError",
    message: "Invalid sysex data[1]: expected an integer in 0..127, got 128",
  });
  assert.throws(() => message("sysex", { data: new Uint8Array([0xf7]) }), {
    name: "RangeError",
    message: "Invalid sysex data[0]: expected an integer in 0..127, got 247",
  });
  assert.throws(() => message("sysex", { data: [-1] }), {
    name: "RangeError",
    message: "Invalid sysex data[0]: expected an integer in 0..127, got -1",
  });
  assert.throws(() => message("start", { time: Infinity }), {
    name: "RangeError",
    message: "Invalid start time: expected a finite number, got Infinity",
  });
});

Deno.test("message() rejects an unknown type with TypeError listing the types", () => {
  const list = ALL_TYPES.split(" ").join(", ");
  assert.throws(() => message("note" as MessageType), {
    name: "TypeError",
    message: `Unknown message type "note": expected one of ${list}`,
  });
  assert.throws(() => message(144 as unknown as MessageType), {
    name: "TypeError",
    message: `Unknown message type 144: expected one of ${list}`,
  });
  // An inherited property is not a type.
  assert.throws(() => message("toString" as MessageType), {
    name: "TypeError",
  });
});

Deno.test("message() copies a message given with its own type", () => {
  const on = message("note_on", { channel: 3, note: 60, velocity: 100 });
  assert.deepEqual(message(on.type, { ...on, note: 67 }), {
    type: "note_on",
    channel: 3,
    note: 67,
    velocity: 100,
  });
});

Deno.test("message() rejects an unknown field with TypeError naming the fields", () => {
  assert.throws(() => message("note_on", { value: 1 } as never), {
    name: "TypeError",
    message:
      'Unknown note_on field "value": its fields are channel, note, velocity and time',
  });
  assert.throws(() => message("quarter_frame", { frame_type: 1 } as never), {
    name: "TypeError",
    message:
      'Unknown quarter_frame field "frame_type": its fields are frameType, frameValue and time',
  });
  assert.throws(() => message("clock", { channel: 0 } as never), {
    name: "TypeError",
    message: 'Unknown clock field "channel": it has no fields but time',
  });
  assert.throws(() => message("note_on", { type: "note_off" } as never), {
    name: "TypeError",
    message:
      'Invalid note_on fields: they have type "note_off", expected "note_on" or none',
  });
  assert.throws(() => message("note_on", 5 as never), {
    name: "TypeError",
    message: "Invalid note_on fields: expected an object, got 5",
  });
});
