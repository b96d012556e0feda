// Copyright 2026 the midisock authors. MIT license.

import assert from "node:assert/strict";
import { encode, type Message, message, type MessageType } from "../mod.ts";

function bytes(...values: number[]): Uint8Array {
  return new Uint8Array(values);
}

Deno.test("encode() gives mido's bytes for every type", () => {
  const cases: [Message, Uint8Array][] = [
    [
      message("note_off", { channel: 1, note: 60, velocity: 10 }),
      bytes(0x81, 60, 10),
    ],
    [
      message("note_on", { channel: 15, note: 127, velocity: 0 }),
      bytes(0x9f, 127, 0),
    ],
    [
      message("polytouch", { channel: 2, note: 5, value: 6 }),
      bytes(0xa2, 5, 6),
    ],
    [
      message("control_change", { channel: 3, control: 7, value: 100 }),
      bytes(0xb3, 7, 100),
    ],
    [message("program_change", { channel: 4, program: 42 }), bytes(0xc4, 42)],
    [message("aftertouch", { channel: 5, value: 99 }), bytes(0xd5, 99)],
    [message("pitchwheel", { channel: 6, pitch: 1 }), bytes(0xe6, 1, 0x40)],
    [
      message("sysex", { data: [0x7e, 0x7f, 0x09, 0x01] }),
      bytes(0xf0, 0x7e, 0x7f, 0x09, 0x01, 0xf7),
    ],
    [
      message("quarter_frame", { frameType: 3, frameValue: 9 }),
      bytes(0xf1, 0x39),
    ],
    [message("songpos", { pos: 300 }), bytes(0xf2, 300 & 0x7f, 300 >> 7)],
    [message("song_select", { song: 17 }), bytes(0xf3, 17)],
    [message("tune_request"), bytes(0xf6)],
    [message("clock"), bytes(0xf8)],
    [message("start"), bytes(0xfa)],
    [message("continue"), bytes(0xfb)],
    [message("stop"), bytes(0xfc)],
    [message("active_sensing"), bytes(0xfe)],
    [message("reset"), bytes(0xff)],
  ];
  assert.equal(new Set(cases.map(([m]) => m.type)).size, 18);
  for (const [msg, want] of cases) {
    assert.deepEqual(encode(msg), want, msg.type);
  }
});

Deno.test("encode() writes mido's defaults for a message built with no fields", () => {
  assert.deepEqual(encode(message("note_on")), bytes(0x90, 0, 64));
  assert.deepEqual(encode(message("note_off")), bytes(0x80, 0, 64));
  assert.deepEqual(encode(message("pitchwheel")), bytes(0xe0, 0, 0x40));
  assert.deepEqual(encode(message("sysex")), bytes(0xf0, 0xf7));
  assert.deepEqual(encode(message("quarter_frame")), bytes(0xf1, 0));
});

Deno.test("encode() handles the ends of the pitch and song position ranges", () => {
  assert.deepEqual(
    encode(message("pitchwheel", { pitch: -8192 })),
    bytes(0xe0, 0, 0),
  );
  assert.deepEqual(
    encode(message("pitchwheel", { pitch: 8191 })),
    bytes(0xe0, 0x7f, 0x7f),
  );
  assert.deepEqual(
    encode(message("pitchwheel", { pitch: 0 })),
    bytes(0xe0, 0, 0x40),
  );
  assert.deepEqual(
    encode(message("pitchwheel", { pitch: -1 })),
    bytes(0xe0, 0x7f, 0x3f),
  );
  assert.deepEqual(encode(message("songpos", { pos: 0 })), bytes(0xf2, 0, 0));
  assert.deepEqual(
    encode(message("songpos", { pos: 16383 })),
    bytes(0xf2, 0x7f, 0x7f),
  );
  assert.deepEqual(encode(message("songpos", { pos: 128 })), bytes(0xf2, 0, 1));
  assert.deepEqual(
    encode(message("quarter_frame", { frameType: 7, frameValue: 15 })),
    bytes(0xf1, 0x7f),
  );
});

Deno.test("encode() writes an empty sysex as F0 F7 and a 64 KiB sysex whole", () => {
  assert.deepEqual(encode(message("sysex", { data: [] })), bytes(0xf0, 0xf7));
  const data = new Uint8Array(64 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0x7f;
  const out = encode(message("sysex", { data }));
  assert.equal(out.length, 64 * 1024 + 2);
  assert.equal(out[0], 0xf0);
  assert.equal(out[out.length - 1], 0xf7);
  assert.deepEqual(out.subarray(1, -1), data);
  // The same data as a plain array in a hand-written message.
  assert.deepEqual(
    encode({ type: "sysex", data: Array.from(data) as never }),
    out,
  );
});

Deno.test("encode() never writes time", () => {
  assert.deepEqual(encode(message("clock", { time: 12.5 })), bytes(0xf8));
  assert.deepEqual(
    encode(message("note_on", { note: 1, time: 3 })),
    bytes(0x90, 1, 64),
  );
});

Deno.test("encode() accepts a hand-written object and fills mido's defaults", () => {
  assert.deepEqual(
    encode({ type: "note_on", note: 60 } as never),
    bytes(0x90, 60, 64),
  );
  assert.deepEqual(
    encode({ type: "control_change" } as never),
    bytes(0xb0, 0, 0),
  );
  assert.deepEqual(encode({ type: "sysex" } as never), bytes(0xf0, 0xf7));
  assert.deepEqual(encode({ type: "stop", time: 1 }), bytes(0xfc));
  assert.deepEqual(
    encode({
      type: "note_off",
      channel: 2,
      note: 3,
      velocity: 4,
      time: undefined,
    }),
    bytes(0x82, 3, 4),
  );
  assert.deepEqual(
    encode({ type: "sysex", data: new Uint8Array([1, 2]) }),
    bytes(0xf0, 1, 2, 0xf7),
  );
});

// Each bad hand-written message, with the fields that message() rejects the
// same way.
const BAD: [Record<string, unknown>, string, string][] = [
  [
    { type: "note_on", note: 128 },
    "RangeError",
    "Invalid note_on note: expected an integer in 0..127, got 128",
  ],
  [
    { type: "note_on", note: -1 },
    "RangeError",
    "Invalid note_on note: expected an integer in 0..127, got -1",
  ],
  [
    { type: "note_on", note: 60.5 },
    "TypeError",
    "Invalid note_on note: expected an integer in 0..127, got 60.5",
  ],
  [
    { type: "note_on", note: 2 ** 32 + 60 },
    "RangeError",
    `Invalid note_on note: expected an integer in 0..127, got ${2 ** 32 + 60}`,
  ],
  [
    { type: "note_off", channel: 16 },
    "RangeError",
    "Invalid note_off channel: expected an integer in 0..15, got 16",
  ],
  [
    { type: "note_off", velocity: "1" },
    "TypeError",
    'Invalid note_off velocity: expected an integer in 0..127, got "1"',
  ],
  [
    { type: "polytouch", value: NaN },
    "TypeError",
    "Invalid polytouch value: expected an integer in 0..127, got NaN",
  ],
  [
    { type: "control_change", control: 200 },
    "RangeError",
    "Invalid control_change control: expected an integer in 0..127, got 200",
  ],
  [
    { type: "program_change", program: null },
    "TypeError",
    "Invalid program_change program: expected an integer in 0..127, got null",
  ],
  [
    { type: "aftertouch", channel: -1 },
    "RangeError",
    "Invalid aftertouch channel: expected an integer in 0..15, got -1",
  ],
  [
    { type: "pitchwheel", pitch: 8192 },
    "RangeError",
    "Invalid pitchwheel pitch: expected an integer in -8192..8191, got 8192",
  ],
  [
    { type: "pitchwheel", pitch: -8193 },
    "RangeError",
    "Invalid pitchwheel pitch: expected an integer in -8192..8191, got -8193",
  ],
  [
    { type: "pitchwheel", pitch: 0.5 },
    "TypeError",
    "Invalid pitchwheel pitch: expected an integer in -8192..8191, got 0.5",
  ],
  [
    { type: "sysex", data: [1, 128] },
    "RangeError",
    "Invalid sysex data[1]: expected an integer in 0..127, got 128",
  ],
  [
    { type: "sysex", data: new Uint8Array([0, 0xf7]) },
    "RangeError",
    "Invalid sysex data[1]: expected an integer in 0..127, got 247",
  ],
  [
    { type: "sysex", data: [1, "2"] },
    "TypeError",
    'Invalid sysex data[1]: expected an integer in 0..127, got "2"',
  ],
  [
    { type: "sysex", data: 5 },
    "TypeError",
    "Invalid sysex data: expected a Uint8Array or an array of integers in 0..127, got 5",
  ],
  [
    { type: "quarter_frame", frameType: 8 },
    "RangeError",
    "Invalid quarter_frame frameType: expected an integer in 0..7, got 8",
  ],
  [
    { type: "quarter_frame", frameValue: 16 },
    "RangeError",
    "Invalid quarter_frame frameValue: expected an integer in 0..15, got 16",
  ],
  [
    { type: "songpos", pos: 16384 },
    "RangeError",
    "Invalid songpos pos: expected an integer in 0..16383, got 16384",
  ],
  [
    { type: "song_select", song: 128 },
    "RangeError",
    "Invalid song_select song: expected an integer in 0..127, got 128",
  ],
  [
    { type: "clock", time: "now" },
    "TypeError",
    'Invalid clock time: expected a number, got "now"',
  ],
  [
    { type: "clock", time: NaN },
    "RangeError",
    "Invalid clock time: expected a finite number, got NaN",
  ],
  [
    { type: "note_on", pitch: 1 },
    "TypeError",
    'Unknown note_on field "pitch": its fields are channel, note, velocity and time',
  ],
  [
    { type: "reset", channel: 0 },
    "TypeError",
    'Unknown reset field "channel": it has no fields but time',
  ],
];

Deno.test("encode() rejects a bad hand-written message exactly as message() does", () => {
  for (const [bad, name, text] of BAD) {
    const { type, ...fields } = bad;
    let bytes: Uint8Array | undefined;
    assert.throws(() => {
      bytes = encode(bad as never);
    }, { name, message: text });
    assert.equal(bytes, undefined);
    assert.throws(() => message(type as MessageType, fields as never), {
      name,
      message: text,
    });
  }
});

Deno.test("encode() rejects a value that is not a message with TypeError", () => {
  const list =
    "note_off, note_on, polytouch, control_change, program_change, aftertouch, pitchwheel, sysex, quarter_frame, songpos, song_select, tune_request, clock, start, continue, stop, active_sensing, reset";
  assert.throws(() => encode(null as never), {
    name: "TypeError",
    message: "Invalid message: expected an object with a type, got null",
  });
  assert.throws(() => encode(0x90 as never), {
    name: "TypeError",
    message: "Invalid message: expected an object with a type, got 144",
  });
  assert.throws(() => encode({} as never), {
    name: "TypeError",
    message: `Unknown message type undefined: expected one of ${list}`,
  });
  assert.throws(() => encode({ type: "noteon" } as never), {
    name: "TypeError",
    message: `Unknown message type "noteon": expected one of ${list}`,
  });
});

Deno.test("encode() checks a copy of a message() result, which is not trusted", () => {
  const good = message("note_on", { note: 60 });
  assert.deepEqual(encode(good), new Uint8Array([0x90, 60, 64]));
  assert.throws(() => encode({ ...good, note: 200 }), {
    name: "RangeError",
    message: "Invalid note_on note: expected an integer in 0..127, got 200",
  });
  assert.throws(() => {
    (good as { note: number }).note = 200; // frozen: strict mode throws
  }, TypeError);
  assert.deepEqual(encode(good), new Uint8Array([0x90, 60, 64]));
});
