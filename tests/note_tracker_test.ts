// Copyright 2026 the midisock authors. MIT license.
// NoteTracker: what a player left sounding, and the bus's controller state;
// exponentialBackoff: exact waits.

import assert from "node:assert/strict";
import { exponentialBackoff, message, NoteTracker } from "../mod.ts";

Deno.test("NoteTracker releases each held note and each pedal that is down, on every channel, and never sends CC 123", () => {
  const tracker = new NoteTracker();
  for (
    const msg of [
      message("note_on", { channel: 3, note: 64, velocity: 90 }),
      message("note_on", { channel: 0, note: 60, velocity: 100 }),
      message("note_on", { channel: 0, note: 60, velocity: 100 }), // again
      message("note_on", { channel: 0, note: 62, velocity: 100 }),
      message("note_on", { channel: 0, note: 62, velocity: 0 }), // an off
      message("note_off", { channel: 9, note: 36 }), // an orphan off
      message("control_change", { channel: 3, control: 64, value: 127 }),
      message("control_change", { channel: 5, control: 64, value: 100 }),
      message("control_change", { channel: 5, control: 64, value: 0 }),
      message("clock"),
      message("sysex", { data: [1, 2] }),
    ]
  ) tracker.track(msg);
  assert.equal(tracker.heldNotes, 2);
  assert.equal(tracker.pedalsDown, 1);
  const release = tracker.release();
  assert.deepEqual(release, [
    message("note_off", { channel: 0, note: 60 }),
    message("note_off", { channel: 3, note: 64 }),
    message("control_change", { channel: 3, control: 64, value: 0 }),
  ]);
  assert.ok(
    !release.some((m) => m.type === "control_change" && m.control === 123),
  );
  assert.deepEqual(tracker.release(), [], "nothing is held afterwards");
  assert.equal(tracker.heldNotes, 0);
});

Deno.test("NoteTracker forgets notes at All Notes Off, All Sounds Off and a system reset, and the pedal at Reset All Controllers", () => {
  const tracker = new NoteTracker();
  const on = (channel: number, note: number) =>
    tracker.track(message("note_on", { channel, note }));
  on(0, 60);
  on(1, 61);
  on(2, 62);
  tracker.track(message("control_change", { channel: 0, control: 123 }));
  tracker.track(message("control_change", { channel: 1, control: 120 }));
  tracker.track(
    message("control_change", { channel: 2, control: 64, value: 127 }),
  );
  tracker.track(message("control_change", { channel: 2, control: 121 }));
  assert.deepEqual(tracker.release(), [
    message("note_off", { channel: 2, note: 62 }),
  ]);
  on(4, 1);
  tracker.track(
    message("control_change", { channel: 4, control: 64, value: 127 }),
  );
  tracker.track(message("reset"));
  assert.deepEqual(tracker.release(), []);
  assert.deepEqual(tracker.snapshot(), []);
});

Deno.test("NoteTracker's snapshot gives bank select, program, controllers and pitchwheel, channel by channel, and no notes or pedal", () => {
  const tracker = new NoteTracker();
  for (
    const msg of [
      message("control_change", { channel: 1, control: 7, value: 100 }),
      message("pitchwheel", { channel: 1, pitch: -200 }),
      message("program_change", { channel: 1, program: 5 }),
      message("control_change", { channel: 1, control: 32, value: 3 }),
      message("control_change", { channel: 1, control: 0, value: 2 }),
      message("control_change", { channel: 1, control: 1, value: 30 }),
      message("control_change", { channel: 1, control: 64, value: 127 }),
      message("note_on", { channel: 1, note: 60 }),
      message("program_change", { channel: 0, program: 9 }),
      message("control_change", { channel: 1, control: 7, value: 110 }),
    ]
  ) tracker.track(msg);
  assert.deepEqual(tracker.snapshot(), [
    message("program_change", { channel: 0, program: 9 }),
    message("control_change", { channel: 1, control: 0, value: 2 }),
    message("control_change", { channel: 1, control: 32, value: 3 }),
    message("program_change", { channel: 1, program: 5 }),
    message("control_change", { channel: 1, control: 1, value: 30 }),
    message("control_change", { channel: 1, control: 7, value: 110 }),
    message("pitchwheel", { channel: 1, pitch: -200 }),
  ]);
  // Reset All Controllers keeps bank select, program and volume (RP-015).
  tracker.track(message("control_change", { channel: 1, control: 121 }));
  assert.deepEqual(
    tracker.snapshot().filter((m) => "channel" in m && m.channel === 1),
    [
      message("control_change", { channel: 1, control: 0, value: 2 }),
      message("control_change", { channel: 1, control: 32, value: 3 }),
      message("program_change", { channel: 1, program: 5 }),
      message("control_change", { channel: 1, control: 7, value: 110 }),
    ],
  );
});

Deno.test("exponentialBackoff waits exactly minInterval, then multiplier times more each attempt, up to maxInterval", () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 8].map(exponentialBackoff()),
    [100, 200, 400, 800, 1600, 3200, 5000, 5000],
  );
  assert.deepEqual(
    [1, 2, 3, 4].map(
      exponentialBackoff({ minInterval: 50, maxInterval: 500, multiplier: 3 }),
    ),
    [50, 150, 450, 500],
  );
  const jittery = exponentialBackoff({ minInterval: 1000, jitter: 0.5 });
  for (let i = 0; i < 100; i++) {
    const wait = jittery(1);
    assert.ok(wait >= 500 && wait <= 1000, `${wait}`);
  }
  assert.throws(() => exponentialBackoff({ jitter: 2 }), {
    name: "RangeError",
    message: "Invalid jitter option: expected a number in 0..1, got 2",
  });
  assert.throws(
    () => exponentialBackoff({ minInterval: 10, maxInterval: 5 }),
    {
      name: "RangeError",
      message:
        "Invalid maxInterval option: expected a number >= minInterval (10), got 5",
    },
  );
});

Deno.test("NoteTracker forgets a channel's notes at each mode message (CC 124 to 127), which MIDI 1.0 says turns notes off", () => {
  const tracker = new NoteTracker();
  for (const control of [124, 125, 126, 127]) {
    tracker.track(message("note_on", { channel: 3, note: 60 }));
    tracker.track(message("note_on", { channel: 4, note: 61 }));
    tracker.track(message("control_change", { channel: 3, control }));
    assert.equal(tracker.heldNotes, 1, `after CC ${control}`);
    assert.deepEqual(tracker.release(), [
      message("note_off", { channel: 4, note: 61 }),
    ]);
  }
});
