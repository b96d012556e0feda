// Copyright 2026 the midisock authors. MIT license.
/**
 * Network MIDI 2.0 over loopback, beside a raw UDP echo in the same run:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 bench/midi2_bench.ts [--runs=2000]
 * ```
 *
 * - round trip: a raw `node:dgram` echo (a 12-byte datagram there and back,
 *   nothing else); a session's `ping()` (Ping and Ping Reply through the
 *   session's decoding and dispatch); and a note echoed through a relay
 *   (a client's note_on goes to a host, onto a relaying PortServer, out to a
 *   second client, which plays it back the same way: four datagrams and the
 *   bus twice), beside the same with two TCP clients of mido's protocol
 *   (what the bus costs without Network MIDI 2.0). Each p50, p90 and p99 in
 *   microseconds, and p50 against the raw echo's.
 * - FEC: the bytes on the wire for the same 1,000 notes (one datagram each,
 *   as a player sends them) and for a 64 KiB sysex, with FEC N = 0, 2 and 4,
 *   against N = 0.
 *
 * Everything runs in this process (both ends share one event loop, as the
 * raw echo's do). It runs in well under 60 s.
 *
 * @module
 */

import dgram from "node:dgram";
import { connect, message, PortServer, SocketPort } from "../mod.ts";
import { dialMidi2, listenMidi2, type Midi2Session } from "../midi2.ts";

const RUNS = Number(
  Deno.args.find((a) => a.startsWith("--runs="))?.slice(7) ?? 2000,
);

function percentiles(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

function row(name: string, ms: number[], raw?: number) {
  const { p50, p90, p99 } = percentiles(ms);
  const us = (x: number) => (x * 1000).toFixed(0).padStart(6);
  const ratio = raw ? `  ${(p50 / raw).toFixed(2)}x raw` : "";
  console.log(
    `${name.padEnd(34)} p50 ${us(p50)} µs  p90 ${us(p90)} µs  p99 ${
      us(p99)
    } µs${ratio}`,
  );
  return p50;
}

async function rawEcho(): Promise<number[]> {
  const server = dgram.createSocket("udp4");
  const client = dgram.createSocket("udp4");
  await new Promise<void>((r) => server.bind(0, "127.0.0.1", () => r()));
  await new Promise<void>((r) => client.bind(0, "127.0.0.1", () => r()));
  server.on(
    "message",
    (bytes, from) => server.send(bytes, from.port, from.address),
  );
  const port = server.address().port;
  const payload = new Uint8Array(12);
  const times: number[] = [];
  let wake: (() => void) | undefined;
  client.on("message", () => wake?.());
  for (let i = 0; i < RUNS + 100; i++) {
    const done = new Promise<void>((r) => (wake = r));
    const start = performance.now();
    client.send(payload, port, "127.0.0.1");
    await done;
    if (i >= 100) times.push(performance.now() - start);
  }
  await new Promise<void>((r) => server.close(() => r()));
  await new Promise<void>((r) => client.close(() => r()));
  return times;
}

async function pings(): Promise<number[]> {
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0 },
    () => {},
  );
  await using session = await dialMidi2("127.0.0.1", listener.port);
  const times: number[] = [];
  for (let i = 0; i < RUNS + 100; i++) {
    const start = performance.now();
    await session.ping();
    if (i >= 100) times.push(performance.now() - start);
  }
  return times;
}

async function relayEcho(tcp: boolean): Promise<number[]> {
  await using bus = new PortServer("127.0.0.1", 0, { relay: true });
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0 },
    (session) => bus.admit(session, { name: session.name }),
  );
  const open = async (name: string) =>
    tcp
      ? await connect("127.0.0.1", bus.port)
      : new SocketPort(await dialMidi2("127.0.0.1", listener.port, { name }));
  await using player = await open("player");
  await using echo = await open("echo");
  while (bus.stats.clients < 2) await new Promise((r) => setTimeout(r, 5));
  // The echo plays back what it hears (the note off of the player).
  const echoing = (async () => {
    for await (const msg of echo) {
      if (msg.type === "note_on") {
        await echo.send(message("note_off", { note: msg.note }));
      }
    }
  })();
  const times: number[] = [];
  for (let i = 0; i < RUNS + 100; i++) {
    const start = performance.now();
    await player.send(message("note_on", { note: i % 128, velocity: 1 }));
    const back = await player.receive();
    if (back.type !== "note_off") throw new Error(`got ${back.type}`);
    if (i >= 100) times.push(performance.now() - start);
  }
  await echo.close();
  await echoing;
  return times;
}

/** Bytes on the wire for the notes and for the sysex, with FEC `fec`. */
async function fecBytes(fec: number): Promise<[number, number]> {
  const hosted = Promise.withResolvers<Midi2Session>();
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0 },
    (session) => hosted.resolve(session),
  );
  await using session = await dialMidi2("127.0.0.1", listener.port, { fec });
  const host = await hosted.promise;
  const reader = host.readable.getReader();
  const writer = session.writable.getWriter();
  const before = session.stats.bytesOut;
  for (let i = 0; i < 1000; i++) {
    await writer.write(new Uint8Array([0x90, i % 128, 100]));
    await reader.read();
  }
  const notes = session.stats.bytesOut - before;
  const sysex = new Uint8Array(64 * 1024 + 2).fill(0x55);
  sysex[0] = 0xf0;
  sysex[sysex.length - 1] = 0xf7;
  const start = session.stats.bytesOut;
  await writer.write(sysex);
  let got = 0;
  while (got < sysex.length) got += (await reader.read()).value!.length;
  const bulk = session.stats.bytesOut - start;
  reader.releaseLock();
  writer.releaseLock();
  return [notes, bulk];
}

const started = performance.now();
console.log(`Network MIDI 2.0 over loopback, ${RUNS} round trips each`);
const raw = row("raw node:dgram echo", await rawEcho());
row("midi2 ping() (Ping, Ping Reply)", await pings(), raw);
row("note echoed through a relay", await relayEcho(false), raw);
row("  the same, two TCP (mido) clients", await relayEcho(true), raw);
console.log("\nFEC: bytes on the wire (signature, headers, FEC copies)");
const base = await fecBytes(0);
for (const fec of [0, 2, 4]) {
  const [notes, bulk] = fec === 0 ? base : await fecBytes(fec);
  console.log(
    `N = ${fec}: 1,000 notes ${String(notes).padStart(7)} B (${
      (notes / 1000).toFixed(1)
    } B each, ${(notes / base[0]).toFixed(2)}x)   64 KiB sysex ${
      String(bulk).padStart(7)
    } B (${(bulk / base[1]).toFixed(2)}x)`,
  );
}
console.log(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
