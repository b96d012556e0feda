// Copyright 2026 the midisock authors. MIT license.
// `midisock play`: files that mido.MidiFile wrote (type 0 and 1, tempo
// changes, running status, a sysex) play into `serve --relay`, and a mido
// client receives exactly their messages, on time; SIGTERM releases exactly
// what was held; a malformed file is an error that names chunk and byte.

import assert from "node:assert/strict";
import { Child, midisock } from "./_child.ts";
import { PYTHON } from "./_mido.ts";
import { MIDO } from "./_peers.ts";
import { FaultProxy } from "./_py_child.ts";
import { message, PortServer, writeMidiFile } from "../mod.ts";

/** `midisock serve --relay ...` on a free port. */
async function startServe(...args: string[]) {
  const serve = midisock(["serve", "--relay", ...args, "127.0.0.1:0"]);
  try {
    const [, port] = await serve.waitForMatch(
      "stderr",
      /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
    );
    return { serve, address: `127.0.0.1:${port}`, port: Number(port) };
  } catch (error) {
    await serve[Symbol.asyncDispose]();
    throw error;
  }
}

// Writes a file with mido.MidiFile: argv[1] the path, argv[2] the type,
// argv[3] the kind of file. mido writes channel messages with running
// status.
const WRITE = `
import sys, mido
path, kind = sys.argv[1], sys.argv[3]
mid = mido.MidiFile(type=int(sys.argv[2]), ticks_per_beat=96)
def msg(*a, **k): return mido.Message(*a, **k)
def meta(*a, **k): return mido.MetaMessage(*a, **k)
if kind == "song":
    conductor = [meta("set_tempo", tempo=500000, time=0),
                 meta("text", text="midisock", time=0),
                 meta("set_tempo", tempo=250000, time=192),
                 meta("set_tempo", tempo=750000, time=96)]
    notes = [msg("program_change", channel=1, program=5, time=0)]
    for i in range(12):
        notes.append(msg("note_on", channel=1, note=60 + i, velocity=90, time=0 if i == 0 else 24))
        notes.append(msg("control_change", channel=1, control=1, value=i, time=0))
        notes.append(msg("note_off", channel=1, note=60 + i, velocity=0, time=24))
    notes.append(msg("sysex", data=[0x7e, 0x7f, 9, 1], time=10))
    notes.append(msg("pitchwheel", channel=2, pitch=-300, time=5))
    if mid.type == 1:
        mid.tracks.append(mido.MidiTrack(conductor))
        mid.tracks.append(mido.MidiTrack(notes))
    else:
        mid.tracks.append(mido.merge_tracks([conductor, notes]))
elif kind == "dense":
    track = [meta("set_tempo", tempo=500000, time=0)]
    for i in range(150):  # 300 messages over 3 s
        track.append(msg("note_on", note=40 + i % 40, velocity=80, time=0 if i == 0 else 10))
        track.append(msg("note_off", note=40 + i % 40, time=0))
    mid.tracks.append(mido.MidiTrack(track))
elif kind == "held":
    mid.tracks.append(mido.MidiTrack([
        msg("note_on", note=60, velocity=100, time=0),
        msg("note_on", note=64, velocity=100, time=0),
        msg("control_change", control=64, value=127, time=0),
        msg("note_on", channel=3, note=67, velocity=100, time=0),
        msg("note_off", note=60, time=96 * 40),  # 20 s later
    ]))
mid.save(path)
`;

async function midoWrites(path: string, type: number, kind: string) {
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", WRITE, path, String(type), kind],
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

// A mido client on a plain socket (mido's parser): prints "connected",
// then reads until it has as many messages as mido plays from the file
// (argv[2]), and 0.3 s more to catch any extra, and prints JSON: what mido
// plays, [seconds from the start, hex], and what came, [arrival, hex].
const RECEIVE = `
import sys, json, socket, time, mido
signal_alarm = __import__("signal").alarm(40)
mid = mido.MidiFile(sys.argv[2])
expected, t = [], 0.0
for m in mid:
    t += m.time
    if not m.is_meta:
        expected.append([t, bytes(m.bin()).hex()])
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
print("connected", flush=True)
parser, got = mido.Parser(), []
while True:
    if len(got) >= len(expected):
        sock.settimeout(0.3)
    try:
        data = sock.recv(65536)
    except socket.timeout:
        break
    now = time.monotonic()
    if not data:
        break
    parser.feed(data)
    got.extend([now, bytes(m.bin()).hex()] for m in parser)
sock.close()
print(json.dumps({"expected": expected, "got": got}))
`;

interface Heard {
  expected: [number, string][];
  got: [number, string][];
}

/**
 * How many messages came more than 25 ms off their time: each one's
 * arrival after the first's, against mido's schedule of the file.
 */
function outliers({ expected, got }: Heard, speed = 1): number {
  return got.filter(([arrival], i) =>
    Math.abs(
      (arrival - got[0][0]) - (expected[i][0] - expected[0][0]) / speed,
    ) > 0.025
  ).length;
}

/** Plays `path` into a relay, with a mido client on it; what it heard. */
async function playToMido(
  path: string,
  args: string[] = [],
): Promise<{ heard: Heard; stdout: string }> {
  const { serve, port, address } = await startServe();
  await using _serve = serve;
  await using receiver = new Child(PYTHON, ["-c", RECEIVE, String(port), path]);
  await receiver.waitForMatch("stdout", /^connected$/);
  await serve.waitForMatch("stdout", /^# connect /);
  await using player = midisock(["play", address, path, ...args]);
  const played = await player.result();
  assert.equal(played.code, 0, played.stderr);
  const result = await receiver.result();
  assert.equal(result.code, 0, result.stderr);
  return { heard: JSON.parse(receiver.stdout.at(-1)!), stdout: played.stdout };
}

for (const type of [0, 1]) {
  MIDO.test(`midisock play: a type ${type} file that mido wrote (tempo changes, running status, a sysex) reaches a mido client message for message`, async () => {
    const path = await Deno.makeTempFile({ suffix: ".mid" });
    try {
      await midoWrites(path, type, "song");
      const { heard, stdout } = await playToMido(path, ["--speed", "4"]);
      assert.equal(heard.expected.length, 39);
      assert.deepEqual(
        heard.got.map(([, hex]) => hex),
        heard.expected.map(([, hex]) => hex),
      );
      assert.match(stdout, /^played 39 messages in \d+\.\d s\n$/);
      // On mido's schedule of the file (its tempo map), 4 times as fast.
      assert.ok(outliers(heard, 4) <= 2, `${outliers(heard, 4)} outliers`);
    } finally {
      await Deno.remove(path);
    }
  });
}

MIDO.test("midisock play: at least 95% of 300 messages reach a mido client within 25 ms of their time, as mido schedules the file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".mid" });
  try {
    await midoWrites(path, 0, "dense");
    const { heard } = await playToMido(path);
    const { expected, got } = heard;
    assert.equal(got.length, 300);
    assert.deepEqual(got.map(([, hex]) => hex), expected.map(([, h]) => h));
    const late = outliers(heard);
    assert.ok(late <= 15, `${late} of 300 messages off by more than 25 ms`);
  } finally {
    await Deno.remove(path);
  }
});

MIDO.test("midisock play, stopped by SIGTERM, sends exactly the note_offs of the held notes and CC64=0 (serve --no-release, so the bus releases nothing)", async () => {
  const path = await Deno.makeTempFile({ suffix: ".mid" });
  try {
    await midoWrites(path, 0, "held");
    const { serve, address } = await startServe("--no-release");
    await using _serve = serve;
    await using player = midisock(["play", address, path]);
    const name = (await serve.waitForMatch("stdout", /^# connect (\S+)$/))[1];
    await serve.waitForCount(4, (l) => l.startsWith(name + " "), "messages");
    player.kill("SIGTERM");
    const played = await player.result();
    assert.deepEqual([played.code, played.stderr], [0, ""]);
    assert.match(
      played.stdout,
      /^played 4 messages in \d+\.\d s, released 3 notes and 1 pedal\n$/,
    );
    await serve.waitForMatch("stdout", /^# disconnect /);
    serve.kill("SIGTERM");
    await serve.result();
    assert.deepEqual(
      serve.stdout.filter((l) => !l.startsWith("#")).map((l) =>
        l.slice(name.length + 1)
      ),
      [
        "note_on channel=0 note=60 velocity=100 time=0",
        "note_on channel=0 note=64 velocity=100 time=0",
        "control_change channel=0 control=64 value=127 time=0",
        "note_on channel=3 note=67 velocity=100 time=0",
        "note_off channel=0 note=60 velocity=64 time=0",
        "note_off channel=0 note=64 velocity=64 time=0",
        "note_off channel=3 note=67 velocity=64 time=0",
        "control_change channel=0 control=64 value=0 time=0",
      ],
    );
    assert.ok(!serve.stdout.some((l) => l.startsWith("# released")));
  } finally {
    await Deno.remove(path);
  }
});

MIDO.test("midisock play, its connection lost, sends the note_offs of the held notes and CC64=0 over a new one and exits 1", async () => {
  const path = await Deno.makeTempFile({ suffix: ".mid" });
  try {
    await midoWrites(path, 0, "held");
    const { serve, port } = await startServe("--no-release");
    await using _serve = serve;
    await using proxy = await FaultProxy.start(port);
    await using player = midisock(["play", `127.0.0.1:${proxy.port}`, path]);
    const first = (await serve.waitForMatch("stdout", /^# connect (\S+)$/))[1];
    await serve.waitForCount(4, (l) => l.startsWith(first + " "), "messages");
    await proxy.command("cut");
    const played = await player.result();
    assert.equal(played.code, 1);
    assert.match(
      played.stdout,
      /^played 4 messages in \d+\.\d s, released 3 notes and 1 pedal over a new connection\n$/,
    );
    assert.equal(
      played.stderr,
      `midisock: error: Lost the connection to 127.0.0.1:${proxy.port} after 4 messages\n`,
    );
    const connects = serve.stdout.filter((l) => l.startsWith("# connect "));
    const second = connects[1].slice("# connect ".length);
    await serve.waitForCount(4, (l) => l.startsWith(second + " "), "releases");
    assert.deepEqual(
      serve.stdout.filter((l) => l.startsWith(second + " ")).map((l) =>
        l.slice(second.length + 1)
      ),
      [
        "note_off channel=0 note=60 velocity=64 time=0",
        "note_off channel=0 note=64 velocity=64 time=0",
        "note_off channel=3 note=67 velocity=64 time=0",
        "control_change channel=0 control=64 value=0 time=0",
      ],
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("midisock play --loop plays the file again from the start, each pass a file's duration after the last, until SIGTERM", async () => {
  const path = await Deno.makeTempFile({ suffix: ".mid" });
  try {
    // 120 bpm, 96 ticks a beat: a note at 0, its end at 125 ms, and the
    // End of Track at 250 ms, where the next pass starts.
    await Deno.writeFile(
      path,
      writeMidiFile({
        format: 0,
        division: { ticksPerBeat: 96 },
        tracks: [[
          { delta: 0, message: message("note_on", { note: 60 }) },
          { delta: 24, message: message("note_off", { note: 60 }) },
          { delta: 24, meta: 0x2f, data: new Uint8Array() },
        ]],
      }),
    );
    await using server = new PortServer("127.0.0.1", 0);
    await using player = midisock([
      "play",
      "--loop",
      `127.0.0.1:${server.port}`,
      path,
    ]);
    const heard: [string, number][] = [];
    for await (const { message: msg, time } of server.withTimes()) {
      heard.push([msg.type, time]);
      if (heard.length === 8) break;
    }
    player.kill("SIGTERM");
    const result = await player.result();
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^played \d+ messages in \d+\.\d s/);
    assert.deepEqual(
      heard.map(([type]) => type),
      Array(4).fill(["note_on", "note_off"]).flat(),
    );
    // Each pass starts 250 ms after the last (within this busy machine's
    // slack), never at the end of the last message.
    for (let pass = 1; pass < 4; pass++) {
      const gap = heard[2 * pass][1] - heard[2 * (pass - 1)][1];
      assert.ok(gap > 200 && gap < 300, `pass ${pass} after ${gap} ms`);
    }
  } finally {
    await Deno.remove(path);
  }
});

/** A header and MTrk chunks of the given bodies. */
function chunks(format: number, ...bodies: number[][]): Uint8Array {
  const out = [0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, format, 0];
  out.push(bodies.length, 0, 96);
  for (const body of bodies) {
    const n = body.length;
    out.push(0x4d, 0x54, 0x72, 0x6b, n >>> 24, (n >> 16) & 255, (n >> 8) & 255);
    out.push(n & 255, ...body);
  }
  return new Uint8Array(out);
}

Deno.test("midisock play: a malformed file is an error that names the file, the chunk and the byte, and nothing is dialed", async (t) => {
  const good = writeMidiFile({
    format: 0,
    division: { ticksPerBeat: 96 },
    tracks: [[{ delta: 0, meta: 0x51, data: new Uint8Array([7, 0xa1, 0x20]) }]],
  });
  const lying = chunks(0, [0, 0x90, 60, 100]);
  lying[21] = 40; // the track says 40 bytes; 4 follow
  const cases: [string, Uint8Array, RegExp][] = [
    [
      "truncated",
      good.subarray(0, 20),
      /MTrk 1 at byte 14: the header says 1 tracks, and the file ends after 0$/,
    ],
    [
      "a length that lies",
      lying,
      /MTrk 1 at byte 18: the chunk says 40 bytes, and only 4 remain$/,
    ],
    [
      "running status carried across tracks",
      chunks(1, [0, 0x90, 60, 100, 0, 0xff, 0x2f, 0], [0, 62, 100]),
      /MTrk 2 at byte 39: data byte 0x3E with no status/,
    ],
  ];
  for (const [what, bytes, error] of cases) {
    await t.step(what, async () => {
      const path = await Deno.makeTempFile({ suffix: ".mid" });
      try {
        await Deno.writeFile(path, bytes);
        // Port 9 (discard): if it dialed first, the error would be another.
        await using player = midisock(["play", "127.0.0.1:9", path]);
        const result = await player.result();
        assert.equal(result.code, 1);
        assert.equal(result.stdout, "");
        const line = result.stderr.trimEnd();
        assert.ok(
          line.startsWith(`midisock: error: Cannot read ${path}: `),
          line,
        );
        assert.match(line, error);
      } finally {
        await Deno.remove(path);
      }
    });
  }
});
