// Copyright 2026 the midisock authors. MIT license.
/**
 * End-to-end loopback benchmark: latency, throughput, fan-out, relay and
 * memory of socket ports, each next to the raw Deno.Conn figure taken in the
 * same run.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read=. --allow-run --v8-flags=--expose-gc bench/net_bench.ts
 * deno run --allow-net=127.0.0.1 --allow-read=. --allow-run --v8-flags=--expose-gc bench/net_bench.ts --quick
 * ```
 *
 * Flags: `--quick` (fewer iterations, for a smoke test), `--only=NAME`
 * (`latency`, `throughput`, `fanout`, `relay`, `memory` or `sysexmem`),
 * `--repeats=N` (default 3), `--lat-runs=N` (latency runs in each harness,
 * default 5) and `--child-v8=FLAGS` (more V8 flags for the child
 * processes, such as `--min-semi-space-size=16`). `--allow-read=.` (run from
 * the repository's root) lets one throughput run put the receiving server in
 * a Worker, which loads the library from disk. `--allow-run` starts the
 * child processes: the echo server of the two-process figures
 * (`bench/_echo_server.ts`) and the memory servers (`bench/_mem_server.ts`
 * and `bench/_mem_raw_server.ts`); `--v8-flags=--expose-gc` is passed on to
 * them, to collect garbage before each memory reading.
 *
 * The round trip and the Web Streams path are measured twice: in one
 * process, where both ends share its one JavaScript thread, and with the
 * server's end in a child process. Each figure is printed beside the raw
 * platform's from the same run, taken interleaved with it: the round trips
 * in alternating blocks on connections open at once, the Web Streams pipe
 * beside the same source piped into a no-op sink. The memory figures come
 * from a server in a process of its own, with the clients in this one.
 *
 * @module
 */

import {
  connect,
  type Message,
  message,
  PortServer,
  type SocketPort,
} from "../mod.ts";
import { echoHandOff, HandOff } from "./_handoff.ts";
import { flag } from "./_flags.ts";

const HOST = "127.0.0.1";

const QUICK = flag("quick") !== undefined;
const ONLY = flag("only");
const REPEATS = Number(flag("repeats") ?? 3);
// V8 flags for the child processes: --expose-gc (if this process has it),
// and what `--child-v8=FLAGS` adds (such as --min-semi-space-size=16, to
// see what the young generation's size does to the tail).
const CHILD_V8 = [
  ...((globalThis as { gc?: unknown }).gc ? ["--expose-gc"] : []),
  ...(flag("child-v8") ?? "").split(",").filter(Boolean),
];
// Interleaved pairs of latency runs (raw, ours), in each harness.
const LAT_RUNS = Number(flag("lat-runs") ?? (QUICK ? 3 : 5));
// Round trips of warm-up before a harness's first run, and before each
// later one. V8 is still compiling midisock's path after 20000 round trips
// (--trace-opt shows it), so the first warm-up is that long: the figures
// are of the steady state.
const LAT_WARMUP_FIRST = QUICK ? 5_000 : 25_000;
const LAT_WARMUP = QUICK ? 1_000 : 2_000;
const LAT_ROUNDS = QUICK ? 5_000 : 20_000;
const LAT_BLOCK = 500; // round trips of one kind before the other's
const LAT_REST = 5; // ms of silence before each round trip after a rest
const LAT_RESTED = QUICK ? 50 : 300; // such round trips of each kind
const TP_MESSAGES = QUICK ? 200_000 : 1_000_000;
const FAN_CLIENTS = 100;
const FAN_MESSAGES = QUICK ? 10_000 : 50_000;
const RELAY_CLIENTS = 100;
const RELAY_MESSAGES = QUICK ? 200 : 1_000; // sent by each relay client
const RELAY_DEADLINE = 60_000; // ms that one relay run may take, at most
const MEM_CLIENTS = QUICK ? 200 : 1_000; // idle clients of a memory server
const CHUNK = 64 * 1024; // the encoder's chunk size (maxChunkBytes)
const MSG_BYTES = 3;

const NOTE: Message = message("note_on", { note: 60, velocity: 100 });
const NOTE_BYTES = new Uint8Array([0x90, 60, 100]);

const gc = (globalThis as { gc?: () => void }).gc;
// The memory figures run their servers as child processes of this Deno.
const CAN_RUN = Deno.permissions.querySync({
  name: "run",
  command: Deno.execPath(),
}).state === "granted";
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

/** Sends `NOTE_BYTES` and reads the echo, n times; the times into `out`. */
async function tripsRaw(
  client: Deno.Conn,
  n: number,
  out?: Float64Array,
  at = 0,
): Promise<void> {
  const buf = new Uint8Array(64);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await writeAll(client, NOTE_BYTES);
    let got = 0;
    while (got < MSG_BYTES) {
      const r = await client.read(buf.subarray(got));
      if (r === null) throw new Error("Raw echo ended early");
      got += r;
    }
    if (out) out[at + i] = performance.now() - t0;
  }
}

/** As tripsRaw, read through a HandOff: a read loop and a promise. */
async function tripsFloor(
  client: HandOff,
  n: number,
  out?: Float64Array,
  at = 0,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await client.write(NOTE_BYTES);
    let got = 0;
    while (got < MSG_BYTES) {
      const r = await client.next();
      if (r === null) throw new Error("Hand-off echo ended early");
      got += r;
    }
    if (out) out[at + i] = performance.now() - t0;
  }
}

/** Sends NOTE and receives its echo, n times; the times into `out`. */
async function tripsPort(
  client: SocketPort,
  n: number,
  out?: Float64Array,
  at = 0,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await client.send(NOTE);
    await client.receive();
    if (out) out[at + i] = performance.now() - t0;
  }
}

/**
 * One latency run: a raw connection and a midisock one, both open, their
 * round trips taken in alternating blocks of LAT_BLOCK (raw first in one
 * block, ours first in the next), so that whatever the machine does meets
 * both alike. The echoes are in this process, or in the echo server's
 * (`remote`: its ports).
 */
async function latencyRun(
  remote: Record<string, number> | undefined,
  warmup: number,
  sparse = 0,
): Promise<
  { raw: Latency; floor: Latency; ours: Latency; rested?: Rested }
> {
  await using stack = new AsyncDisposableStack();
  // Raw, and the floor: connections to an echo of each kind.
  const open = async (
    port: number | undefined,
    echo: (conn: Deno.TcpConn) => Promise<void>,
  ): Promise<Deno.TcpConn> => {
    if (port !== undefined) {
      const conn = await Deno.connect({ hostname: HOST, port });
      conn.setNoDelay(true);
      stack.defer(() => closeQuietly(conn));
      return conn;
    }
    const [client, server] = await rawPair();
    const echoing = echo(server);
    stack.defer(async () => {
      await client.closeWrite();
      await echoing;
      closeQuietly(client);
      closeQuietly(server);
    });
    return client;
  };
  const rawClient = await open(remote?.raw, async (server) => {
    const buf = new Uint8Array(CHUNK);
    while (true) {
      const n = await server.read(buf).catch(() => null);
      if (n === null) break;
      await writeAll(server, buf.subarray(0, n));
    }
  });
  const floorClient = new HandOff(await open(remote?.floor, echoHandOff));
  // Ours: a client port to a port that echoes with for await and send().
  const server = remote ? undefined : new PortServer(HOST, 0);
  const accepted = server?.accept();
  const client = await connect(HOST, remote?.echo ?? server!.port);
  const echo = accepted?.then(async (peer) => {
    for await (const msg of peer) await peer.send(msg);
    await peer.close();
  });
  stack.defer(async () => {
    await client.close();
    await echo;
    await server?.close();
  });

  await tripsRaw(rawClient, warmup);
  await tripsFloor(floorClient, warmup);
  await tripsPort(client, warmup);
  const raw = new Float64Array(LAT_ROUNDS);
  const floor = new Float64Array(LAT_ROUNDS);
  const ours = new Float64Array(LAT_ROUNDS);
  const kinds = [
    (n: number, at: number) => tripsRaw(rawClient, n, raw, at),
    (n: number, at: number) => tripsFloor(floorClient, n, floor, at),
    (n: number, at: number) => tripsPort(client, n, ours, at),
  ];
  for (let at = 0, b = 0; at < LAT_ROUNDS; at += LAT_BLOCK, b++) {
    const n = Math.min(LAT_BLOCK, LAT_ROUNDS - at);
    // Each kind goes first, second and third in turn.
    for (let k = 0; k < kinds.length; k++) {
      await kinds[(b + k) % kinds.length](n, at);
    }
  }
  let rested: Rested | undefined;
  if (sparse > 0) {
    // Round trips after a rest: each after LAT_REST ms of silence, the
    // kinds in turn, as the notes of a player who pauses.
    const times = [raw, floor, ours].map(() => new Float64Array(sparse));
    for (let i = 0; i < sparse; i++) {
      for (let k = 0; k < kinds.length; k++) {
        const j = (i + k) % kinds.length;
        await new Promise((resolve) => setTimeout(resolve, LAT_REST));
        const out = new Float64Array(1);
        await [
          () => tripsRaw(rawClient, 1, out),
          () => tripsFloor(floorClient, 1, out),
          () => tripsPort(client, 1, out),
        ][j]();
        times[j][i] = out[0];
      }
    }
    rested = {
      raw: summarize(times[0]),
      floor: summarize(times[1]),
      ours: summarize(times[2]),
    };
  }
  return {
    raw: summarize(raw),
    floor: summarize(floor),
    ours: summarize(ours),
    rested,
  };
}

/** Round trips after a rest, of each kind. */
interface Rested {
  raw: Latency;
  floor: Latency;
  ours: Latency;
}

// ------------------------------------------------------------- throughput

/** Counts messages on a port or a server until `n` arrived. */
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

/**
 * The same pipe into a server that is read as a port: for await over the
 * PortServer itself, which adopts the client, rather than over a port that
 * accept() handed out.
 */
async function throughputPipeServer(n: number): Promise<number> {
  await using server = new PortServer(HOST, 0);
  const client = await connect(HOST, server.port);
  function* notes(): Generator<Message> {
    for (let i = 0; i < n; i++) yield NOTE;
  }
  const t0 = performance.now();
  const received = countMessages(server, n);
  await ReadableStream.from(notes()).pipeTo(client.writable); // closes client
  const got = await received;
  const ms = performance.now() - t0;
  if (got !== n) throw new Error(`pipeTo -> server: got ${got} of ${n}`);
  return n / (ms / 1000);
}

/**
 * The same pipe into a server in another process: the echo server's sink,
 * for await over a PortServer, which says when it has counted n.
 */
async function throughputPipeProcess(
  child: ChildServer,
  port: number,
  n: number,
): Promise<number> {
  const client = await connect(HOST, port);
  if (!(await child.ask(`expect ${n}`)).ready) throw new Error("Not ready");
  function* notes(): Generator<Message> {
    for (let i = 0; i < n; i++) yield NOTE;
  }
  const t0 = performance.now();
  await ReadableStream.from(notes()).pipeTo(client.writable); // closes client
  const { got } = await child.line();
  const ms = performance.now() - t0;
  if (got !== n) throw new Error(`pipeTo -> process: got ${got} of ${n}`);
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

async function fanOutPorts(): Promise<number> {
  await using server = new PortServer(HOST, 0, { slowClient: "wait" });
  const writable = server.writable; // adopts every client from now on
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
  return delivered / (ms / 1000);
}

/** `count` raw client connections to a listener, and the server's ends. */
async function rawClients(
  listener: Deno.TcpListener,
  count: number,
): Promise<{ clients: Deno.TcpConn[]; servers: Deno.TcpConn[] }> {
  const clients: Deno.TcpConn[] = [];
  const servers: Deno.TcpConn[] = [];
  for (let i = 0; i < count; i++) {
    const [c, s] = await Promise.all([
      Deno.connect({ hostname: HOST, port: listener.addr.port }),
      listener.accept(),
    ]);
    c.setNoDelay(true);
    s.setNoDelay(true);
    clients.push(c);
    servers.push(s);
  }
  return { clients, servers };
}

async function fanOutRaw(): Promise<number> {
  using listener = Deno.listen({ hostname: HOST, port: 0 });
  const { clients, servers } = await rawClients(listener, FAN_CLIENTS);
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
  return delivered / (ms / 1000);
}

// ------------------------------------------------------------------ relay

/**
 * Resolves as `promise` does, or rejects with the signal's reason once it
 * aborts (std's `abortable`, for a promise).
 */
function within<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  const { promise: aborted, reject } = Promise.withResolvers<never>();
  const onAbort = () => reject(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  return Promise.race([promise, aborted]).finally(() =>
    signal.removeEventListener("abort", onAbort)
  );
}

/** The note of relay client `i`: a channel and a note of its own. */
function relayNote(i: number): [channel: number, note: number] {
  return [i % 16, 20 + i];
}

interface Relay {
  perSecond: number;
  /** Bytes that the hub encoded, per message relayed. */
  bytesPerMessage: number;
}

/**
 * RELAY_CLIENTS clients of a `relay: true` PortServer that nobody reads:
 * each pipes RELAY_MESSAGES notes into its writable and reads with for
 * await until it has every other client's. The rate is deliveries (the sum
 * over clients of the messages received) per second.
 */
async function relayPorts(): Promise<Relay> {
  const m = RELAY_MESSAGES;
  const want = (RELAY_CLIENTS - 1) * m; // what each client receives
  const signal = AbortSignal.timeout(RELAY_DEADLINE);
  await using server = new PortServer(HOST, 0, { relay: true });
  const clients = await Promise.all(
    Array.from({ length: RELAY_CLIENTS }, () => connect(HOST, server.port)),
  );
  const counts = new Array<number>(RELAY_CLIENTS).fill(0);
  let readers: Promise<void>[] = [];
  try {
    await until(
      () => server.stats.clients === RELAY_CLIENTS,
      "relay clients to be adopted",
    );
    let done = 0;
    const { promise: allDone, resolve } = Promise.withResolvers<void>();
    readers = clients.map(async (client, i) => {
      for await (const _ of client) {
        if (++counts[i] === want) {
          if (++done === RELAY_CLIENTS) resolve();
          break;
        }
      }
    });
    const t0 = performance.now();
    const sent = clients.map((client, i) => {
      const [channel, note] = relayNote(i);
      const msg = message("note_on", { channel, note, velocity: 100 });
      function* notes(): Generator<Message> {
        for (let j = 0; j < m; j++) yield msg;
      }
      // The client stays open, to receive the others' notes.
      return ReadableStream.from(notes()).pipeTo(client.writable, {
        preventClose: true,
      });
    });
    await within(Promise.all([...sent, allDone]), signal);
    const ms = performance.now() - t0;
    const hub = server.hub.stats;
    const stats = server.stats;
    if (stats.relayed !== RELAY_CLIENTS * m || stats.slowClients !== 0) {
      throw new Error(
        `Relay: relayed ${stats.relayed} of ${RELAY_CLIENTS * m}, ` +
          `${stats.slowClients} slow clients`,
      );
    }
    const delivered = counts.reduce((a, b) => a + b, 0);
    return {
      perSecond: delivered / (ms / 1000),
      bytesPerMessage: hub.encodedBytes / hub.messages,
    };
  } catch (error) {
    const got = counts.reduce((a, b) => a + b, 0);
    throw new Error(
      `Relay: ${got} of ${RELAY_CLIENTS * want} deliveries`,
      { cause: error },
    );
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(readers);
  }
}

/**
 * A raw relay's queue of writes to one connection: chunks queued while a
 * write is under way go out together in the next one, in order.
 */
class RawOutbox {
  #conn: Deno.Conn;
  #queue: Uint8Array[] = [];
  #writing: Promise<void> | undefined;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  push(chunk: Uint8Array): void {
    this.#queue.push(chunk);
    this.#writing ??= this.#flush();
  }

  /** When everything queued so far is written (or the connection failed). */
  get settled(): Promise<void> {
    return this.#writing ?? Promise.resolve();
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const chunks = this.#queue.splice(0);
        await writeAll(this.#conn, concat(chunks));
      }
    } catch {
      this.#queue.length = 0; // the client has gone
    } finally {
      this.#writing = undefined;
    }
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const chunk of chunks) {
    out.set(chunk, off);
    off += chunk.length;
  }
  return out;
}

/**
 * Reads one connection of a raw relay and queues each read's whole notes,
 * as one chunk, for every other connection (a note cut by a read waits for
 * the rest of it).
 */
async function rawRelayReader(
  conn: Deno.Conn,
  others: RawOutbox[],
): Promise<void> {
  const buf = new Uint8Array(CHUNK);
  let carry = 0;
  try {
    while (true) {
      const n = await conn.read(buf.subarray(carry));
      if (n === null) break;
      const have = carry + n;
      const whole = have - (have % MSG_BYTES);
      if (whole > 0) {
        const chunk = buf.slice(0, whole);
        for (const out of others) out.push(chunk);
      }
      buf.copyWithin(0, whole, have);
      carry = have - whole;
    }
  } catch {
    // The client has gone.
  }
}

/**
 * The raw figure for relayPorts: RELAY_CLIENTS raw connections to a tiny
 * relay of raw connections; each client writes its RELAY_MESSAGES notes and
 * counts bytes until it has every other client's.
 */
async function relayRaw(): Promise<number> {
  const m = RELAY_MESSAGES;
  const want = (RELAY_CLIENTS - 1) * m * MSG_BYTES; // bytes for each client
  const signal = AbortSignal.timeout(RELAY_DEADLINE);
  using listener = Deno.listen({ hostname: HOST, port: 0 });
  const { clients, servers } = await rawClients(listener, RELAY_CLIENTS);
  const outboxes = servers.map((s) => new RawOutbox(s));
  const relays = servers.map((s, i) =>
    rawRelayReader(s, outboxes.filter((_, j) => j !== i))
  );
  const counts = new Array<number>(RELAY_CLIENTS).fill(0);
  try {
    const received = Promise.all(clients.map(async (c, i) => {
      counts[i] = await readBytes(c, want);
    }));
    const t0 = performance.now();
    const sent = clients.map((c, i) => {
      const [channel, note] = relayNote(i);
      const bytes = new Uint8Array(m * MSG_BYTES);
      for (let j = 0; j < bytes.length; j += MSG_BYTES) {
        bytes.set([0x90 | channel, note, 100], j);
      }
      return writeAll(c, bytes);
    });
    await within(Promise.all([...sent, received]), signal);
    const ms = performance.now() - t0;
    const delivered = counts.reduce((a, b) => a + b, 0) / MSG_BYTES;
    if (delivered !== RELAY_CLIENTS * (RELAY_CLIENTS - 1) * m) {
      throw new Error(`Raw relay: ${delivered} deliveries`);
    }
    return delivered / (ms / 1000);
  } finally {
    for (const conn of [...clients, ...servers]) closeQuietly(conn);
    await Promise.all(relays);
    await Promise.all(outboxes.map((o) => o.settled));
  }
}

// ----------------------------------------------------------------- memory

/**
 * A server in a child process that answers commands with JSON lines: the
 * memory servers (see `_mem_child.ts`) and the echo server
 * (`_echo_server.ts`).
 */
class ChildServer implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stdout: ReadableStreamDefaultReader<string>;
  #text = "";

  /** Starts `deno run` of a script in bench/. */
  constructor(script: string) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-net=127.0.0.1",
        ...(CHILD_V8.length ? [`--v8-flags=${CHILD_V8.join(",")}`] : []),
        new URL(script, import.meta.url).pathname,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#stdout = this.#child.stdout
      .pipeThrough(new TextDecoderStream())
      .getReader();
  }

  /** The next JSON line that the server prints, within 30 seconds. */
  async line(): Promise<Record<string, number>> {
    const signal = AbortSignal.timeout(30_000);
    let nl: number;
    while ((nl = this.#text.indexOf("\n")) < 0) {
      const { done, value } = await within(this.#stdout.read(), signal)
        .catch((cause) => {
          throw new Error("The child server did not answer in 30 s", {
            cause,
          });
        });
      if (done) throw new Error("The child server ended early");
      this.#text += value;
    }
    const line = this.#text.slice(0, nl);
    this.#text = this.#text.slice(nl + 1);
    const reply = JSON.parse(line);
    if (reply.error) throw new Error(`The child server said: ${reply.error}`);
    return reply;
  }

  /** Sends a command (such as `count` or `mem`) and returns the reply. */
  async ask(command: string): Promise<Record<string, number>> {
    await this.#stdin.write(new TextEncoder().encode(`${command}\n`));
    return await this.line();
  }

  /** Ends the server: its stdin closes, and it is killed if it lingers. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#stdin.close().catch(() => {});
    const exited = await within(this.#child.status, AbortSignal.timeout(2000))
      .then(() => true, () => false);
    if (!exited) {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // It has exited meanwhile.
      }
      await this.#child.status;
    }
    await this.#stdout.cancel().catch(() => {});
  }
}

/** The soft limit on open files (`ulimit -n`), or undefined if unknown. */
async function fileLimit(): Promise<number | undefined> {
  const sh = Deno.permissions.querySync({ name: "run", command: "sh" });
  if (sh.state !== "granted") return undefined;
  try {
    const { stdout } = await new Deno.Command("sh", {
      args: ["-c", "ulimit -n"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const text = new TextDecoder().decode(stdout).trim();
    return text === "unlimited" ? Infinity : Number(text) || undefined;
  } catch {
    return undefined;
  }
}

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
}

/** RSS of a server (in its own process) under unfinished sysex messages. */
interface SysexMemory {
  before: number;
  held: number;
  after: number;
}

/**
 * The RSS of the server in `script`, in its own process: with no client;
 * with `n` clients that have each sent `size` bytes of a sysex that never
 * ends; and once they have all left.
 */
async function sysexMemory(
  script: string,
  n: number,
  size: number,
): Promise<SysexMemory> {
  await using server = new ChildServer(script);
  const { port } = await server.line();
  const before = (await server.ask("mem")).rss;
  const data = new Uint8Array(size).fill(1);
  data[0] = 0xf0;
  const conns: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < n; i += 50) {
      conns.push(
        ...await Promise.all(
          Array.from(
            { length: Math.min(50, n - i) },
            () => Deno.connect({ hostname: HOST, port }),
          ),
        ),
      );
    }
    await Promise.all(conns.map((conn) => writeAll(conn, data)));
    const clients = async (want: number) => {
      const end = performance.now() + 30_000;
      while ((await server.ask("count")).clients !== want) {
        if (performance.now() > end) throw new Error(`Not ${want} clients`);
        await settle();
      }
    };
    await clients(n);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // all read
    const held = (await server.ask("mem")).rss;
    for (const conn of conns.splice(0)) closeQuietly(conn);
    await clients(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = (await server.ask("mem")).rss;
    return { before, held, after };
  } finally {
    for (const conn of conns) closeQuietly(conn);
  }
}

/**
 * Memory per idle client of the server in `script`, in its own process:
 * its memory with no client, then with `n` raw connections from this
 * process that it has taken in and that send nothing, divided by `n`.
 */
async function memoryPerClient(script: string, n: number): Promise<Memory> {
  await using server = new ChildServer(script);
  const { port } = await server.line();
  const before = await server.ask("mem");
  const conns: Deno.TcpConn[] = [];
  try {
    // In batches, so that the listen queue never overflows.
    for (let i = 0; i < n; i += 100) {
      const batch = Math.min(100, n - i);
      conns.push(
        ...await Promise.all(
          Array.from(
            { length: batch },
            () => Deno.connect({ hostname: HOST, port }),
          ),
        ),
      );
    }
    const end = performance.now() + 30_000;
    while ((await server.ask("count")).clients !== n) {
      if (performance.now() > end) {
        throw new Error(`Timed out waiting for ${script} to take in clients`);
      }
      await settle();
    }
    const after = await server.ask("mem");
    if (after.clients !== n) {
      throw new Error(`${script}: ${after.clients} of ${n} clients`);
    }
    return {
      rss: (after.rss - before.rss) / n,
      heapUsed: (after.heapUsed - before.heapUsed) / n,
      external: (after.external - before.external) / n,
    };
  } finally {
    for (const conn of conns) closeQuietly(conn);
  }
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

/** Breaks a paragraph into lines of at most `width` characters. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines.join("\n");
}

/** LAT_RUNS latency runs, each with raw, floor and midisock interleaved. */
async function latencyRuns(
  remote?: Record<string, number>,
): Promise<
  { raw: Latency[]; floor: Latency[]; ours: Latency[]; rested: Rested }
> {
  const raw: Latency[] = [];
  const floor: Latency[] = [];
  const ours: Latency[] = [];
  let rested: Rested | undefined;
  for (let i = 0; i < LAT_RUNS; i++) {
    const last = i === LAT_RUNS - 1;
    const run = await latencyRun(
      remote,
      i === 0 ? LAT_WARMUP_FIRST : LAT_WARMUP,
      last ? LAT_RESTED : 0,
    );
    raw.push(run.raw);
    floor.push(run.floor);
    ours.push(run.ours);
    rested ??= run.rested;
    await settle();
  }
  return { raw, floor, ours, rested: rested! };
}

/** The median of the pairs' ratios, and their range: "1.21x (1.10-1.35)". */
function ratios(ours: number[], raw: number[]): [number, string] {
  const each = ours.map((o, i) => o / raw[i]).sort((a, b) => a - b);
  const m = median(each);
  const f = (x: number) => x.toFixed(2);
  return [m, `${f(m)}x (${f(each[0])}-${f(each.at(-1)!)})`];
}

const run = (name: string) => ONLY === undefined || ONLY === name;

async function main(): Promise<void> {
  const started = performance.now();
  const command = [
    "deno run --allow-net=127.0.0.1",
    ...(CAN_READ ? ["--allow-read=."] : []),
    ...(CAN_RUN ? ["--allow-run"] : []),
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
  const notes: string[] = [];
  const verdict = (ok: boolean) => ok ? "met" : "MISSED";

  if (run("latency")) {
    const us = (x: number) => `${x.toFixed(1)} µs`;
    const harnesses: [string, Record<string, number> | undefined][] = [
      ["one process", undefined],
    ];
    await using child = CAN_RUN
      ? new ChildServer("./_echo_server.ts")
      : undefined;
    if (child) harnesses.push(["two processes", await child.line()]);
    for (const [where, remote] of harnesses) {
      const { raw, floor, ours, rested } = await latencyRuns(remote);
      const limits = { p50: 1.3, p99: 1.3, p999: 1.5 };
      for (const k of ["p50", "p99", "p999"] as const) {
        const o = ours.map((x) => x[k]);
        const f = floor.map((x) => x[k]);
        const r = raw.map((x) => x[k]);
        const [m, text] = ratios(o, r);
        const name = k === "p999" ? "p99.9" : k;
        results.push(
          [
            k === "p50"
              ? `Round trip p50, ${where} (${LAT_RUNS} runs x ${LAT_ROUNDS})`
              : `  ${name}`,
            us(median(o)),
            us(median(r)),
            text,
          ],
          [
            `    floor: a read loop and a promise (${name})`,
            us(median(f)),
            us(median(r)),
            ratios(f, r)[1],
          ],
        );
        goals.push(
          `round trip ${name} <= ${limits[k]}x raw, ${where}: ${ratio(m)} ${
            verdict(m <= limits[k])
          }`,
        );
      }
      for (const k of ["p50", "p99"] as const) {
        const o = rested.ours[k];
        const r = rested.raw[k];
        const f = rested.floor[k];
        results.push(
          [
            k === "p50"
              ? `Round trip after ${LAT_REST} ms of silence, p50, ${where} (${LAT_RESTED})`
              : `  after ${LAT_REST} ms of silence, p99`,
            us(o),
            us(r),
            ratio(o / r),
          ],
          [`    floor (${k})`, us(f), us(r), ratio(f / r)],
        );
      }
    }
    if (!child) {
      results.push(["Round trip, two processes", "needs --allow-run", "", ""]);
    }
    notes.push(
      "Latency: client send() -> the accepted port echoes it (for await, " +
        "then send()) -> client receive(). Raw: write 3 bytes, echo, read " +
        `3 bytes. Each run opens its connections, takes ${LAT_WARMUP} round ` +
        `trips of each as warm-up (${LAT_WARMUP_FIRST} in the first run of ` +
        `a harness), then ${LAT_ROUNDS} of each in alternating blocks ` +
        `of ${LAT_BLOCK} (each kind first in turn), so that the ` +
        "machine's noise meets all alike. Figures: the median over " +
        `${LAT_RUNS} runs of each run's percentile; ratio: the median of ` +
        "the runs' ratios (and their range). One process: both ends share " +
        "its thread. Two processes: the echoes run in " +
        "bench/_echo_server.ts, a child process (a raw Deno.Conn echo, and " +
        "a PortServer whose accepted ports echo). Floor: the raw round trip " +
        "with each end read by a loop that keeps a read pending and hands " +
        "each read to the reader through one promise (bench/_handoff.ts), " +
        "as any port must; it parses nothing. After silence: in the last " +
        `run, ${LAT_RESTED} round trips of each kind, each after ` +
        `${LAT_REST} ms with nothing sent, the kinds in turn: a note after ` +
        "a rest, with the caches and the CPU gone cold. " +
        "The floor is taken in the same " +
        "blocks, in turn with the other two.",
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
    // The Web Streams path beside the same source piped into a no-op
    // sink, interleaved (sink, ours, sink, ours...), in one process and
    // with the server in another.
    const streams: [string, number[], number[]][] = [];
    {
      const ours: number[] = [];
      const sink: number[] = [];
      for (let i = 0; i < REPEATS; i++) {
        sink.push(await pipeFloor(n));
        await settle();
        ours.push(await throughputPipeServer(n));
        await settle();
      }
      streams.push(["one process", ours, sink]);
    }
    if (CAN_RUN) {
      await using child = new ChildServer("./_echo_server.ts");
      const { sink: port } = await child.line();
      const ours: number[] = [];
      const sink: number[] = [];
      for (let i = 0; i < REPEATS; i++) {
        sink.push(await pipeFloor(n));
        await settle();
        ours.push(await throughputPipeProcess(child, port, n));
        await settle();
      }
      streams.push(["server in another process", ours, sink]);
    }
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
    );
    for (const [where, ours, sink] of streams) {
      const [m, text] = ratios(ours, sink);
      results.push([
        `Web Streams, ${where}: pipeTo -> for await over server (raw: no-op sink)`,
        ps(median(ours)),
        ps(median(sink)),
        text,
      ]);
      goals.push(
        `Web Streams path >= 0.5x the no-op sink, ${where}: ${ratio(m)} ${
          verdict(m >= 0.5)
        }`,
      );
    }
    notes.push(
      "Throughput: the client's messages are counted with for await, on " +
        "the port that server.accept() gave (await send(), " +
        "pipeTo(writable)) or over the PortServer itself, which adopts the " +
        "client (-> for await over the server). Both ends share one " +
        "thread, except in the Worker run. The no-op sink is " +
        "ReadableStream.from(generator).pipeTo() with nothing behind it: " +
        "the ceiling that Deno's streams set for any pipeTo. Raw: the same " +
        "bytes in 64 KiB writes, and a reader that only counts bytes (ours " +
        "decode each message into an object). Web Streams: " +
        "ReadableStream.from(generator).pipeTo(client.writable) with for " +
        "await over the PortServer, in this process or in " +
        "bench/_echo_server.ts; its raw column is the same source piped " +
        "into a no-op sink in this process, in runs interleaved with ours.",
    );
  }

  if (run("fanout")) {
    const raw: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < REPEATS; i++) {
      raw.push(await fanOutRaw());
      await settle();
      ours.push(await fanOutPorts());
      await settle();
    }
    const o = median(ours);
    const r = median(raw);
    results.push([
      `Fan-out to ${FAN_CLIENTS} clients (${rate(FAN_MESSAGES)}msg each, sum)`,
      `${rate(o)} msg/s`,
      `${rate(r)} msg/s`,
      ratio(o / r),
    ]);
    notes.push(
      'Fan-out: one PortServer (slowClient: "wait") fed by ' +
        "pipeTo(server.writable); clients are connect() ports read with " +
        "for await. Raw: the server's ends write 64 KiB chunks, and the " +
        "clients count bytes.",
    );
  }

  if (run("relay")) {
    const raw: number[] = [];
    const ours: Relay[] = [];
    for (let i = 0; i < REPEATS; i++) {
      raw.push(await relayRaw());
      await settle();
      ours.push(await relayPorts());
      await settle();
    }
    const o = median(ours.map((x) => x.perSecond));
    const r = median(raw);
    const encoded = Math.max(...ours.map((x) => x.bytesPerMessage));
    results.push(
      [
        `Relay, ${RELAY_CLIENTS} clients each sending ${
          rate(RELAY_MESSAGES)
        }msg (sum of deliveries)`,
        `${rate(o)} msg/s`,
        `${rate(r)} msg/s`,
        ratio(o / r),
      ],
      [
        "  bytes encoded per message (hub.stats)",
        `${encoded.toFixed(2)} B`,
        "",
        "",
      ],
    );
    notes.push(
      `Relay: ${RELAY_CLIENTS} connect() clients of a PortServer with ` +
        "relay: true that nobody reads. Each pipes a note of its own (its " +
        "own channel and note number) into its writable, and counts with " +
        "for await until it has every other client's: " +
        `${RELAY_CLIENTS - 1} x ${RELAY_MESSAGES} messages. The rate is ` +
        "the sum over clients of the messages received, over the wall " +
        "time. Bytes encoded per message is hub.stats.encodedBytes / " +
        "hub.stats.messages (3 for a note_on encoded once). Raw: a relay " +
        "that reads each connection and writes each read's whole notes, " +
        `as one chunk, to the other ${RELAY_CLIENTS - 1} (chunks queued ` +
        "during a write go out together in the next); raw clients write " +
        "their notes at once and count bytes.",
    );
  }

  if (run("memory")) {
    const limit = await fileLimit();
    // This process holds one descriptor a client, and so does the server's;
    // keep both well inside the limit, with room for everything else.
    const n = limit === undefined
      ? MEM_CLIENTS
      : Math.max(1, Math.min(MEM_CLIENTS, Math.floor((limit - 200) / 2)));
    const where = `server process, ${n} clients`;
    if (CAN_RUN) {
      // Interleave ours and raw, so that machine noise hits both.
      const ours: Memory[] = [];
      const raw: Memory[] = [];
      for (let i = 0; i < REPEATS; i++) {
        raw.push(await memoryPerClient("./_mem_raw_server.ts", n));
        await settle();
        ours.push(await memoryPerClient("./_mem_server.ts", n));
        await settle();
      }
      const pick = (xs: Memory[], k: keyof Memory) =>
        kib(median(xs.map((x) => x[k])));
      results.push(
        [
          `Memory per idle client, RSS (${where})`,
          pick(ours, "rss"),
          pick(raw, "rss"),
          "",
        ],
        [
          "Memory per idle client, JS heap",
          pick(ours, "heapUsed"),
          pick(raw, "heapUsed"),
          "",
        ],
        [
          "Memory per idle client, external",
          pick(ours, "external"),
          pick(raw, "external"),
          "",
        ],
      );
    } else {
      results.push([
        `Memory per idle client (${where})`,
        "needs --allow-run",
        "",
        "",
      ]);
    }
    notes.push(
      "Memory: a server in a process of its own (deno run of " +
        "bench/_mem_server.ts: a PortServer read as a port, so it adopts " +
        "and reads each client; raw: bench/_mem_raw_server.ts, an accept " +
        "loop that keeps each connection with a read pending into a 2 KiB " +
        `buffer), with ${n} idle raw connections from this process ` +
        `(ulimit -n ${limit ?? "unknown"}; each process holds one ` +
        "descriptor a client). The figure is (with the clients - with " +
        `none) / ${n}, from Deno.memoryUsage() in the server's process` +
        (gc ? " after gc()" : "") + ". RSS moves with the allocator " +
        "(rough, and leaves out the kernel's socket buffers); the heap " +
        "figures hold.",
    );
  }

  if (run("sysexmem")) {
    const n = QUICK ? 100 : 300;
    const size = 1_000_000;
    if (CAN_RUN) {
      const raw = await sysexMemory("./_mem_raw_server.ts", n, size);
      await settle();
      const ours = await sysexMemory("./_mem_server.ts", n, size);
      const mb = (x: number) => `${(x / 1e6).toFixed(0)} MB`;
      results.push(
        [
          `Server RSS, no client (${n} clients, 1 MB of sysex each)`,
          mb(ours.before),
          mb(raw.before),
          "",
        ],
        [
          "  with each client 1 MB into a sysex",
          mb(ours.held),
          mb(raw.held),
          "",
        ],
        ["  after they all left", mb(ours.after), mb(raw.after), ""],
      );
      notes.push(
        `Sysex memory: the same servers, each in a process of its own; ${n} ` +
          `raw clients each send ${size} bytes of a sysex that never ends ` +
          "(F0 and data, under the 1 MiB limit a client), then all leave. " +
          "midisock holds at most maxBufferedBytes (64 MiB) of them, " +
          "dropping the largest; the raw server reads and drops every byte. " +
          "RSS from Deno.memoryUsage() in the server's process.",
      );
    } else {
      results.push(["Server RSS under sysex", "needs --allow-run", "", ""]);
    }
  }

  console.log();
  console.log(
    table(
      ["Loopback, 127.0.0.1", "midisock", "raw Deno.Conn", "ratio"],
      results,
    ),
  );
  console.log();
  for (const note of notes) console.log(wrap(note, 76));
  for (const g of goals) console.log(`Goal: ${g}`);
  console.log(
    `Total time ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

if (scope.name === RECEIVER) receiver();
else await main();
