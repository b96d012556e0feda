// Copyright 2026 the midisock authors. MIT license.
/**
 * Where the round trip's tail comes from: interleaved raw and midisock
 * round trips in one process, with a `performance.now()` stamp at each
 * stage of a round trip, a histogram of the tail, and the garbage
 * collections that fall inside the slow round trips.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-run --allow-read=. bench/tail_probe.ts
 * ```
 *
 * It runs itself as a child process with `--v8-flags=--trace-gc,--expose-gc`
 * (and any `--v8=FLAGS` given, such as `--v8=--min-semi-space-size=16`),
 * reads the child's GC lines, and puts each slow round trip beside the
 * collections that ended within 1 ms of it (V8 stamps its lines in whole
 * ms). Flags: `--rounds=N` (round trips a run, default 20000),
 * `--runs=N` (interleaved pairs, default 4), `--stages` (stamp each stage
 * through a transport that wraps the connection: slower, for the
 * breakdown only).
 *
 * @module
 */

import {
  connect,
  type Message,
  message,
  PortServer,
  SocketPort,
  type Transport,
} from "../mod.ts";
import { flag } from "./_flags.ts";

const HOST = "127.0.0.1";

// --pause=MS: each timed round trip comes after MS of silence, as a note
// after a rest does (the warm-up is back to back).
const PAUSE = Number(flag("pause") ?? 0);
const ROUNDS = Number(flag("rounds") ?? (PAUSE ? 500 : 20_000));
const WARMUP = PAUSE ? 25_000 : Math.floor(ROUNDS / 4);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RUNS = Number(flag("runs") ?? 4);
const STAGES = flag("stages") !== undefined;
// --procs=2: the echoes in a child process (bench/_echo_server.ts).
const TWO = flag("procs") === "2";
const V8_CHILD = ["--trace-gc", ...(flag("v8") ?? "").split(",")].filter(
  Boolean,
).join(",");
// The part of the distribution that the stage breakdown looks into.
const SHOULDER = (flag("shoulder") ?? "0.97,0.995").split(",").map(Number);
const NOTE: Message = message("note_on", { note: 60, velocity: 100 });
const NOTE_BYTES = new Uint8Array([0x90, 60, 100]);

// Stage stamps of the current round trip (ms, performance.now()).
const S = {
  t0: 0,
  clientWrote: 0,
  serverRead: 0,
  serverGot: 0,
  serverWrote: 0,
  clientRead: 0,
  t1: 0,
};
type Stage = keyof typeof S;
const STAGE_NAMES = Object.keys(S) as Stage[];

/** The echo server's ports, with the echoes in another process. */
interface Remote {
  raw: number;
  echo: number;
  origin: number;
}

interface Run {
  kind: "raw" | "ours";
  // Per round trip: start, end, and each stage's stamp.
  stamps: Float64Array; // ROUNDS x STAGE_NAMES.length
}

function record(run: Run, i: number): void {
  if (i < 0) return;
  const base = i * STAGE_NAMES.length;
  for (let k = 0; k < STAGE_NAMES.length; k++) {
    run.stamps[base + k] = S[STAGE_NAMES[k]];
  }
}

/** A transport over a connection that stamps its reads and writes. */
function stamping(
  conn: Deno.TcpConn,
  read: Stage,
  wrote: Stage,
): Transport {
  conn.setNoDelay(true);
  return {
    readable: conn.readable,
    writable: conn.writable,
    localAddr: conn.localAddr,
    remoteAddr: conn.remoteAddr,
    async read(buf) {
      const n = await conn.read(buf).catch(() => null);
      S[read] = performance.now();
      return n;
    },
    async write(bytes) {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
      S[wrote] = performance.now();
    },
    async closeWrite() {
      await conn.closeWrite().catch(() => {});
    },
    close() {
      try {
        conn.close();
      } catch {
        // closed
      }
    },
  };
}

async function pair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: HOST, port: 0 });
  const [a, b] = await Promise.all([
    Deno.connect({ hostname: HOST, port: listener.addr.port }),
    listener.accept(),
  ]);
  a.setNoDelay(true);
  b.setNoDelay(true);
  return [a, b];
}

async function raw(remote?: Remote): Promise<Run> {
  const run: Run = {
    kind: "raw",
    stamps: new Float64Array(ROUNDS * STAGE_NAMES.length),
  };
  const [client, server] = remote
    ? [await Deno.connect({ hostname: HOST, port: remote.raw }), undefined]
    : await pair();
  client.setNoDelay(true);
  const echo = server && (async () => {
    const buf = new Uint8Array(2048);
    while (true) {
      const n = await server.read(buf);
      if (n === null) break;
      S.serverRead = S.serverGot = performance.now();
      let off = 0;
      while (off < n) off += await server.write(buf.subarray(off, n));
      S.serverWrote = performance.now();
    }
  })();
  const buf = new Uint8Array(2048);
  for (let i = -WARMUP; i < ROUNDS; i++) {
    if (PAUSE && i >= 0) await sleep(PAUSE);
    S.t0 = performance.now();
    let off = 0;
    while (off < 3) off += await client.write(NOTE_BYTES.subarray(off));
    S.clientWrote = performance.now();
    let got = 0;
    while (got < 3) {
      const n = await client.read(buf.subarray(got));
      if (n === null) throw new Error("raw echo ended");
      got += n;
    }
    S.clientRead = S.t1 = performance.now();
    record(run, i);
  }
  await client.closeWrite();
  await echo;
  client.close();
  server?.close();
  return run;
}

async function ours(remote?: Remote): Promise<Run> {
  const run: Run = {
    kind: "ours",
    stamps: new Float64Array(ROUNDS * STAGE_NAMES.length),
  };
  let client: SocketPort;
  let peer: SocketPort | undefined;
  let server: PortServer | undefined;
  if (remote) {
    client = await connect(HOST, remote.echo);
    peer = undefined;
  } else if (STAGES) {
    const [a, b] = await pair();
    client = new SocketPort(stamping(a, "clientRead", "clientWrote"));
    peer = new SocketPort(stamping(b, "serverRead", "serverWrote"));
  } else {
    server = new PortServer(HOST, 0);
    client = await connect(HOST, server.port);
    peer = await server.accept();
  }
  const echo = peer && (async () => {
    for await (const msg of peer) {
      S.serverGot = performance.now();
      await peer.send(msg);
    }
  })();
  for (let i = -WARMUP; i < ROUNDS; i++) {
    if (PAUSE && i >= 0) await sleep(PAUSE);
    S.t0 = performance.now();
    await client.send(NOTE);
    await client.receive();
    S.t1 = performance.now();
    record(run, i);
  }
  await client.close();
  await echo;
  await peer?.close();
  await server?.close();
  return run;
}

// ------------------------------------------------------------ the child

async function child(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  // Calibrate V8's clock (ms since the isolate started, in its GC lines)
  // against performance.now(): a gc() here prints a line stamped now.
  await new Promise((r) => setTimeout(r, 5));
  const before = performance.now();
  gc();
  const after = performance.now();
  console.error(`CAL ${before} ${after}`);
  let remote: Remote | undefined;
  let server: Deno.ChildProcess | undefined;
  let forwarding: Promise<void> | undefined;
  if (TWO) {
    // The echoes in a process of their own, with its GC lines passed on
    // (on stderr, on this process's clock) to the parent.
    server = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net=127.0.0.1",
        `--v8-flags=${V8_CHILD}`,
        new URL("./_echo_server.ts", import.meta.url).pathname,
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const lines = server.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    const ready = Promise.withResolvers<Remote>();
    forwarding = (async () => {
      let text = "";
      let origin = 0;
      while (true) {
        const { done, value } = await lines.read();
        if (done) break;
        text += value;
        let nl: number;
        while ((nl = text.indexOf("\n")) >= 0) {
          const line = text.slice(0, nl);
          text = text.slice(nl + 1);
          if (line.startsWith("{")) {
            const ports = JSON.parse(line);
            origin = ports.origin;
            ready.resolve(ports);
          } else if (line.startsWith("[")) {
            // Its V8 clock, moved onto this process's: the same offset
            // from performance.now() as here (calibrated below), and the
            // difference of the time origins.
            console.error(`SRV ${origin - performance.timeOrigin} ${line}`);
          }
        }
      }
    })();
    remote = await ready.promise;
  }
  const out: { kind: string; stamps: number[] }[] = [];
  for (let r = 0; r < RUNS; r++) {
    for (const f of [raw, ours]) {
      const run = await f(remote);
      out.push({ kind: run.kind, stamps: Array.from(run.stamps) });
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  console.error(`RUNS ${JSON.stringify(out)}`);
  if (server) {
    await server.stdin.close();
    await server.status;
    await forwarding;
  }
}

// ----------------------------------------------------------- the parent

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

const GC_LINE =
  /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: ((?:Incremental )?\S+) ([\d.]+) \([\d.]+\) -> ([\d.]+) .*?MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ [\d.]+ ms/;

/** A GC line's fields. */
function gcOf(m: RegExpMatchArray, shift = 0, server = false): Gc {
  return {
    end: Number(m[1]) + shift,
    what: m[2],
    before: Number(m[3]),
    after: Number(m[4]),
    ms: Number(m[5]),
    server,
  };
}

interface Gc {
  end: number; // ms on V8's clock
  ms: number; // pause
  what: string;
  before: number; // heap MB before it
  after: number; // and after
  server: boolean; // in the echo server's process
}

async function parent(): Promise<void> {
  const extra = (flag("v8") ?? "").split(",").filter(Boolean);
  const v8 = ["--trace-gc", "--expose-gc", ...extra].join(",");
  const passOn = Deno.args;
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      "--allow-run",
      "--allow-read=.",
      `--v8-flags=${v8}`,
      new URL(import.meta.url).pathname,
      "--child",
      ...passOn,
    ],
    stdout: "piped",
    stderr: "piped",
  });
  const { stdout, stderr, success } = await cmd.output();
  const err = new TextDecoder().decode(stderr);
  if (!success) throw new Error(`child failed: ${err}`);
  const lines = new TextDecoder().decode(stdout).split("\n");
  const gcs: Gc[] = [];
  let cal = 0;
  let runs: { kind: string; stamps: number[] }[] = [];
  let calGc: number | undefined;
  const srvLines: [number, string][] = [];
  for (const line of err.split("\n")) {
    if (line.startsWith("SRV ")) {
      const sp = line.indexOf(" ", 4);
      srvLines.push([Number(line.slice(4, sp)), line.slice(sp + 1)]);
    } else if (line.startsWith("CAL ")) {
      const [, a, b] = line.split(" ").map(Number);
      cal = (a + b) / 2;
    } else if (line.startsWith("RUNS ")) {
      runs = JSON.parse(line.slice(5));
    }
  }
  for (const line of lines) {
    const m = line.match(GC_LINE);
    if (m) {
      const g = gcOf(m);
      // The calibration: the first full collection, which gc() asked for
      // ("testing").
      if (calGc === undefined && /testing/.test(line)) calGc = g.end;
      gcs.push(g);
    }
  }
  // V8 ms = performance.now() + offset (to within 1 ms).
  const offset = (calGc ?? 0) - cal;
  // The echo server's collections, on this clock (V8 ms, as if here).
  for (const [shift, line] of srvLines) {
    const m = line.match(GC_LINE);
    if (m) {
      gcs.push(gcOf(m, shift, true));
    }
  }
  const where = TWO
    ? "two processes (echoes in _echo_server.ts)"
    : "one process";
  console.log(
    `tail_probe: ${ROUNDS} round trips a run, ${RUNS} interleaved pairs, ` +
      `${where}${STAGES ? ", stages stamped" : ""}; V8 flags ${v8}`,
  );
  console.log(
    `GC clock offset ${offset.toFixed(1)} ms; ${gcs.length} collections in all`,
  );
  const n = STAGE_NAMES.length;
  const perKind: Record<string, number[][]> = { raw: [], ours: [] };
  const summary: string[] = [];
  const allocs: string[] = [];
  for (const run of runs) {
    const st = run.stamps;
    const rt: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      rt.push((st[i * n + 6] - st[i * n]) * 1000);
    }
    perKind[run.kind].push(rt);
    const sorted = [...rt].sort((a, b) => a - b);
    const p50 = pct(sorted, 0.5);
    const p99 = pct(sorted, 0.99);
    const p999 = pct(sorted, 0.999);
    // GCs inside the run's time span.
    const start = st[0] + offset;
    const end = st[(ROUNDS - 1) * n + 6] + offset;
    const inRun = gcs.filter((g) => g.end >= start && g.end <= end + 1);
    // The slow ones: above p99. Those with a GC ending within 1 ms after.
    const slow: number[] = [];
    for (let i = 0; i < ROUNDS; i++) if (rt[i] >= p99) slow.push(i);
    let withGc = 0;
    let gcMs = 0;
    for (const i of slow) {
      const a = st[i * n] + offset;
      const b = st[i * n + 6] + offset;
      if (inRun.some((g) => g.end >= Math.floor(a) && g.end <= b + 1)) {
        withGc++;
      }
    }
    for (const g of inRun) gcMs += g.ms;
    // Bytes allocated in the run, per process: what each scavenge found
    // (its "before") less what the one before it left ("after").
    const alloc = (server: boolean) => {
      const mine = gcs.filter((g) => g.server === server);
      let mb = 0;
      let n = 0;
      for (let i = 1; i < mine.length; i++) {
        const g = mine[i];
        if (g.end < start || g.end > end + 1 || g.what !== "Scavenge") continue;
        if (mine[i - 1].end < start) continue; // need the one before in run
        mb += g.before - mine[i - 1].after;
        n++;
      }
      // Over the time between the first and last scavenge counted.
      const counted = mine.filter((g) =>
        g.end >= start && g.end <= end + 1 && g.what === "Scavenge"
      );
      if (n === 0 || counted.length < 2) return "n/a";
      const span = counted.at(-1)!.end - counted[0].end;
      const trips = span / ((end - start) / ROUNDS);
      return `${(mb * 1024 * 1024 / trips / 1024).toFixed(1)} KB`;
    };
    allocs.push(
      `${run.kind.padEnd(4)} allocated a round trip: ${alloc(false)}` +
        (TWO ? ` in the client's process, ${alloc(true)} in the echo's` : ""),
    );
    summary.push(
      `${run.kind.padEnd(4)} p50 ${p50.toFixed(1).padStart(6)} µs  p90 ${
        pct(sorted, 0.9).toFixed(1)
      }  p95 ${pct(sorted, 0.95).toFixed(1)}  p98 ${
        pct(sorted, 0.98).toFixed(1)
      }  p99 ${p99.toFixed(1).padStart(6)}  p99.9 ${
        p999.toFixed(1).padStart(7)
      }  max ${
        sorted.at(-1)!.toFixed(0).padStart(6)
      }  | GCs in run: ${inRun.length} (${
        inRun.filter((g) => g.what === "Scavenge").length
      } scavenges, ${
        inRun.filter((g) => g.server).length
      } in the echo process, ${gcMs.toFixed(2)} ms, mean ${
        inRun.length ? (gcMs / inRun.length * 1000).toFixed(0) : "-"
      } µs); slow (>= p99) ${slow.length}, with a GC in reach: ${withGc}`,
    );
  }
  for (const s of summary) console.log(s);
  if (flag("gaps") !== undefined) {
    // How far apart the slow round trips (over 1.4x the median) are: a
    // cause that comes every n round trips shows as a peak at n.
    for (const run of runs) {
      const st = run.stamps;
      const rt: number[] = [];
      for (let i = 0; i < ROUNDS; i++) rt.push(st[i * n + 6] - st[i * n]);
      const cut = pct([...rt].sort((a, b) => a - b), 0.5) * 1.4;
      const gaps = new Map<number, number>();
      let last = -1;
      let slow = 0;
      for (let i = 0; i < ROUNDS; i++) {
        if (rt[i] <= cut) continue;
        slow++;
        if (last >= 0) gaps.set(i - last, (gaps.get(i - last) ?? 0) + 1);
        last = i;
      }
      // And in time: the gaps between their starts, to 0.05 ms.
      const times = new Map<number, number>();
      let lastT = -1;
      for (let i = 0; i < ROUNDS; i++) {
        if (rt[i] <= cut) continue;
        const t = st[i * n];
        if (lastT >= 0) {
          const g = Math.round((t - lastT) * 20) / 20;
          times.set(g, (times.get(g) ?? 0) + 1);
        }
        lastT = t;
      }
      const topT = [...times].sort((a, b) => b[1] - a[1]).slice(0, 6);
      console.log(
        `${run.kind} time gaps (ms): ` +
          topT.map(([g, c]) => `${g.toFixed(2)}x${c}`).join(" "),
      );
      const top = [...gaps].sort((a, b) => b[1] - a[1]).slice(0, 8);
      console.log(
        `${run.kind} slow ${slow}: commonest gaps ` +
          top.map(([g, c]) => `${g}x${c}`).join(" "),
      );
    }
  }
  for (const s of allocs) console.log(s);

  // Histogram of the pooled tail, per kind, in µs buckets.
  const edges = [0, 10, 12, 14, 16, 20, 25, 30, 40, 60, 100, 200, 500, 1e9];
  console.log("\nHistogram of all round trips (count per bucket, pooled):");
  console.log(
    "bucket µs".padEnd(12) + "raw".padStart(9) + "ours".padStart(9),
  );
  const counts: Record<string, number[]> = {};
  for (const kind of ["raw", "ours"]) {
    counts[kind] = new Array(edges.length - 1).fill(0);
    for (const rt of perKind[kind]) {
      for (const x of rt) {
        let b = 0;
        while (x >= edges[b + 1]) b++;
        counts[kind][b]++;
      }
    }
  }
  for (let b = 0; b < edges.length - 1; b++) {
    const label = edges[b + 1] >= 1e9
      ? `>= ${edges[b]}`
      : `${edges[b]}-${edges[b + 1]}`;
    console.log(
      label.padEnd(12) + String(counts.raw[b]).padStart(9) +
        String(counts.ours[b]).padStart(9),
    );
  }

  // Stage breakdown: median of each stage for all, and for the slowest 1%.
  console.log(
    `\nStage durations, µs (median over all | median (mean) over p${
      SHOULDER[0] * 100
    }..p${SHOULDER[1] * 100}):`,
  );
  for (const kind of ["raw", "ours"]) {
    const all: number[][] = STAGE_NAMES.slice(1).map(() => []);
    const slow: number[][] = STAGE_NAMES.slice(1).map(() => []);
    for (const run of runs.filter((r) => r.kind === kind)) {
      const st = run.stamps;
      const rt: number[] = [];
      for (let i = 0; i < ROUNDS; i++) rt.push(st[i * n + 6] - st[i * n]);
      const sortedRt = [...rt].sort((a, b) => a - b);
      const lo = pct(sortedRt, SHOULDER[0]);
      const hi = pct(sortedRt, SHOULDER[1]);
      for (let i = 0; i < ROUNDS; i++) {
        // Stages in the order they happen; a stage with no stamp is 0.
        let prev = st[i * n];
        for (let k = 1; k < n; k++) {
          const t = st[i * n + k];
          const d = t && t >= prev ? (t - prev) * 1000 : 0;
          if (t && t >= prev) prev = t;
          all[k - 1].push(d);
          if (rt[i] >= lo && rt[i] <= hi) slow[k - 1].push(d);
        }
      }
    }
    const med = (xs: number[]) =>
      xs.length ? pct([...xs].sort((a, b) => a - b), 0.5) : 0;
    const mean = (xs: number[]) =>
      xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
    console.log(
      `${kind}: ` +
        STAGE_NAMES.slice(1).map((s, k) =>
          `${s} ${med(all[k]).toFixed(1)}|${med(slow[k]).toFixed(1)} (mean ${
            mean(slow[k]).toFixed(1)
          })`
        ).join("  "),
    );
  }
}

if (Deno.args.includes("--child")) await child();
else await parent();
