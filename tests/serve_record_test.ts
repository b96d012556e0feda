// Copyright 2026 the midisock authors. MIT license.
// `midisock serve --record FILE`: a type 1 file with a track for each
// client, that mido reads, complete on disk while the server runs.

import assert from "node:assert/strict";
import { connect, encode, message } from "../mod.ts";
import { Child, DENO } from "./_child.ts";
import { runPython, toHex } from "./_mido.ts";
import { MIDO } from "./_peers.ts";
import { delay } from "./_net.ts";

// [type, [[track name, [[delta, hex], ...]], ...]] as mido reads the file.
const DUMP = `
import sys, json, mido
f = mido.MidiFile(sys.argv[1])
print(json.dumps([f.type, [[t.name, [[m.time, bytes(m.bytes()).hex()] for m in t if not m.is_meta]] for t in f.tracks]]))
`;

function midoReads(
  path: string,
): Promise<[number, [string, [number, string][]][]]> {
  return runPython(DUMP, path);
}

async function startServe(path: string) {
  const serve = new Child(DENO, [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-write=/tmp",
    new URL("../src/cli/main.ts", import.meta.url).pathname,
    "serve",
    "--relay",
    "--quiet",
    "--record",
    path,
    "127.0.0.1:0",
  ]);
  const [, port] = await serve.waitForMatch(
    "stderr",
    /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
  );
  return { serve, port: Number(port) };
}

MIDO.test("serve --record: mido reads a type 1 file with a track for each client, named by it", async () => {
  const path = await Deno.makeTempFile({ suffix: ".mid" });
  try {
    const { serve, port } = await startServe(path);
    await using _serve = serve;
    let gap = 0;
    {
      await using keys = await connect("127.0.0.1", port, {
        hello: { name: "keys" },
      });
      await using drums = await connect("127.0.0.1", port, {
        hello: { name: "drums" },
      });
      await keys.send(message("note_on", { note: 60, velocity: 90 }));
      const sent = performance.now();
      await delay(250);
      await drums.send(message("note_on", { channel: 9, note: 36 }));
      gap = performance.now() - sent; // 250 ms, or more on a busy machine
      await keys.send(message("note_off", { note: 60 }));
      await delay(20);
    }
    serve.kill("SIGTERM");
    const result = await serve.result();
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /midisock: recorded 4 messages in \d+\.\d s to .* \(\d+ bytes\)\n$/,
    );
    const [type, tracks] = await midoReads(path);
    assert.equal(type, 1);
    assert.deepEqual(tracks.map(([name]) => name), ["", "keys", "drums"]);
    const hex = (m: Parameters<typeof encode>[0]) => toHex(encode(m));
    assert.deepEqual(tracks[1][1].map((e) => e[1]), [
      hex(message("note_on", { note: 60, velocity: 90 })),
      hex(message("note_off", { note: 60 })),
    ]);
    // The drummer left with a note on: the server's release of it is on
    // the bus, so it is in the file too.
    assert.deepEqual(tracks[2][1].map((e) => e[1]), [
      hex(message("note_on", { channel: 9, note: 36 })),
      hex(message("note_off", { channel: 9, note: 36 })),
    ]);
    // At 120 bpm and 480 ticks a beat, a ms is 0.96 ticks: the gap, give or
    // take this shared machine's 25 ms.
    const drumTicks = tracks[2][1][0][0];
    const want = gap * 0.96;
    assert.ok(
      Math.abs(drumTicks - want) <= 1 + 25 * 0.96,
      `${drumTicks} ticks for a gap of ${gap.toFixed(1)} ms`,
    );
  } finally {
    await Deno.remove(path);
  }
});

MIDO.test("serve --record, killed with SIGKILL, leaves a type 1 file that mido reads with everything up to the last second", async () => {
  const path = await Deno.makeTempFile({ suffix: ".mid" });
  try {
    const { serve, port } = await startServe(path);
    await using _serve = serve;
    await using keys = await connect("127.0.0.1", port, {
      hello: { name: "keys" },
    });
    for (let note = 60; note < 64; note++) {
      await keys.send(message("note_on", { note }));
    }
    await delay(1500); // a flush, at least
    serve.kill("SIGKILL");
    await serve.result();
    const [type, tracks] = await midoReads(path);
    assert.equal(type, 1);
    assert.deepEqual(
      tracks[1][1].map((e) => e[1]),
      [60, 61, 62, 63].map((note) =>
        toHex(encode(message("note_on", { note })))
      ),
    );
  } finally {
    await Deno.remove(path);
    await Deno.remove(`${path}.partial`).catch(() => {});
  }
});
