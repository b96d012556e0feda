// Copyright 2026 the midisock authors. MIT license.
// playSchedule(): the tracks merged, the tempo map, SMPTE division, type 2
// in sequence, the speed, and what never goes on the wire.

import assert from "node:assert/strict";
import { message, type MidiFile, playSchedule, readMidiFile } from "../mod.ts";

const tempo = (us: number) =>
  new Uint8Array([us >> 16, (us >> 8) & 0xff, us & 0xff]);
const end = (delta = 0) => ({ delta, meta: 0x2f, data: new Uint8Array() });

Deno.test("playSchedule merges a type 1 file's tracks, a tempo in one track timing the others, in track order at one tick", () => {
  const file: MidiFile = {
    format: 1,
    division: { ticksPerBeat: 100 },
    tracks: [
      [
        { delta: 0, meta: 0x03, data: new TextEncoder().encode("name") },
        { delta: 200, meta: 0x51, data: tempo(1_000_000) }, // 60 bpm from tick 200
        end(300),
      ],
      [
        { delta: 100, message: message("note_on", { note: 1 }) },
        { delta: 100, message: message("note_on", { note: 2 }) },
        { delta: 100, message: message("note_on", { note: 3 }) },
      ],
      [
        { delta: 100, message: message("note_on", { note: 4 }) },
        { delta: 0, meta: 0x01, data: new Uint8Array([0x41]) },
        end(0),
      ],
    ],
  };
  const { messages, duration } = playSchedule(file);
  assert.deepEqual(
    messages.map((m) => [m.time, "note" in m.message ? m.message.note : -1]),
    [[500, 1], [500, 4], [1000, 2], [2000, 3]],
  );
  assert.equal(duration, 4000); // End of Track at tick 500: 1000 + 3 s
  assert.ok(messages.every((m) => m.message.type === "note_on"));
});

Deno.test("playSchedule times SMPTE division by frames, with 29 as 29.97, whatever the tempo", () => {
  const track = [
    { delta: 0, meta: 0x51, data: tempo(100_000) }, // no effect
    { delta: 80, message: message("clock") },
  ];
  const at = (fps: 24 | 25 | 29 | 30) =>
    playSchedule({
      format: 0,
      division: { fps, ticksPerFrame: 80 },
      tracks: [track],
    }).messages[0].time;
  const near = (got: number, want: number) =>
    assert.ok(Math.abs(got - want) < 1e-9, `${got} ms, not ${want}`);
  near(at(25), 40);
  near(at(24), 1000 / 24);
  near(at(29), 1001 / 30);
  near(at(30), 1000 / 30);
});

Deno.test("playSchedule plays a type 2 file's tracks one after another, each with its own tempo", () => {
  const { messages, duration } = playSchedule({
    format: 2,
    division: { ticksPerBeat: 10 },
    tracks: [
      [
        { delta: 0, meta: 0x51, data: tempo(250_000) },
        { delta: 10, message: message("start") },
        end(10),
      ],
      [{ delta: 10, message: message("stop") }, end(0)],
    ],
  });
  assert.deepEqual(messages.map((m) => [m.time, m.message.type]), [
    [250, "start"],
    [1000, "stop"], // 500 ms (120 bpm again) after the first track's 500
  ]);
  assert.equal(duration, 1000);
});

Deno.test("playSchedule sends a sysex continued across F7 packets whole, at its first packet's time", () => {
  // F0 03 01 02 03 at tick 0, then F7 02 04 F7 at tick 48: one sysex.
  const body = [0, 0xf0, 3, 1, 2, 3, 48, 0xf7, 2, 4, 0xf7, 0, 0x90, 60, 1];
  const bytes = new Uint8Array([
    ...[0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, 0, 96],
    ...[0x4d, 0x54, 0x72, 0x6b, 0, 0, 0, body.length, ...body],
  ]);
  const { messages } = playSchedule(readMidiFile(bytes));
  assert.deepEqual(messages, [
    { time: 0, message: message("sysex", { data: [1, 2, 3, 4] }) },
    { time: 250, message: message("note_on", { note: 60, velocity: 1 }) },
  ]);
});

Deno.test("playSchedule's speed divides every time; a speed that is not > 0 is a RangeError that names it", () => {
  const file: MidiFile = {
    format: 0,
    division: { ticksPerBeat: 96 },
    tracks: [[{ delta: 96, message: message("start") }, end(96)]],
  };
  const { messages, duration } = playSchedule(file, { speed: 0.5 });
  assert.deepEqual([messages[0].time, duration], [1000, 2000]);
  for (const speed of [0, -1, NaN, Infinity]) {
    assert.throws(() => playSchedule(file, { speed }), {
      name: "RangeError",
      message: `Invalid speed: expected a number greater than 0, got ${speed}`,
    });
  }
});
