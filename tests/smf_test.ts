// Copyright 2026 the midisock authors. MIT license.
// Standard MIDI Files: readMidiFile() reads what mido.MidiFile writes, mido
// reads what writeMidiFile() writes, event for event; malformed files are
// errors that name the chunk and the byte; a seeded fuzz never crashes it.

import assert from "node:assert/strict";
import {
  encode,
  message,
  type MidiFile,
  readMidiFile,
  type TrackEvent,
  writeMidiFile,
} from "../mod.ts";
import { PYTHON, toHex } from "./_mido.ts";
import { MIDO } from "./_peers.ts";
import { Random, testSeed } from "./_random.ts";

// Dumps a file as mido reads it: per track, [delta, hex of the event's bytes]
// (a meta event's bytes as FF type length data).
const DUMP = `
import sys, json, mido
f = mido.MidiFile(sys.argv[1])
out = {"type": f.type, "ppq": f.ticks_per_beat, "tracks": []}
for t in f.tracks:
    evs = []
    for m in t:
        if m.is_meta:
            evs.append([m.time, bytes(m.bytes()).hex()])
        else:
            evs.append([m.time, bytes(m.bin()).hex()])
    out["tracks"].append(evs)
print(json.dumps(out))
`;

// Writes a file with mido: type 0 and 1, a tempo map, running status
// (mido writes it), sysex, every channel message type, text and time
// signature.
const WRITE = `
import sys, mido
from mido import Message as M, MetaMessage as MM
kind = int(sys.argv[2])
a = mido.MidiTrack([
    MM('track_name', name='keys'),
    MM('time_signature', numerator=3, denominator=4),
    MM('set_tempo', tempo=500000),
    M('note_on', note=60, velocity=100, time=0),
    M('note_on', note=64, velocity=100, time=0),
    M('note_on', note=67, velocity=100, time=10),
    M('note_off', note=60, time=480),
    M('note_off', note=64),
    M('note_off', note=67),
    MM('set_tempo', tempo=250000, time=0),
    M('control_change', channel=3, control=64, value=127, time=5),
    M('pitchwheel', channel=3, pitch=-8192, time=7),
    M('pitchwheel', channel=3, pitch=8191, time=7),
    M('program_change', channel=9, program=5, time=1),
    M('aftertouch', channel=2, value=9, time=1),
    M('polytouch', channel=2, note=3, value=9, time=1),
    M('sysex', data=[1, 2, 3, 0x7f], time=100),
    MM('text', text='hello', time=3),
    M('note_on', note=72, velocity=1, time=200000),
    M('note_off', note=72, time=1),
])
b = mido.MidiTrack([
    M('note_on', channel=1, note=40, velocity=90, time=240),
    M('note_on', channel=1, note=40, velocity=0, time=240),
    M('sysex', data=[0x7e, 0x7f, 9, 1], time=1),
])
if kind == 0:
    f = mido.MidiFile(type=0, ticks_per_beat=480); f.tracks.append(a)
else:
    f = mido.MidiFile(type=1, ticks_per_beat=96); f.tracks.append(a); f.tracks.append(b)
f.save(sys.argv[1])
`;

async function python(script: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, err);
  return new TextDecoder().decode(out.stdout);
}

interface Dump {
  type: number;
  ppq: number;
  tracks: [number, string][][];
}

/** Our events as mido's dump: [delta, hex of bytes]. */
function asDump(track: readonly TrackEvent[]): [number, string][] {
  return track.map((e) => {
    if ("meta" in e) {
      return [
        e.delta,
        toHex(new Uint8Array([0xff, e.meta, e.data.length, ...e.data])),
      ];
    }
    return [e.delta, toHex(encode(e.message))];
  });
}

for (const kind of [0, 1]) {
  MIDO.test(`readMidiFile reads a type ${kind} file that mido.MidiFile wrote, event for event`, async () => {
    const path = await Deno.makeTempFile({ suffix: ".mid" });
    try {
      await python(WRITE, path, String(kind));
      const mido: Dump = JSON.parse(await python(DUMP, path));
      const file = readMidiFile(await Deno.readFile(path));
      assert.equal(file.format, kind);
      assert.deepEqual(file.division, { ticksPerBeat: mido.ppq });
      assert.deepEqual(file.tracks.map(asDump), mido.tracks);
      // Running status was in the file: mido writes it.
      const bytes = await Deno.readFile(path);
      assert.ok(
        toHex(bytes).includes("00903c64004064"),
        "running status in the file",
      );
      // And what we write back, mido reads the same.
      const again = await Deno.makeTempFile({ suffix: ".mid" });
      try {
        await Deno.writeFile(again, writeMidiFile(file));
        assert.deepEqual(JSON.parse(await python(DUMP, again)), mido);
      } finally {
        await Deno.remove(again);
      }
    } finally {
      await Deno.remove(path);
    }
  });
}

MIDO.test("mido reads exactly what writeMidiFile wrote: every message type, meta events, long deltas", async () => {
  const rng = new Random(testSeed());
  const track: TrackEvent[] = [
    { delta: 0, meta: 0x51, data: new Uint8Array([0x0f, 0x42, 0x40]) },
    { delta: 0, meta: 0x03, data: new TextEncoder().encode("piano") },
  ];
  const types = [
    () =>
      message("note_on", {
        channel: rng.int(0, 15),
        note: rng.int(0, 127),
        velocity: rng.int(0, 127),
      }),
    () =>
      message("note_off", { channel: rng.int(0, 15), note: rng.int(0, 127) }),
    () =>
      message("control_change", {
        channel: rng.int(0, 15),
        control: rng.int(0, 127),
        value: rng.int(0, 127),
      }),
    () =>
      message("pitchwheel", {
        channel: rng.int(0, 15),
        pitch: rng.int(-8192, 8191),
      }),
    () => message("program_change", { program: rng.int(0, 127) }),
    () => message("aftertouch", { channel: 1, value: rng.int(0, 127) }),
    () => message("polytouch", { channel: 1, note: 1, value: rng.int(0, 127) }),
    () =>
      message("sysex", {
        data: Array.from(rng.bytes(rng.int(0, 40)), (b) => b & 0x7f),
      }),
    () => message("songpos", { pos: rng.int(0, 16383) }),
    () => message("clock"),
    () => message("start"),
  ];
  for (let i = 0; i < 300; i++) {
    const delta = rng.chance(0.1) ? rng.int(0, 0x0fffffff) : rng.int(0, 3);
    track.push({ delta, message: rng.pick(types)() });
  }
  const path = await Deno.makeTempFile({ suffix: ".mid" });
  try {
    await Deno.writeFile(
      path,
      writeMidiFile({
        format: 0,
        division: { ticksPerBeat: 960 },
        tracks: [track],
      }),
    );
    const mido: Dump = JSON.parse(await python(DUMP, path));
    assert.equal(mido.ppq, 960);
    const ours = asDump([...track, {
      delta: 0,
      meta: 0x2f,
      data: new Uint8Array(0),
    }]);
    assert.deepEqual(mido.tracks[0], ours);
  } finally {
    await Deno.remove(path);
  }
});

function chunk(type: string, body: number[]): number[] {
  const n = body.length;
  return [
    ...new TextEncoder().encode(type),
    n >>> 24,
    (n >>> 16) & 0xff,
    (n >>> 8) & 0xff,
    n & 0xff,
    ...body,
  ];
}

function file(
  format: number,
  tracks: number,
  division: number[],
  ...rest: number[][]
): Uint8Array {
  return new Uint8Array([
    ...chunk("MThd", [0, format, 0, tracks, ...division]),
    ...rest.flat(),
  ]);
}

const EOT = [0, 0xff, 0x2f, 0];

Deno.test("readMidiFile joins a sysex in continuation packets, reads escapes and SMPTE division, and skips unknown chunks", () => {
  const bytes = file(
    0,
    1,
    [0xe7, 40],
    chunk("XFIH", [1, 2, 3]),
    chunk("MTrk", [
      0,
      0xf0,
      3,
      0x43,
      0x12,
      0x00, // F0 packet, no F7: continues
      10,
      0xf7,
      2,
      0x44,
      0x45, // a continuation
      20,
      0xf7,
      2,
      0x46,
      0xf7, // the last packet
      5,
      0xf7,
      1,
      0xf8, // an escape: a clock
      0,
      0x90,
      60,
      100,
      1,
      61,
      100, // running status
      ...EOT,
    ]),
    chunk("junk", []),
  );
  const parsed: MidiFile = readMidiFile(bytes);
  assert.deepEqual(parsed.division, { fps: 25, ticksPerFrame: 40 });
  assert.deepEqual(parsed.tracks, [[
    {
      delta: 0,
      message: message("sysex", { data: [0x43, 0x12, 0, 0x44, 0x45, 0x46] }),
    },
    { delta: 35, message: message("clock") },
    { delta: 0, message: message("note_on", { note: 60, velocity: 100 }) },
    { delta: 1, message: message("note_on", { note: 61, velocity: 100 }) },
    { delta: 0, meta: 0x2f, data: new Uint8Array(0) },
  ]]);
  // Written back: SMPTE division kept, the sysex one packet.
  assert.deepEqual(
    readMidiFile(writeMidiFile(parsed)).tracks[0][0],
    parsed.tracks[0][0],
  );
  assert.deepEqual(
    readMidiFile(writeMidiFile(parsed)).division,
    parsed.division,
  );
});

Deno.test("readMidiFile names the chunk and the byte offset of what is wrong", () => {
  const good = file(
    1,
    2,
    [0, 96],
    chunk("MTrk", [0, 0x90, 60, 100, ...EOT]),
    chunk("MTrk", [0, 0x80, 60, 0, ...EOT]),
  );
  const cases: [Uint8Array, RegExp][] = [
    [good.subarray(0, 10), /MThd at byte 0: the file has 10 bytes/],
    [
      good.subarray(0, good.length - 3),
      /MTrk 2 at byte 34: the chunk says 8 bytes, and only 5 remain/,
    ],
    [
      good.subarray(0, 30),
      /MTrk 2 at byte 30: the header says 2 tracks, and the file ends after 1/,
    ],
    // Running status carried from track 1 into track 2.
    [
      file(
        1,
        2,
        [0, 96],
        chunk("MTrk", [0, 0x90, 60, 100, ...EOT]),
        chunk("MTrk", [0, 61, 100, ...EOT]),
      ),
      /MTrk 2 at byte 39: data byte 0x3D with no status/,
    ],
    // A chunk length that lies: it says 5 bytes, the event needs more.
    [
      file(
        0,
        1,
        [0, 96],
        chunk("MTrk", [0, 0x90, 60, 100, 0, 0x90, 1]).map((b, i) =>
          i === 7 ? 5 : b
        ),
      ),
      /MTrk 1 at byte 27: an event runs past the end of the chunk/,
    ],
    [
      file(0, 1, [0, 96], chunk("MTrk", [0, 0xff, 0x51, 9, 1])),
      /MTrk 1 at byte 26: a meta event runs past the end of the chunk/,
    ],
    [
      file(0, 1, [0, 96], chunk("MTrk", [0xff, 0xff, 0xff, 0xff, 0])),
      /MTrk 1 at byte 22: a delta time is longer than 4 bytes/,
    ],
    [
      file(0, 1, [0, 96], chunk("MTrk", [0, 0x90, 60, 0x80])),
      /MTrk 1 at byte 25: status 0x80 where a data byte of 0x90 belongs/,
    ],
    [
      file(0, 1, [0, 96], chunk("MTrk", [0, 0xf0, 1, 1])),
      /MTrk 1 at byte 26: the track ends inside a sysex/,
    ],
    [file(0, 1, [0, 0]), /MThd at byte 12: 0 ticks per beat/],
    [file(3, 1, [0, 96]), /MThd at byte 8: unknown format 3/],
  ];
  for (const [bytes, pattern] of cases) {
    assert.throws(() => readMidiFile(bytes), (e: Error) => {
      assert.ok(e instanceof SyntaxError, String(e));
      assert.match(e.message, pattern);
      return true;
    });
  }
});

Deno.test("readMidiFile, fuzzed: any mutation or cut of a file is read or is a SyntaxError, in bounded time", () => {
  const seed = testSeed();
  const rng = new Random(seed);
  const base = writeMidiFile({
    format: 1,
    division: { ticksPerBeat: 480 },
    tracks: [
      [
        { delta: 0, meta: 0x51, data: new Uint8Array([7, 0xa1, 0x20]) },
        { delta: 0, message: message("note_on", { note: 60 }) },
        { delta: 100, message: message("sysex", { data: [1, 2, 3] }) },
        { delta: 100, message: message("note_on", { note: 61 }) },
        { delta: 1, message: message("pitchwheel", { pitch: 3 }) },
      ],
      [{ delta: 5, message: message("control_change", { value: 3 }) }],
    ],
  });
  const start = performance.now();
  let read = 0, rejected = 0;
  for (let i = 0; i < 20_000; i++) {
    const bytes = base.slice(
      0,
      rng.chance(0.2) ? rng.int(0, base.length) : base.length,
    );
    const flips = rng.int(1, 4);
    for (let f = 0; f < flips && bytes.length > 0; f++) {
      bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
    }
    try {
      readMidiFile(bytes);
      read++;
    } catch (error) {
      if (!(error instanceof SyntaxError)) {
        throw new Error(`seed ${seed}, case ${i}: ${toHex(bytes)}: ${error}`);
      }
      rejected++;
    }
  }
  assert.ok(read > 100 && rejected > 100, `read ${read}, rejected ${rejected}`);
  assert.ok(performance.now() - start < 20_000);
  // Fully random bytes after a valid header too.
  for (let i = 0; i < 2000; i++) {
    const bytes = new Uint8Array([
      ...base.subarray(0, 22),
      ...rng.bytes(rng.int(0, 64)),
    ]);
    try {
      readMidiFile(bytes);
    } catch (error) {
      assert.ok(
        error instanceof SyntaxError,
        `seed ${seed}: ${toHex(bytes)}: ${error}`,
      );
    }
  }
});
