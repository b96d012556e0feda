// Copyright 2026 the midisock authors. MIT license.
// How fast the bus recovers, beside the raw Deno socket in the same run:
//
//   deno run --allow-net bench/resilience_bench.ts [--runs=20]
//
// - reconnect: a server restarts on its port; the time from its close() to
//   a ReconnectingPort's `reconnect` event (default backoff: the first
//   attempt waits 100 ms), beside the time a raw Deno.connect takes to
//   reach the new listener. Each run waits for the client to hear the new
//   server before the next restart.
// - release: a player leaves with a note on; the time from its close() to
//   the note_off that another client receives, beside the time a message
//   takes from one client to another through the same relay.

import { connect, message, PortServer } from "../mod.ts";

const runs = Number(
  Deno.args.find((a) => a.startsWith("--runs="))?.slice(7) ?? 20,
);

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return `median ${at(0.5).toFixed(2)} ms, p90 ${at(0.9).toFixed(2)} ms`;
}

async function reconnect(): Promise<void> {
  let server = new PortServer("127.0.0.1", 0);
  const port = server.port;
  const client = await connect("127.0.0.1", port, { reconnect: true });
  const ours: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < runs; i++) {
    const back = new Promise((resolve) =>
      client.addEventListener("reconnect", resolve, { once: true })
    );
    const t0 = performance.now();
    await server.close();
    server = new PortServer("127.0.0.1", port);
    await back;
    ours.push(performance.now() - t0);
    // The connection is made for good once the client hears the server (a
    // connection that ends before it hears a byte counts as a failed
    // attempt, and the backoff would grow).
    await server.send(message("clock"));
    await client.receive();
    const t1 = performance.now();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    raw.push(performance.now() - t1);
    conn.close();
  }
  await client.close();
  await server.close();
  console.log(`reconnect after a server restart (${runs} runs):`);
  console.log(`  ReconnectingPort, default backoff  ${stats(ours)}`);
  console.log(`  raw Deno.connect to the new server ${stats(raw)}`);
}

async function release(): Promise<void> {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  await using listener = await connect("127.0.0.1", server.port);
  const ours: number[] = [];
  const hop: number[] = [];
  for (let i = 0; i < runs; i++) {
    const player = await connect("127.0.0.1", server.port);
    const t1 = performance.now();
    await player.send(message("note_on", { note: 60, velocity: 100 }));
    await listener.receive();
    hop.push(performance.now() - t1);
    const t0 = performance.now();
    await player.close();
    const off = await listener.receive();
    ours.push(performance.now() - t0);
    if (off.type !== "note_off") throw new Error(`got ${off.type}`);
  }
  console.log(`release of a player's note when it leaves (${runs} runs):`);
  console.log(`  close() to the note_off at another client ${stats(ours)}`);
  console.log(`  a message from one client to another     ${stats(hop)}`);
}

await reconnect();
await release();
