// Copyright 2026 the midisock authors. MIT license.
/**
 * End-to-end loopback benchmark: latency, throughput and fan-out of socket
 * ports, each next to the raw Deno.Conn figure taken in the same run.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read=. --v8-flags=--expose-gc bench/net_bench.ts
 * deno run --allow-net=127.0.0.1 bench/net_bench.ts --quick
 * ```
 *
 * Flags: `--quick` (fewer iterations, for a smoke test), `--only=NAME`
 * (`latency`, `throughput` or `fanout`) and `--repeats=N` (default 3).
 * `--v8-flags=--expose-gc` makes the memory figures steadier, and
 * `--allow-read=.` (run from the repository's root) lets one throughput run
 * put the receiving server in a Worker, which loads the library from disk.
 *
 * Every figure comes from one process: both ends of each connection live in
 * it and share its one JavaScript thread, except in the Worker run.
 *
 * @module
 */

import { connect, type Message, message, PortServer } from "../mod.ts";

const HOST = "127.0.0.1";

function flag(name: string): string | undefined {
  for (const arg of Deno.args) {
    if (arg === `--${name}`) return "";
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

const QUICK = flag("quick") !== undefined;
const ONLY = flag("only");
const REPEATS = Number(flag("repeats") ?? 3);
const LAT_WARMUP = QUICK ? 1_000 : 5_000;
const LAT_ROUNDS = QUICK ? 5_000 : 20_000;
const TP_MESSAGES = QUICK ? 200_000 : 1_000_000;
const FAN_CLIENTS = 100;
const FAN_MESSAGES = QUICK ? 10_000 : 50_000;
const CHUNK = 64 * 1024; // the encoder's chunk size (maxChunkBytes)
const MSG_BYTES = 3;

const NOTE: Message = message("note_on", { note: 60, velocity: 100 });
const NOTE_BYTES = new Uint8Array([0x90, 60, 100]);

const gc = (globalThis as { gc?: () => void }).gc;
// The Worker that receives in one of the throughput runs loads this module
// and the library from disk, which takes read access to the repository.
const CAN_READ = Deno.permissions.querySync({
  name: "read",
  path: new URL("..", import.meta.url),
}).state === "granted";

// ---------------------------------------------------------------- helpers

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function percentile(sorted: Float64Array, p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

function rate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

function ratio(x: number): string {
  if (!Number.isFinite(x)) return "n/a";
  return x >= 0.1 ? `${x.toFixed(2)}x` : `${x.toPrecision(2)}x`;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

async function until(
  check: () => boolean,
  what: string,
  ms = 10_000,
): Promise<void> {
  const end = performance.now() + ms;
  while (!check()) {
    if (performance.now() > end) throw new Error(`Timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** `n` copies of the note as one buffer. */
function noteBytes(n: number): Uint8Array {
  const out = new Uint8Array(n * MSG_BYTES);
  for (let i = 0; i < out.length; i += MSG_BYTES) out.set(NOTE_BYTES, i);
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

// The encoder's chunk: as many whole messages as fit in CHUNK bytes.
const RAW_CHUNK = noteBytes(Math.floor(CHUNK / MSG_BYTES));

/** Writes `total` bytes of notes in chunks the size the encoder makes. */
async function writeNotes(conn: Deno.Conn, total: number): Promise<void> {
  for (let left = total; left > 0; left -= RAW_CHUNK.length) {
    await writeAll(
      conn,
      RAW_CHUNK.subarray(0, Math.min(left, RAW_CHUNK.length)),
    );
  }
}

/** Reads until `total` bytes have arrived (or end of stream). */
async function readBytes(conn: Deno.Conn, total: number): Promise<number> {
  const buf = new Uint8Array(CHUNK);
  let got = 0;
  while (got < total) {
    const n = await conn.read(buf);
    if (n === null) break;
    got += n;
  }
  return got;
}

/** A raw TCP pair on loopback, TCP_NODELAY on both ends. */
async function rawPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: HOST, port: 0 });
  const [a, b] = await Promise.all([
    Deno.connect({ hostname: HOST, port: listener.addr.port }),
    listener.accept(),
  ]);
  a.setNoDelay(true);
  b.setNoDelay(true);
  return [a, b];
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

// ---------------------------------------------------------------- latency

interface Latency {
  p50: number;
  p99: number;
  p999: number;
}

function summarize(samples: Float64Array): Latency {
  const s = samples.slice().sort();
  return {
    p50: percentile(s, 0.5) * 1000,
    p99: percentile(s, 0.99) * 1000,
    p999: percentile(s, 0.999) * 1000,
  };
}

async function latencyRaw(): Promise<Latency> {
  const [client, server] = await rawPair();
  const echo = (async () => {
    const buf = new Uint8Array(CHUNK);
    while (true) {
      const n = await server.read(buf);
      if (n === null) break;
      await writeAll(server, buf.subarray(0, n));
    }
  })();
  const buf = new Uint8Array(64);
  const samples = new Float64Array(LAT_ROUNDS);
  for (let i = -LAT_WARMUP; i < LAT_ROUNDS; i++) {
    const t0 = performance.now();
    await writeAll(client, NOTE_BYTES);
    let got = 0;
    while (got < MSG_BYTES) {
      const n = await client.read(buf.subarray(got));
      if (n === null) throw new Error("Raw echo ended early");
      got += n;
    }
    if (i >= 0) samples[i] = performance.now() - t0;
  }
  await client.closeWrite();
  await echo;
  closeQuietly(client);
  closeQuietly(server);
  return summarize(samples);
}

async function latencyPorts(): Promise<Latency> {
  await using server = new PortServer(HOST, 0);
  await using client = await connect(HOST, server.port);
  await using peer = await server.accept();
  const echo = (async () => {
    for await (const msg of peer) await peer.send(msg);
  })();
  const samples = new Float64Array(LAT_ROUNDS);
  for (let i = -LAT_WARMUP; i < LAT_ROUNDS; i++) {
    const t0 = performance.now();
    await client.send(NOTE);
    await client.receive();
    if (i >= 0) samples[i] = performance.now() - t0;
  }
  await client.close();
  await echo;
  return summarize(samples);
}

// ------------------------------------------------------------- throughput

/** Counts messages on the accepted port until `n` arrived. */
async function countMessages(
  peer: AsyncIterable<Message>,
  n: number,
): Promise<number> {
  let got = 0;
  for await (const _ of peer) {
    if (++got === n) break;
  }
  return got;
}

async function throughputRaw(n: number): Promise<number> {
  const [client, server] = await rawPair();
  const total = n * MSG_BYTES;
  const t0 = performance.now();
  const received = readBytes(server, total);
  await writeNotes(client, total);
  const got = await received;
  const ms = performance.now() - t0;
  closeQuietly(client);
  closeQuietly(server);
  if (got !== total) throw new Error(`Raw: got ${got} of ${total} bytes`);
  return n / (ms / 1000);
}

async function throughputSend(n: number): Promise<number> {
  await using server = new PortServer(HOST, 0);
  await using client = await connect(HOST, server.port);
  await using peer = await server.accept();
  const t0 = performance.now();
  const received = countMessages(peer, n);
  for (let i = 0; i < n; i++) await client.send(NOTE);
  const got = await received;
  const ms = performance.now() - t0;
  if (got !== n) throw new Error(`send(): got ${got} of ${n} messages`);
  return n / (ms / 1000);
}

async function throughputPipe(n: number): Promise<number> {
  await using server = new PortServer(HOST, 0);
  const client = await connect(HOST, server.port);
  await using peer = await server.accept();
  function* notes(): Generator<Message> {
    for (let i = 0; i < n; i++) yield NOTE;
  }
  const t0 = performance.now();
  const received = countMessages(peer, n);
  await ReadableStream.from(notes()).pipeTo(client.writable); // closes client
  const got = await received;
  const ms = performance.now() - t0;
  if (got !== n) throw new Error(`pipeTo: got ${got} of ${n} messages`);
  return n / (ms / 1000);
}

// The receiving end of throughputPipeWorker runs in a Worker (this module,
// loaded under this name), so that it has a thread of its own.
const RECEIVER = "net_bench_receiver";

interface WorkerScope {
  name?: string;
  postMessage(data: unknown): void;
  onmessage: ((event: MessageEvent<number>) => void) | null;
  close(): void;
}
const scope = globalThis as unknown as WorkerScope;

/** In the Worker: for each count n it is sent, accept a client, take n. */
function receiver(): void {
  const server = new PortServer(HOST, 0);
  scope.onmessage = async ({ data: n }) => {
    if (n === 0) {
      await server.close();
      scope.close();
      return;
    }
    await using peer = await server.accept();
    scope.postMessage("accepted");
    scope.postMessage(await countMessages(peer, n));
  };
  scope.postMessage(server.port);
}

/** The main thread's side of the Worker: its replies, in order. */
class Receiver {
  #worker = new Worker(import.meta.url, { type: "module", name: RECEIVER });
  #replies: unknown[] = [];
  #wake: (() => void) | undefined;
  #error: string | undefined;

  constructor() {
    this.#worker.onmessage = (event) => {
      this.#replies.push(event.data);
      this.#wake?.();
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#error = event.message;
      this.#wake?.();
    };
  }

  async reply(): Promise<unknown> {
    const end = performance.now() + 30_000;
    while (this.#replies.length === 0) {
      if (this.#error) throw new Error(`Receiver failed: ${this.#error}`);
      if (performance.now() > end) throw new Error("Receiver timed out");
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    return this.#replies.shift();
  }

  send(n: number): void {
    this.#worker.postMessage(n);
  }

  async close(): Promise<void> {
    this.send(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    this.#worker.terminate();
  }
}

async function throughputPipeWorker(
  receiver: Receiver,
  port: number,
  n: number,
): Promise<number> {
  receiver.send(n);
  const client = await connect(HOST, port);
  if (await receiver.reply() !== "accepted") throw new Error("Not accepted");
  function* notes(): Generator<Message> {
    for (let i = 0; i < n; i++) yield NOTE;
  }
  const t0 = performance.now();
  await ReadableStream.from(notes()).pipeTo(client.writable); // closes client
  const got = await receiver.reply();
  const ms = performance.now() - t0;
  if (got !== n) throw new Error(`pipeTo (Worker): got ${got} of ${n}`);
  return n / (ms / 1000);
}

/** The ceiling that Deno's streams set: the same pipe into a no-op sink. */
async function pipeFloor(n: number): Promise<number> {
  function* notes(): Generator<Message> {
    for (let i = 0; i < n; i++) yield NOTE;
  }
  let count = 0;
  const t0 = performance.now();
  await ReadableStream.from(notes()).pipeTo(
    new WritableStream({
      write() {
        count++;
      },
    }),
  );
  const ms = performance.now() - t0;
  if (count !== n) throw new Error(`No-op pipe: got ${count} of ${n}`);
  return n / (ms / 1000);
}

// ---------------------------------------------------------------- fan-out

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
}

async function memory(): Promise<Memory> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await settle();
  }
  const m = Deno.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

interface FanOut {
  perSecond: number;
  memory: Memory;
}

async function fanOutPorts(measureMemory: boolean): Promise<FanOut> {
  await using server = new PortServer(HOST, 0, { slowClient: "wait" });
  const writable = server.writable; // adopts every client from now on
  const before = measureMemory ? await memory() : undefined;
  const clients = await Promise.all(
    Array.from({ length: FAN_CLIENTS }, () => connect(HOST, server.port)),
  );
  const counts = new Array<number>(FAN_CLIENTS).fill(0);
  let done = 0;
  const { promise: allDone, resolve } = Promise.withResolvers<void>();
  const readers = clients.map(async (client, i) => {
    for await (const _ of client) {
      if (++counts[i] === FAN_MESSAGES) {
        if (++done === FAN_CLIENTS) resolve();
      }
    }
  });
  await until(
    () => server.stats.clients === FAN_CLIENTS,
    "clients to connect",
  );
  const after = measureMemory ? await memory() : undefined;
  function* notes(): Generator<Message> {
    for (let i = 0; i < FAN_MESSAGES; i++) yield NOTE;
  }
  const t0 = performance.now();
  await ReadableStream.from(notes()).pipeTo(writable, { preventClose: true });
  await allDone;
  const ms = performance.now() - t0;
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(readers);
  await server.close();
  const delivered = counts.reduce((a, b) => a + b, 0);
  const want = FAN_CLIENTS * FAN_MESSAGES;
  if (delivered !== want) {
    throw new Error(`Fan-out: ${delivered} of ${want} deliveries`);
  }
  const mem = before && after
    ? {
      rss: (after.rss - before.rss) / FAN_CLIENTS,
      heapUsed: (after.heapUsed - before.heapUsed) / FAN_CLIENTS,
      external: (after.external - before.external) / FAN_CLIENTS,
    }
    : { rss: NaN, heapUsed: NaN, external: NaN };
  return { perSecond: delivered / (ms / 1000), memory: mem };
}

async function fanOutRaw(measureMemory: boolean): Promise<FanOut> {
  using listener = Deno.listen({ hostname: HOST, port: 0 });
  const before = measureMemory ? await memory() : undefined;
  const clients: Deno.TcpConn[] = [];
  const servers: Deno.TcpConn[] = [];
  for (let i = 0; i < FAN_CLIENTS; i++) {
    const [c, s] = await Promise.all([
      Deno.connect({ hostname: HOST, port: listener.addr.port }),
      listener.accept(),
    ]);
    c.setNoDelay(true);
    s.setNoDelay(true);
    clients.push(c);
    servers.push(s);
  }
  const after = measureMemory ? await memory() : undefined;
  const total = FAN_MESSAGES * MSG_BYTES;
  const t0 = performance.now();
  const received = Promise.all(clients.map((c) => readBytes(c, total)));
  await Promise.all(servers.map((s) => writeNotes(s, total)));
  const got = await received;
  const ms = performance.now() - t0;
  for (const conn of [...clients, ...servers]) closeQuietly(conn);
  const delivered = got.reduce((a, b) => a + b, 0) / MSG_BYTES;
  if (delivered !== FAN_CLIENTS * FAN_MESSAGES) {
    throw new Error(`Raw fan-out: ${delivered} deliveries`);
  }
  const mem = before && after
    ? {
      rss: (after.rss - before.rss) / FAN_CLIENTS,
      heapUsed: (after.heapUsed - before.heapUsed) / FAN_CLIENTS,
      external: (after.external - before.external) / FAN_CLIENTS,
    }
    : { rss: NaN, heapUsed: NaN, external: NaN };
  return { perSecond: delivered / (ms / 1000), memory: mem };
}

// ------------------------------------------------------------------- main

async function repeat<T>(f: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < REPEATS; i++) {
    out.push(await f());
    await settle();
  }
  return out;
}

function row(cells: string[], widths: number[]): string {
  return "| " +
    cells.map((c, i) => i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))
      .join(" | ") +
    " |";
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  const rule = "|" +
    widths.map((w, i) => i === 0 ? "-".repeat(w + 2) : "-".repeat(w + 1) + ":")
      .join("|") +
    "|";
  return [row(head, widths), rule, ...rows.map((r) => row(r, widths))]
    .join("\n");
}

const run = (name: string) => ONLY === undefined || ONLY === name;

async function main(): Promise<void> {
  const started = performance.now();
  const command = [
    "deno run --allow-net=127.0.0.1",
    ...(CAN_READ ? ["--allow-read=."] : []),
    ...(gc ? ["--v8-flags=--expose-gc"] : []),
    "bench/net_bench.ts",
    ...Deno.args,
  ].join(" ");

  console.log(`midisock loopback benchmark: ${command}`);
  console.log(
    `Deno ${Deno.version.deno}, V8 ${Deno.version.v8}, ${Deno.build.target}, ` +
      `${navigator.hardwareConcurrency} CPUs; median of ${REPEATS} runs` +
      (gc ? "" : "; no --expose-gc, memory figures are rough"),
  );

  const results: string[][] = [];
  const goals: string[] = [];

  if (run("latency")) {
    // Interleave ours and raw, so that machine noise hits both.
    const ours: Latency[] = [];
    const raw: Latency[] = [];
    for (let i = 0; i < REPEATS; i++) {
      raw.push(await latencyRaw());
      await settle();
      ours.push(await latencyPorts());
      await settle();
    }
    const pick = (xs: Latency[], k: keyof Latency) =>
      median(xs.map((x) => x[k]));
    const o = { p50: pick(ours, "p50"), p99: pick(ours, "p99") };
    const r = { p50: pick(raw, "p50"), p99: pick(raw, "p99") };
    const o999 = pick(ours, "p999");
    const r999 = pick(raw, "p999");
    const us = (x: number) => `${x.toFixed(1)} µs`;
    results.push(
      [
        `Round trip p50 (${LAT_ROUNDS} echoes)`,
        us(o.p50),
        us(r.p50),
        ratio(o.p50 / r.p50),
      ],
      ["Round trip p99", us(o.p99), us(r.p99), ratio(o.p99 / r.p99)],
      ["Round trip p99.9", us(o999), us(r999), ratio(o999 / r999)],
    );
    goals.push(
      `round trip p50 <= 1.5x raw: ${ratio(o.p50 / r.p50)} ${
        o.p50 / r.p50 <= 1.5 ? "met" : "MISSED"
      }`,
    );
  }

  if (run("throughput")) {
    const n = TP_MESSAGES;
    const raw = median(await repeat(() => throughputRaw(n)));
    const send = median(await repeat(() => throughputSend(n)));
    const pipe = median(await repeat(() => throughputPipe(n)));
    let apart = NaN;
    if (CAN_READ) {
      const receiver = new Receiver();
      const port = await receiver.reply() as number;
      apart = median(
        await repeat(() => throughputPipeWorker(receiver, port, n)),
      );
      await receiver.close();
    }
    const floor = median(await repeat(() => pipeFloor(n)));
    const ps = (x: number) => `${rate(x)} msg/s`;
    const label = (how: string) => `One way, ${how} (${rate(n)}msg)`;
    results.push(
      [label("await send()"), ps(send), ps(raw), ratio(send / raw)],
      [label("pipeTo(writable)"), ps(pipe), ps(raw), ratio(pipe / raw)],
      CAN_READ
        ? [
          "  the same, server in a Worker thread",
          ps(apart),
          ps(raw),
          ratio(apart / raw),
        ]
        : [
          "  the same, server in a Worker thread",
          "needs --allow-read=.",
          "",
          "",
        ],
      ["  the same pipe into a no-op sink", ps(floor), "", ""],
    );
    goals.push(
      `pipeTo >= 2 M msg/s: ${rate(pipe)} msg/s ${
        pipe >= 2e6 ? "met" : "MISSED"
      }${
        CAN_READ ? ` (${rate(apart)} msg/s with the server in a Worker)` : ""
      }`,
    );
  }

  if (run("fanout")) {
    const raw = await repeat(() => fanOutRaw(false));
    const ours: FanOut[] = [];
    for (let i = 0; i < REPEATS; i++) {
      ours.push(await fanOutPorts(i === 0));
      await settle();
    }
    const rawMem = await fanOutRaw(true);
    const o = median(ours.map((x) => x.perSecond));
    const r = median(raw.map((x) => x.perSecond));
    const mem = ours[0].memory;
    results.push(
      [
        `Fan-out to ${FAN_CLIENTS} clients (${
          rate(FAN_MESSAGES)
        }msg each, sum)`,
        `${rate(o)} msg/s`,
        `${rate(r)} msg/s`,
        ratio(o / r),
      ],
      [
        "Memory per client, RSS",
        kib(mem.rss),
        kib(rawMem.memory.rss),
        "",
      ],
      [
        "Memory per client, JS heap",
        kib(mem.heapUsed),
        kib(rawMem.memory.heapUsed),
        "",
      ],
      [
        "Memory per client, external",
        kib(mem.external),
        kib(rawMem.memory.external),
        "",
      ],
    );
  }

  console.log();
  console.log(
    table(
      ["Loopback, 127.0.0.1", "midisock", "raw Deno.Conn", "ratio"],
      results,
    ),
  );
  console.log();
  const notes = [
    "Latency: client send() -> the accepted port echoes it (for await, then",
    "send()) -> client receive(). Raw: write 3 bytes, echo, read 3 bytes.",
    "Throughput: the accepted port counts with for await until all arrived.",
    "Both ends share one thread, except in the Worker run; the no-op sink is",
    "ReadableStream.from(generator).pipeTo() with nothing behind it: the",
    "ceiling that Deno's streams set for any pipeTo. Raw: the same bytes in",
    "64 KiB writes, and a reader that only counts bytes (ours decode each",
    "message into an object).",
    'Fan-out: one PortServer (slowClient: "wait") fed by',
    "pipeTo(server.writable); clients are connect() ports read with for",
    "await. Memory is measured with the clients connected and idle, and counts",
    "both ends of each connection. RSS moves with the allocator (rough, and",
    "raw RSS leaves out the kernel's socket buffers); the heap figures hold.",
  ];
  for (const line of notes) console.log(line);
  for (const g of goals) console.log(`Goal: ${g}`);
  console.log(
    `Total time ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

if (scope.name === RECEIVER) receiver();
else await main();
