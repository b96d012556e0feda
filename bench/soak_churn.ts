// Copyright 2026 the midisock authors. MIT license.
/**
 * Clients that come and go, against a relay server in a process of its own
 * (`bench/_churn_server.ts`, a `relay: true` PortServer with a reader), with
 * the clients in this one: the figures of issue 19, which anyone can rerun.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read=. --allow-run bench/soak_churn.ts
 * ```
 *
 * - one-shot clients: 4 clients stream control changes through the relay
 *   (and read what it relays to them), while 200 clients, one after
 *   another, each connect, send one note_on and close at once, as mido's
 *   one-shot clients do (a raw socket: connect, write, close). It prints
 *   how many of the 200 notes the server's reader got.
 * - sequential churn: 5000 such clients in a row, one connection at a
 *   time, against a fresh relay with nobody else on it. It prints how many
 *   notes the server's reader got, and how many clients it turned away.
 *
 * Flags: `--oneshots=N` (default 200) and `--churn=N` (default 5000). Each
 * phase waits at most 30 s for the server to have let every client go; the
 * counts are what the server reports then. The seconds are the clients'
 * and the server's, and include the connects that found the server's
 * backlog (512 connections) full, when the clients run ahead of it: the
 * system dials again after a second.
 *
 * @module
 */

import { connect, message, type SocketPort } from "../mod.ts";
import { numberFlag } from "./_flags.ts";

const HOST = "127.0.0.1";
const SETTLE_MS = 30_000;

const ONESHOTS = numberFlag("oneshots", 200);
const CHURN = numberFlag("churn", 5000);
const STREAMERS = 4;

interface Report {
  read: Record<string, number>;
  disconnects: number;
  stats: {
    clients: number;
    accepted: number;
    rejected: number;
    lostMessages?: number; // not on the servers before issue 19
  };
}

/** A relay server in a child process, and a way to ask for its counts. */
class ServerProcess implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #lines: ReadableStreamDefaultReader<string>;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #buffer = "";

  constructor() {
    const script = new URL("./_churn_server.ts", import.meta.url).pathname;
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net=127.0.0.1", script],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    this.#writer = this.#child.stdin.getWriter();
  }

  async line(): Promise<string> {
    while (!this.#buffer.includes("\n")) {
      const { done, value } = await this.#lines.read();
      if (done) throw new Error("The server process ended");
      this.#buffer += value;
    }
    const nl = this.#buffer.indexOf("\n");
    const line = this.#buffer.slice(0, nl);
    this.#buffer = this.#buffer.slice(nl + 1);
    return line;
  }

  async port(): Promise<number> {
    return JSON.parse(await this.line()).port;
  }

  async report(): Promise<Report> {
    await this.#writer.write(new TextEncoder().encode("\n"));
    return JSON.parse(await this.line());
  }

  // Asks until the server holds `clients` clients and has let every other
  // one go (or SETTLE_MS pass), and its notes read and disconnects stay the
  // same twice.
  async settled(clients: number, total: number): Promise<Report> {
    const deadline = Date.now() + SETTLE_MS;
    let last = "";
    while (true) {
      const report = await this.report();
      const { stats } = report;
      const done = stats.clients === clients &&
        stats.accepted + stats.rejected >= total &&
        report.disconnects === stats.accepted - clients;
      const now = JSON.stringify([report.read.note_on, report.disconnects]);
      if ((done && now === last) || Date.now() > deadline) return report;
      last = now;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#writer.close().catch(() => {});
    await this.#child.status;
    this.#lines.releaseLock();
    await this.#child.stdout.cancel().catch(() => {});
  }
}

// Connects that took 500 ms or more: the listener's backlog was full, and
// the system dialed again (after a second).
let stalls = 0;

/** Connects, sends a note_on and closes at once, as mido's client does. */
async function oneShot(port: number, i: number): Promise<void> {
  const start = performance.now();
  const conn = await Deno.connect({ hostname: HOST, port });
  if (performance.now() - start >= 500) stalls++;
  try {
    await conn.write(new Uint8Array([0x90 | (i >> 7 & 0x0f), i & 0x7f, 100]));
  } finally {
    conn.close();
  }
}

function extra(report: Report, seconds: number): string {
  const lost = report.stats.lostMessages;
  const counted = lost === undefined
    ? "no lost-message count"
    : `counted lost: ${lost}`;
  const waited = stalls === 1 ? "1 connect" : `${stalls} connects`;
  stalls = 0;
  return `  (${seconds.toFixed(1)} s, ${waited} waited a second for a full ` +
    `backlog; ${counted}; accepted ${report.stats.accepted})`;
}

async function oneShots(): Promise<void> {
  await using server = new ServerProcess();
  const port = await server.port();
  const streamers: SocketPort[] = [];
  for (let i = 0; i < STREAMERS; i++) {
    streamers.push(await connect(HOST, port));
  }
  let streaming = true;
  let relayedNotes = 0;
  // Each reads what the relay sends it (the other streamers' messages and
  // the one-shots'), and sends 20 control changes a millisecond or so.
  const reading = streamers.map(async (client, s) => {
    for await (const msg of client) {
      if (s === 0 && msg.type === "note_on") relayedNotes++;
    }
  });
  const sending = streamers.map(async (client, s) => {
    while (streaming) {
      for (let k = 0; k < 20; k++) {
        await client.send(
          message("control_change", { channel: s, control: 1, value: k }),
        );
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  });
  const t0 = performance.now();
  for (let i = 0; i < ONESHOTS; i++) await oneShot(port, i);
  const report = await server.settled(STREAMERS, STREAMERS + ONESHOTS);
  const seconds = (performance.now() - t0) / 1000;
  streaming = false;
  await Promise.all(sending);
  await Promise.all(streamers.map((client) => client.close()));
  await Promise.all(reading);
  console.log(
    `one-shot clients delivered: ${report.read.note_on ?? 0} of ${ONESHOTS}`,
  );
  console.log(
    `${extra(report, seconds)}; relayed to a streamer: ${relayedNotes}`,
  );
}

async function churn(): Promise<void> {
  await using server = new ServerProcess();
  const port = await server.port();
  const t0 = performance.now();
  for (let i = 0; i < CHURN; i++) await oneShot(port, i);
  const report = await server.settled(0, CHURN);
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `sequential churn delivered: ${
      report.read.note_on ?? 0
    } of ${CHURN}, rejects: ${report.stats.rejected}`,
  );
  console.log(extra(report, seconds));
}

await oneShots();
await churn();
