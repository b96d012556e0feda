// Copyright 2026 the midisock authors. MIT license.
// `midisock record`: mido reads what it records, every message with its gap
// to within the tick resolution plus 25 ms; kill -9 leaves a file that mido
// reads with everything up to the last second.

import assert from "node:assert/strict";
import { encode, type Message, message, PortServer } from "../mod.ts";
import { Child, DENO } from "./_child.ts";
import { runPython, toHex } from "./_mido.ts";
import { MIDO } from "./_peers.ts";
import { delay, waitFor } from "./_net.ts";

const CLI = new URL("../src/cli/main.ts", import.meta.url).pathname;

function record(args: string[]): Child {
  return new Child(DENO, [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-write=/tmp",
    CLI,
    "record",
    ...args,
  ]);
}

// [type, ppq, [[delta, hex of bytes], ...]] as mido reads the file.
const DUMP = `
import sys, json, mido
f = mido.MidiFile(sys.argv[1])
print(json.dumps([f.type, f.ticks_per_beat, [[m.time, bytes(m.bytes()).hex()] for m in f.tracks[0]]]))
`;

function midoReads(
  path: string,
): Promise<[number, number, [number, string][]]> {
  return runPython(DUMP, path);
}

// A known sequence, each with the gap (ms) before it.
const SEQUENCE: [number, Message][] = [
  [0, message("note_on", { note: 60, velocity: 100 })],
  [120, message("control_change", { channel: 2, control: 64, value: 127 })],
  [200, message("pitchwheel", { channel: 1, pitch: -2000 })],
  [80, message("sysex", { data: [0x7e, 0x7f, 9, 1] })],
  [150, message("note_off", { note: 60 })],
  [0, message("note_on", { note: 62, velocity: 1 })],
];

MIDO.test("midisock record: mido reads every message, each delta within the tick resolution plus 25 ms of its gap", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const path = await Deno.makeTempFile({ suffix: ".mid" });
  try {
    await using child = record([
      `127.0.0.1:${server.port}`,
      path,
      "--ppq",
      "960",
      "--bpm",
      "100",
    ]);
    server.poll(); // the server adopts its clients
    await waitFor(() => server.stats.clients === 1, "the recorder");
    // When each was sent: a busy machine may wait longer than the gap.
    const sentAt: number[] = [];
    for (const [gap, msg] of SEQUENCE) {
      if (gap > 0) await delay(gap);
      sentAt.push(performance.now());
      await server.send(msg);
    }
    await delay(100);
    child.kill("SIGTERM");
    const result = await child.result();
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^recorded 6 messages in \d+\.\d s to .* \(\d+ bytes\)\n?$/,
    );
    const [type, ppq, events] = await midoReads(path);
    assert.equal(type, 0);
    assert.equal(ppq, 960);
    assert.deepEqual(events[0], [0, "ff5103092" + "7c0"]); // 600000 µs: 100 bpm
    assert.deepEqual(events.at(-1), [0, "ff2f00"]);
    const got = events.slice(1, -1);
    assert.deepEqual(
      got.map((e) => e[1]),
      SEQUENCE.map(([, m]) => toHex(encode(m))),
    );
    const ticksPerMs = 960 * 100 / 60_000;
    for (let i = 1; i < SEQUENCE.length; i++) {
      const gap = sentAt[i] - sentAt[i - 1];
      const want = gap * ticksPerMs;
      const slack = 1 + 25 * ticksPerMs;
      assert.ok(
        Math.abs(got[i][0] - want) <= slack,
        `message ${i}: ${got[i][0]} ticks for a gap of ${gap.toFixed(1)} ms`,
      );
    }
    assert.equal(
      (await Deno.stat(path)).size,
      Number(/\((\d+) bytes\)/.exec(result.stdout)![1]),
    );
  } finally {
    await Deno.remove(path);
  }
});

MIDO.test("midisock record, killed with SIGKILL, leaves a file that mido reads with everything up to the last second", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const path = await Deno.makeTempFile({ suffix: ".mid" });
  try {
    await using child = record([`127.0.0.1:${server.port}`, path]);
    server.poll(); // the server adopts its clients
    await waitFor(() => server.stats.clients === 1, "the recorder");
    const early = [];
    for (let i = 0; i < 20; i++) {
      const msg = message("note_on", { note: 40 + i, velocity: 90 });
      early.push(toHex(encode(msg)));
      await server.send(msg);
      await delay(10);
    }
    await delay(1300); // a flush comes within a second
    for (let i = 0; i < 5; i++) await server.send(message("clock"));
    child.kill("SIGKILL");
    const result = await child.result();
    assert.equal(result.signal, "SIGKILL");
    const [, , events] = await midoReads(path);
    const notes = events.filter((e) => e[1].startsWith("90")).map((e) => e[1]);
    assert.deepEqual(notes, early);
    assert.deepEqual(events.at(-1), [0, "ff2f00"]);
  } finally {
    await Deno.remove(path);
  }
});
