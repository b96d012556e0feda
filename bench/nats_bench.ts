// Copyright 2026 the midisock authors. MIT license.
/**
 * A bus across hubs on NATS, beside one hub, in the same run:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-run --allow-read --allow-env bench/nats_bench.ts [--runs=2000] [--clients=300] [--messages=2000]
 * ```
 *
 * It starts its own nats-server on a free loopback port, and each hub as a
 * child process (`bench/_nats_hub.ts`), so that hubs do not share a heap.
 *
 * - latency: one message at a time, the one-way time from a client of hub A
 *   to a client of hub B (A -> NATS -> B), beside the time from a client of
 *   hub A to another client of the same hub, and beside a bare NATS
 *   publish -> subscription in this process (the broker's hop alone).
 * - fan-out: 3 hubs with `--clients` raw TCP clients each; one more client
 *   of hub A sends `--messages` 3-byte messages as fast as the hub takes
 *   them; every other client must get them all. It reports the messages
 *   delivered per second in all (deliveries / time from the first send to
 *   the last byte), beside one hub with all 3 × clients on it, and each
 *   hub's memory (RSS and V8 heap, after GC) with its clients connected.
 *
 * @module
 */

import { connect, message, type SocketPort } from "../mod.ts";
import { connectNats } from "../src/nats/_transport.ts";
import { numberFlag } from "./_flags.ts";

const RUNS = numberFlag("runs", 2000);
const CLIENTS = numberFlag("clients", 300);
const MESSAGES = numberFlag("messages", 10000);

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

async function until(ready: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 400; i++) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

/** A nats-server child on a free loopback port. */
async function natsServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = freePort();
  const child = new Deno.Command("nats-server", {
    args: ["-a", "127.0.0.1", "-p", String(port)],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await until(async () => {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return true;
    } catch {
      return false;
    }
  }, "nats-server");
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

/** A hub (bench/_nats_hub.ts) in a child process. */
class Hub {
  #child: Deno.ChildProcess;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #lines: ReadableStreamDefaultReader<string>;
  #text = "";
  port = 0;

  constructor(url: string, hub: string) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-net=127.0.0.1",
        "--v8-flags=--expose-gc",
        new URL("./_nats_hub.ts", import.meta.url).pathname,
        url,
        "bench",
        hub,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
  }

  async line(): Promise<Record<string, number>> {
    let nl: number;
    while ((nl = this.#text.indexOf("\n")) < 0) {
      const { done, value } = await this.#lines.read();
      if (done) throw new Error("A hub ended early");
      this.#text += value;
    }
    const line = this.#text.slice(0, nl);
    this.#text = this.#text.slice(nl + 1);
    return JSON.parse(line);
  }

  async start(): Promise<this> {
    this.port = (await this.line()).port;
    return this;
  }

  async ask(command: string): Promise<Record<string, number>> {
    await this.#stdin.write(new TextEncoder().encode(`${command}\n`));
    return await this.line();
  }

  async stop(): Promise<void> {
    await this.#stdin.close();
    await this.#child.status;
    await this.#lines.cancel().catch(() => {});
  }
}

function percentiles(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return `p50 ${(at(0.5) * 1000).toFixed(0).padStart(5)} µs   p99 ${
    (at(0.99) * 1000).toFixed(0).padStart(5)
  } µs`;
}

async function waitClients(hub: Hub, n: number): Promise<void> {
  await until(
    async () => (await hub.ask("count")).clients >= n,
    `${n} clients`,
  );
}

/** One message at a time from `from` to `to`: one-way times, in ms. */
async function oneWay(from: SocketPort, to: SocketPort): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS + 100; i++) {
    const msg = message("polytouch", { note: i % 128, value: (i >> 7) % 128 });
    const t0 = performance.now();
    await from.send(msg);
    await to.receive();
    if (i >= 100) times.push(performance.now() - t0); // after a warm-up
  }
  return times;
}

async function latency(url: string, a: Hub, b: Hub): Promise<void> {
  const sender = await connect("127.0.0.1", a.port);
  const sameHub = await connect("127.0.0.1", a.port);
  const otherHub = await connect("127.0.0.1", b.port);
  await waitClients(a, 2);
  await waitClients(b, 1);
  const drain = (port: SocketPort) => {
    while (port.poll() !== undefined);
  };
  const across = await oneWay(sender, otherHub);
  drain(sameHub);
  // The same-hub client also hears the messages: read it from now on only.
  const within = await oneWay(sender, sameHub);
  drain(otherHub);
  await sender.close();
  await sameHub.close();
  await otherHub.close();
  // The broker's hop alone: a publish to a subscription, in this process.
  const nc = await connectNats({ servers: url });
  const sub = nc.subscribe("bench.raw");
  const it = sub[Symbol.asyncIterator]();
  const raw: number[] = [];
  for (let i = 0; i < RUNS + 100; i++) {
    const t0 = performance.now();
    nc.publish("bench.raw", new Uint8Array([0xa0, i % 128, 0]));
    await it.next();
    if (i >= 100) raw.push(performance.now() - t0);
  }
  await nc.close();
  console.log(`one-way latency, one message at a time (${RUNS} runs):`);
  console.log(
    `  client of hub A -> client of hub B (NATS)  ${percentiles(across)}`,
  );
  console.log(
    `  client of hub A -> client of hub A         ${percentiles(within)}`,
  );
  console.log(
    `  bare NATS publish -> subscription          ${percentiles(raw)}`,
  );
}

/** Raw TCP clients of a hub, counting the bytes they get. */
async function rawClients(port: number, n: number) {
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < n; i++) {
    conns.push(await Deno.connect({ hostname: "127.0.0.1", port }));
  }
  return conns;
}

/** Fan-out from one sender on hubs[0] to every other client of `hubs`. */
async function fanout(
  url: string,
  hubs: Hub[],
  perHub: number,
): Promise<number> {
  // How the bridge batches: the NATS messages of MIDI bytes on the bus.
  const nc = await connectNats({ servers: url });
  let batches = 0;
  nc.subscribe("midisock.bench.*", {
    callback: (_, msg) => {
      if (msg.data.length > 0) batches++;
    },
  });
  await nc.flush();
  const receivers: Deno.TcpConn[] = [];
  for (const hub of hubs) receivers.push(...await rawClients(hub.port, perHub));
  const sender = await Deno.connect({
    hostname: "127.0.0.1",
    port: hubs[0].port,
  });
  for (const [i, hub] of hubs.entries()) {
    await waitClients(hub, perHub + (i === 0 ? 1 : 0));
  }
  const want = MESSAGES * 3;
  const done = receivers.map(async (conn) => {
    const buf = new Uint8Array(65536);
    let got = 0;
    while (got < want) {
      const n = await conn.read(buf);
      if (n === null) {
        throw new Error(`A client was cut off after ${got} bytes`);
      }
      got += n;
    }
  });
  const bytes = new Uint8Array(MESSAGES * 3);
  for (let i = 0; i < MESSAGES; i++) {
    bytes.set([0xa0, i % 128, (i >> 7) % 128], i * 3);
  }
  const t0 = performance.now();
  for (let i = 0; i < bytes.length;) i += await sender.write(bytes.subarray(i));
  await Promise.all(done);
  const seconds = (performance.now() - t0) / 1000;
  const rate = (receivers.length * MESSAGES) / seconds;
  const mem = await Promise.all(hubs.map((hub) => hub.ask("mem")));
  for (const conn of [...receivers, sender]) conn.close();
  await nc.flush();
  await nc.close();
  console.log(
    `fan-out: ${hubs.length} hub${
      hubs.length > 1 ? "s" : ""
    } × ${perHub} clients, ${MESSAGES} messages from one client: ${
      (rate / 1e6).toFixed(2)
    } M messages delivered/s in all (${seconds.toFixed(2)} s)`,
  );
  if (hubs.length > 1) {
    console.log(
      `  the sender's hub published ${batches} NATS messages: ${
        (MESSAGES / batches).toFixed(1)
      } MIDI messages each, on average`,
    );
  }
  for (const [i, m] of mem.entries()) {
    console.log(
      `  hub ${i}: ${m.clients} clients, RSS ${
        (m.rss / 2 ** 20).toFixed(0)
      } MiB, heap ${(m.heapUsed / 2 ** 20).toFixed(1)} MiB`,
    );
  }
  return rate;
}

const nats = await natsServer();
try {
  const hubs = await Promise.all(
    ["a", "b", "c"].map((id) => new Hub(nats.url, id).start()),
  );
  await latency(nats.url, hubs[0], hubs[1]);
  await fanout(nats.url, hubs, CLIENTS);
  await Promise.all(hubs.map((hub) => hub.stop()));
  const one = await new Hub(nats.url, "alone").start();
  await fanout(nats.url, [one], 3 * CLIENTS);
  await one.stop();
} finally {
  await nats.stop();
}
