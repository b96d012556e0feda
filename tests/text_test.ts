// Copyright 2026 the midisock authors. MIT license.

import assert from "node:assert/strict";
import {
  formatMessage,
  type Message,
  message,
  type MessageType,
  parseMessage,
} from "../mod.ts";
import { askMido, toHex } from "./_mido.ts";
import { Random, testSeed } from "./_random.ts";
import { MIDO } from "./_peers.ts";

const TEXTS: [Message, string][] = [
  [
    message("note_off", { channel: 1, note: 60, velocity: 10 }),
    "note_off channel=1 note=60 velocity=10 time=0",
  ],
  [
    message("note_on", { channel: 15, note: 127, velocity: 0 }),
    "note_on channel=15 note=127 velocity=0 time=0",
  ],
  [
    message("polytouch", { channel: 2, note: 5, value: 6 }),
    "polytouch channel=2 note=5 value=6 time=0",
  ],
  [
    message("control_change", { channel: 3, control: 7, value: 100 }),
    "control_change channel=3 control=7 value=100 time=0",
  ],
  [
    message("program_change", { channel: 4, program: 42 }),
    "program_change channel=4 program=42 time=0",
  ],
  [
    message("aftertouch", { channel: 5, value: 99 }),
    "aftertouch channel=5 value=99 time=0",
  ],
  [
    message("pitchwheel", { channel: 6, pitch: -8192 }),
    "pitchwheel channel=6 pitch=-8192 time=0",
  ],
  [
    message("sysex", { data: [0, 1, 127] }),
    "sysex data=(0,1,127) time=0",
  ],
  [
    message("quarter_frame", { frameType: 7, frameValue: 15 }),
    "quarter_frame frame_type=7 frame_value=15 time=0",
  ],
  [message("songpos", { pos: 16383 }), "songpos pos=16383 time=0"],
  [message("song_select", { song: 3 }), "song_select song=3 time=0"],
  [message("tune_request"), "tune_request time=0"],
  [message("clock"), "clock time=0"],
  [message("start"), "start time=0"],
  [message("continue"), "continue time=0"],
  [message("stop"), "stop time=0"],
  [message("active_sensing"), "active_sensing time=0"],
  [message("reset"), "reset time=0"],
];

Deno.test("formatMessage() writes mido's str() for every type", () => {
  assert.equal(new Set(TEXTS.map(([m]) => m.type)).size, 18);
  for (const [msg, text] of TEXTS) assert.equal(formatMessage(msg), text);
});

Deno.test("parseMessage() reads back what formatMessage() writes, for every type", () => {
  for (const [msg, text] of TEXTS) {
    assert.deepEqual(parseMessage(text), { ...msg, time: 0 }, text);
    const { type, ...fields } = msg;
    const timed = message(type, { ...fields, time: 42 } as never);
    assert.deepEqual(parseMessage(formatMessage(timed)), timed);
  }
});

Deno.test("parseMessage() fills missing fields with mido's defaults and keeps time only if given", () => {
  assert.deepEqual(parseMessage("note_on"), message("note_on"));
  assert.deepEqual(parseMessage("note_off note=1"), {
    type: "note_off",
    channel: 0,
    note: 1,
    velocity: 64,
  });
  assert.deepEqual(parseMessage("pitchwheel time=2"), {
    type: "pitchwheel",
    channel: 0,
    pitch: 0,
    time: 2,
  });
  assert.deepEqual(parseMessage("sysex"), message("sysex"));
  // Fields in any order, with any spacing.
  assert.deepEqual(
    parseMessage("  control_change \t value=3   control=2 channel=1\n"),
    message("control_change", { channel: 1, control: 2, value: 3 }),
  );
  assert.ok(Object.isFrozen(parseMessage("clock")));
});

Deno.test("parseMessage() reads sysex data=() as an empty sysex, and formatMessage() writes it", () => {
  const empty = parseMessage("sysex data=() time=0");
  assert.deepEqual(empty, { type: "sysex", data: new Uint8Array(0), time: 0 });
  assert.equal(formatMessage(empty), "sysex data=() time=0");
  assert.equal(formatMessage(message("sysex")), "sysex data=() time=0");
  assert.deepEqual(
    parseMessage("sysex data=(5)"),
    message("sysex", { data: [5] }),
  );
});

Deno.test("formatMessage() writes float times as Python's repr() does", () => {
  const cases: [number, string][] = [
    [0.5, "0.5"],
    [1.5, "1.5"],
    [1e-5, "1e-05"],
    [1.5e-7, "1.5e-07"],
    [0.0001, "0.0001"],
    [0.00012, "0.00012"],
    [-2.5e-10, "-2.5e-10"],
    [1.25e-100, "1.25e-100"],
    [5e-324, "5e-324"],
    [123.456, "123.456"],
    [0.1 + 0.2, "0.30000000000000004"],
    [1234567890123456.7, "1234567890123456.8"],
    [1e16, "1e+16"],
    [-1e16, "-1e+16"],
    [2.5e20, "2.5e+20"],
    [1e21, "1e+21"],
    [12345678901234567890, "1.2345678901234567e+19"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    // Integer-valued numbers below 1e16 are written as mido writes an int.
    [0, "0"],
    [-0, "0"], // Python's repr(-0.0) is "-0.0"
    [2, "2"],
    [3, "3"],
    [-7, "-7"],
    [9999999999999998, "9999999999999998"],
  ];
  for (const [time, text] of cases) {
    assert.equal(
      formatMessage(message("clock", { time })),
      `clock time=${text}`,
      String(time),
    );
    // -0 is integer-valued too: it is written, and read back, as 0.
    assert.equal(
      parseMessage(`clock time=${text}`).time,
      time === 0 ? 0 : time,
    );
  }
});

/** The big-endian IEEE 754 bytes of a double, in hex. */
function doubleHex(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return toHex(new Uint8Array(view.buffer));
}

MIDO.test("formatMessage() writes 20,000 random times as Python's repr() does, and parseMessage() reads them back", async () => {
  const rng = new Random(testSeed());
  const view = new DataView(new ArrayBuffer(8));
  const times: number[] = [];
  const around = [1e-5, 1e-4, 1e15, 1e16, 2 ** 53, 1e21];
  for (const x of around) {
    for (let k = -4; k <= 4; k++) {
      // The doubles next to each place where the form changes.
      view.setFloat64(0, x);
      view.setBigUint64(0, view.getBigUint64(0) + BigInt(k));
      times.push(view.getFloat64(0), -view.getFloat64(0));
    }
  }
  while (times.length < 20_000) {
    let x: number;
    switch (rng.int(0, 2)) {
      case 0: // any finite double: every exponent, subnormals too
        do {
          view.setUint32(0, rng.int(0, 0xffffffff));
          view.setUint32(4, rng.int(0, 0xffffffff));
          x = view.getFloat64(0);
        } while (!Number.isFinite(x));
        break;
      case 1: // a short decimal, such as 2.5e+20 or 0.001
        x = Number(`${rng.int(1, 99999)}e${rng.int(-30, 30)}`);
        break;
      default: // a random double from 1e-12 to 1e22
        x = rng.next() * 10 ** rng.int(-12, 22);
    }
    times.push(rng.chance(0.5) ? -x : x);
  }
  const reprs = await askMido<string[]>({
    op: "repr",
    numbers: times.map(doubleHex),
  });
  assert.equal(reprs.length, times.length);
  for (let i = 0; i < times.length; i++) {
    const time = times[i];
    // An integer-valued time below 1e16 is written as an int, as mido writes
    // an int time: Python's repr(2.0) is "2.0", and ours is "2".
    const expected = Number.isInteger(time) && Math.abs(time) < 1e16
      ? BigInt(time).toString()
      : reprs[i];
    const text = formatMessage(message("clock", { time }));
    assert.equal(text, `clock time=${expected}`, `seed ${rng.seed}: ${time}`);
    assert.equal(parseMessage(text).time, time === 0 ? 0 : time, text);
  }
});

function syntaxError(text: string, word: string, why: string) {
  assert.throws(() => parseMessage(text), {
    name: "SyntaxError",
    message: `Cannot parse ${JSON.stringify(word)} in ${
      JSON.stringify(text)
    }: ${why}`,
  });
}

Deno.test("parseMessage() names an unknown type in its SyntaxError", () => {
  syntaxError(
    "note_of channel=0",
    "note_of",
    "unknown message type, expected one of note_off, note_on, polytouch, control_change, program_change, aftertouch, pitchwheel, sysex, quarter_frame, songpos, song_select, tune_request, clock, start, continue, stop, active_sensing, reset",
  );
  assert.throws(() => parseMessage("   "), {
    name: "SyntaxError",
    message: "Cannot parse an empty message: expected a message type",
  });
  assert.throws(() => parseMessage("constructor"), { name: "SyntaxError" });
});

Deno.test("parseMessage() names an unknown field in its SyntaxError", () => {
  syntaxError(
    "note_on pitch=5",
    "pitch=5",
    "note_on has no field pitch, its fields are channel, note, velocity, time",
  );
  syntaxError(
    "quarter_frame frameType=1",
    "frameType=1",
    "quarter_frame has no field frameType, its fields are frame_type, frame_value, time",
  );
  syntaxError(
    "clock channel=0",
    "channel=0",
    "clock has no field channel, its fields are time",
  );
});

Deno.test("parseMessage() names a word with no '=' in its SyntaxError", () => {
  syntaxError("note_on note60", "note60", "expected name=value");
  syntaxError("note_on =60", "=60", "expected name=value");
});

Deno.test("parseMessage() names a bad integer in its SyntaxError", () => {
  syntaxError("note_on note=6x", "note=6x", "note must be an integer");
  syntaxError("note_on note=", "note=", "note must be an integer");
  syntaxError("note_on note=60.0", "note=60.0", "note must be an integer");
  syntaxError("clock time=soon", "time=soon", "time must be a number");
  syntaxError("note_on note=1 note=2", "note=2", "note is given twice");
});

Deno.test("parseMessage() names a value out of range in its SyntaxError", () => {
  syntaxError(
    "note_on channel=0 note=300",
    "note=300",
    "Invalid note_on note: expected an integer in 0..127, got 300",
  );
  syntaxError(
    "pitchwheel pitch=-8193",
    "pitch=-8193",
    "Invalid pitchwheel pitch: expected an integer in -8192..8191, got -8193",
  );
  syntaxError(
    "quarter_frame frame_value=16",
    "frame_value=16",
    "Invalid quarter_frame frameValue: expected an integer in 0..15, got 16",
  );
  syntaxError(
    "sysex data=(1,128)",
    "data=(1,128)",
    "Invalid sysex data[1]: expected an integer in 0..127, got 128",
  );
  syntaxError(
    "clock time=1e999",
    "time=1e999",
    "Invalid clock time: expected a finite number, got Infinity",
  );
});

Deno.test("parseMessage() names bad sysex data parentheses in its SyntaxError", () => {
  const why = "data must be in parentheses, such as data=(1,2,3)";
  syntaxError("sysex data=1,2", "data=1,2", why);
  syntaxError("sysex data=(1,2", "data=(1,2", why);
  syntaxError("sysex data=1,2)", "data=1,2)", why);
  syntaxError("sysex data=[1,2]", "data=[1,2]", why);
  syntaxError(
    "sysex data=(1,x)",
    "data=(1,x)",
    'data byte "x" is not an integer',
  );
  syntaxError(
    "sysex data=(1,,2)",
    "data=(1,,2)",
    'data byte "" is not an integer',
  );
});

Deno.test("parseMessage() rejects a value that is not a string with TypeError", () => {
  assert.throws(() => parseMessage(5 as never), {
    name: "TypeError",
    message: "Cannot parse a message from number: expected a string",
  });
});

Deno.test("formatMessage() and parseMessage() round-trip every type at the ends of its ranges", () => {
  const ends: [MessageType, Record<string, number>][] = [
    ["note_on", { channel: 15, note: 127, velocity: 127 }],
    ["pitchwheel", { channel: 0, pitch: 8191 }],
    ["pitchwheel", { channel: 0, pitch: -8192 }],
    ["songpos", { pos: 0 }],
    ["quarter_frame", { frameType: 0, frameValue: 0 }],
  ];
  for (const [type, fields] of ends) {
    const msg = message(type, { ...fields, time: 0 });
    assert.deepEqual(parseMessage(formatMessage(msg)), msg);
  }
  const long = message("sysex", {
    data: Array.from({ length: 1000 }, (_, i) => i % 128),
    time: 7,
  });
  assert.deepEqual(parseMessage(formatMessage(long)), long);
});

Deno.test("formatMessage() fills defaults for a hand-written message and checks it", () => {
  assert.equal(
    formatMessage({ type: "note_on", note: 60 } as never),
    "note_on channel=0 note=60 velocity=64 time=0",
  );
  assert.throws(() => formatMessage({ type: "note_on", note: 300 } as never), {
    name: "RangeError",
    message: "Invalid note_on note: expected an integer in 0..127, got 300",
  });
});
