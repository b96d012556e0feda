// Copyright 2026 the midisock authors. MIT license.
/**
 * RTP-MIDI round trips over loopback, and the recovery journal's bytes:
 *
 * ```sh
 * deno run --allow-net=127.0.0.1,0.0.0.0 --allow-read --allow-run=node bench/rtp_bench.ts [--runs=2000]
 * ```
 *
 * In the same run, one note at a time, sent and echoed back:
 * - raw: a node:dgram socket to another that echoes it (the platform's
 *   floor: what Deno's UDP costs, with nothing of MIDI);
 * - midisock: notes on and off, from a `SocketPort` over `connectRtp()` to a
 *   `SocketPort` over an
 *   `RtpListener`'s session that sends back what it receives (the
 *   session, the RTP-MIDI payload with its journal, the port's parser and
 *   queues, both ways);
 * - node-rtpmidi: npm rtpmidi@1.0.0 to itself, under node
 *   (bench/_rtpmidi_pair.cjs), if .cache/node-rtpmidi has it.
 *
 * Then the journal's cost: the bytes of a packet with a journal, against
 * none, for a played stream (notes, the pedal, controllers, the pitch wheel
 * on 4 channels, one message a packet), with the receiver's feedback (RS)
 * once every 100 packets, as a peer's once a second at 100 packets a second.
 *
 * @module
 */

import dgram from "node:dgram";
import { message, SocketPort } from "../mod.ts";
import { connectRtp, RtpListener, type RtpSession } from "../rtp.ts";
import { RtpMidiSender } from "../src/transport/rtp/rtp_midi.ts";
import { numberFlag } from "./_flags.ts";

const RUNS = numberFlag("runs", 2000);
const WARMUP = 200;

function stats(ms: number[]): { p50: number; p99: number; mean: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    p50: at(0.5),
    p99: at(0.99),
    mean: ms.reduce((a, b) => a + b, 0) / ms.length,
  };
}

function bind(port = 0): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket("udp4");
    s.once("error", reject);
    s.bind(port, "127.0.0.1", () => resolve(s));
  });
}

/** A round trip, set up once and timed many times. */
interface Echo {
  /** One round trip, in ms. */
  once(i: number): Promise<number>;
  close(): Promise<void>;
}

/** The raw echo: a 3-byte datagram there and back. */
async function raw(): Promise<Echo> {
  const echo = await bind();
  const client = await bind();
  echo.on(
    "message",
    (m: Uint8Array, from: dgram.RemoteInfo) =>
      echo.send(m, from.port, from.address),
  );
  const note = new Uint8Array([0x90, 60, 100]);
  let next: () => void = () => {};
  client.on("message", () => next());
  return {
    async once() {
      const t = performance.now();
      await new Promise<void>((resolve) => {
        next = resolve;
        client.send(note, echo.address().port, "127.0.0.1");
      });
      return performance.now() - t;
    },
    close() {
      echo.close();
      client.close();
      return Promise.resolve();
    },
  };
}

/** midisock RTP <-> midisock RTP: ports at both ends, the far one echoing. */
async function midisock(
  journal: boolean,
): Promise<Echo & { session: RtpSession }> {
  const joined = Promise.withResolvers<RtpSession>();
  const listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0, journal },
    (s) => joined.resolve(s),
  );
  const session = await connectRtp("127.0.0.1", listener.port, { journal });
  const a = new SocketPort(session);
  const b = new SocketPort(await joined.promise);
  const echoing = (async () => {
    for await (const m of b) await b.send(m);
  })();
  return {
    session,
    async once(i) {
      const t = performance.now();
      // A note on, then off: what a player sends.
      await a.send(
        message(i % 2 ? "note_off" : "note_on", {
          note: 60 + (i >> 1) % 24,
          velocity: 100,
        }),
      );
      await a.receive();
      return performance.now() - t;
    },
    async close() {
      await a.close();
      await b.close();
      await echoing;
      await listener.close();
    },
  };
}

/** node-rtpmidi <-> node-rtpmidi, under node; undefined if it is missing. */
async function nodeRtpmidi(): Promise<number[] | string> {
  const modules =
    new URL("../.cache/node-rtpmidi/node_modules", import.meta.url).pathname;
  try {
    Deno.statSync(`${modules}/rtpmidi/package.json`);
  } catch {
    return "missing: npm install --prefix .cache/node-rtpmidi rtpmidi@1.0.0";
  }
  // Three ports in a row, the first even.
  let port = 0;
  for (let i = 0; i < 50 && port === 0; i++) {
    const p = 20000 + 2 * Math.floor(Math.random() * 20000);
    const socks = await Promise.all(
      [p, p + 1, p + 2, p + 3].map((q) => bind(q).catch(() => undefined)),
    );
    for (const s of socks) s?.close();
    if (socks.every((s) => s)) port = p;
  }
  const script = new URL("./_rtpmidi_pair.cjs", import.meta.url).pathname;
  const { stdout } = await new Deno.Command("node", {
    args: [script, modules, String(port), String(RUNS), String(WARMUP)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const result = JSON.parse(
    new TextDecoder().decode(stdout).trim().split("\n").pop()!,
  );
  return result.rtt ?? String(result.error);
}

/** Bytes per packet for a played stream, with and without a journal. */
function journalBytes(
  journal: boolean,
): { perPacket: number; journalPerPacket: number } {
  const sender = new RtpMidiSender({ ssrc: 1, journal, seq: 0 });
  const N = 10_000;
  let state = 12345;
  const rand = (n: number) => (state = (state * 1103515245 + 12345) >>> 0) % n;
  const held: [number, number][] = [];
  for (let i = 0; i < N; i++) {
    const channel = rand(4);
    let m: Uint8Array;
    const r = rand(10);
    if (r < 4 && held.length < 10) {
      const note = 36 + rand(48);
      held.push([channel, note]);
      m = new Uint8Array([0x90 | channel, note, 1 + rand(127)]);
    } else if (r < 8 && held.length > 0) {
      const [c, note] = held.splice(rand(held.length), 1)[0];
      m = new Uint8Array([0x80 | c, note, 0]);
    } else if (r === 8) {
      m = new Uint8Array([
        0xb0 | channel,
        rand(2) ? 64 : 1 + rand(10),
        rand(2) ? 127 : 0,
      ]);
    } else {
      m = new Uint8Array([0xe0 | channel, rand(128), rand(128)]);
    }
    const [p] = sender.packets([m], i * 100);
    if (i % 100 === 99) sender.acknowledge(i - 5); // RS, a little behind
    void p;
  }
  const s = sender.stats;
  return {
    perPacket: s.bytes / s.packets,
    journalPerPacket: s.journalBytes / s.packets,
  };
}

const f = (n: number) => n.toFixed(3);
// The three in turns, in rounds, so that a busy moment of the machine
// weighs on each alike.
const ours = await midisock(true);
const setups = [await raw(), ours, await midisock(false)];
const times: number[][] = [[], [], []];
const ROUNDS = 4;
for (let round = 0; round < ROUNDS; round++) {
  for (const [k, setup] of setups.entries()) {
    for (let i = 0; i < (RUNS + WARMUP) / ROUNDS; i++) {
      const ms = await setup.once(i);
      if (round > 0 || i >= WARMUP) times[k].push(ms);
    }
  }
}
for (const setup of setups) await setup.close();
const rawRtt = stats(times[0]);
const oursRtt = stats(times[1]);
const bare = stats(times[2]);
const node = await nodeRtpmidi();
console.log(
  `RTP-MIDI round trip over loopback, one note at a time, ${
    times[0].length
  } runs each in ${ROUNDS} rounds, node-rtpmidi ${RUNS} (ms):`,
);
console.log(
  `  raw node:dgram echo           p50 ${f(rawRtt.p50)}  p99 ${
    f(rawRtt.p99)
  }  mean ${f(rawRtt.mean)}`,
);
console.log(
  `  midisock RTP <-> midisock RTP p50 ${f(oursRtt.p50)}  p99 ${
    f(oursRtt.p99)
  }  mean ${f(oursRtt.mean)}  (${(oursRtt.p50 / rawRtt.p50).toFixed(2)}x raw)`,
);
console.log(
  `    with no journal             p50 ${f(bare.p50)}  p99 ${
    f(bare.p99)
  }  mean ${f(bare.mean)}  (${(bare.p50 / rawRtt.p50).toFixed(2)}x raw)`,
);
if (typeof node === "string") {
  console.log(`  node-rtpmidi <-> node-rtpmidi ${node}`);
} else {
  const n = stats(node);
  console.log(
    `  node-rtpmidi <-> node-rtpmidi p50 ${f(n.p50)}  p99 ${f(n.p99)}  mean ${
      f(n.mean)
    }  (${(n.p50 / rawRtt.p50).toFixed(2)}x raw)`,
  );
}
const withJ = journalBytes(true);
const noJ = journalBytes(false);
console.log(
  `Journal overhead, a played stream on 4 channels, RS every 100 packets:`,
);
console.log(
  `  bytes a packet with a journal ${withJ.perPacket.toFixed(1)} (journal ${
    withJ.journalPerPacket.toFixed(1)
  })`,
);
console.log(`  bytes a packet with none      ${noJ.perPacket.toFixed(1)}`);
const s = ours.session.stats;
console.log(
  `  in the round trips above: ${
    (s.bytesSent / s.packetsSent).toFixed(1)
  } bytes a packet, ${
    (s.journalBytes / s.packetsSent).toFixed(1)
  } of journal (RS trims it once a second)`,
);
