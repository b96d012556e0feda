// Copyright 2026 the midisock authors. MIT license.
/**
 * Where a round trip's garbage comes from: V8's sampling heap profiler
 * (through `node:inspector`), over 5000 round trips after 30000 of warm-up,
 * the bytes allocated a round trip by call site (the function, its caller
 * and theirs), midisock's echo or a raw `Deno.Conn` echo.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-sys bench/alloc_profile.ts
 * deno run --allow-net=127.0.0.1 --allow-sys bench/alloc_profile.ts --raw
 * deno run --allow-net=127.0.0.1 --allow-sys --v8-flags=--no-turbo-inlining bench/alloc_profile.ts
 * ```
 *
 * With `--v8-flags=--no-turbo-inlining` each allocation is put on the
 * function that makes it, rather than on the one that V8 inlined it into
 * (the total is then a little higher: no escape analysis across calls).
 *
 * @module
 */

import { Session } from "node:inspector";
import { connect, message, PortServer } from "../mod.ts";

const N = 5000;
const RAW = Deno.args.includes("--raw");
const session = new Session();
session.connect();
// deno-lint-ignore no-explicit-any
const post = (method: string, params: object = {}): Promise<any> =>
  new Promise((resolve, reject) =>
    session.post(method, params, (error, result) => {
      if (error) reject(error);
      else resolve(result);
    })
  );

let roundTrip: () => Promise<unknown>;
let done: () => Promise<void>;
if (RAW) {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  client.setNoDelay(true);
  server.setNoDelay(true);
  const echo = (async () => {
    const buf = new Uint8Array(2048);
    while (true) {
      const n = await server.read(buf).catch(() => null);
      if (n === null) break;
      await server.write(buf.subarray(0, n));
    }
  })();
  const note = new Uint8Array([0x90, 60, 100]);
  const buf = new Uint8Array(2048);
  roundTrip = async () => {
    await client.write(note);
    await client.read(buf);
  };
  done = async () => {
    client.close();
    await echo;
    server.close();
  };
} else {
  const server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port);
  const peer = await server.accept();
  const echo = (async () => {
    for await (const msg of peer) await peer.send(msg);
  })();
  const note = message("note_on", { note: 60, velocity: 100 });
  roundTrip = async () => {
    await client.send(note);
    await client.receive();
  };
  done = async () => {
    await client.close();
    await echo;
    await peer.close();
    await server.close();
  };
}

for (let i = 0; i < 30_000; i++) await roundTrip();
await post("HeapProfiler.enable");
await post("HeapProfiler.startSampling", {
  samplingInterval: 32,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
for (let i = 0; i < N; i++) await roundTrip();
const { profile } = await post("HeapProfiler.stopSampling");
await done();
session.disconnect();

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}
const sites = new Map<string, number>();
let total = 0;
function walk(node: Node, stack: string[]): void {
  const f = node.callFrame;
  const name = `${f.functionName || "(anonymous)"} ${
    f.url.replace(/.*\//, "")
  }:${f.lineNumber + 1}`;
  const here = [name, ...stack].slice(0, 3);
  if (node.selfSize > 0) {
    const key = here.join(" <- ");
    sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
  }
  for (const child of node.children) walk(child, here);
}
walk(profile.head, []);
console.log(
  `${RAW ? "raw Deno.Conn" : "midisock"}: ${
    (total / N).toFixed(0)
  } bytes allocated a round trip (both ends, and the loop), by call site:`,
);
for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1])) {
  if (bytes / N < 8) break;
  console.log(`${(bytes / N).toFixed(0).padStart(6)}  ${site}`);
}
