// Copyright 2026 the midisock authors. MIT license.
/**
 * The round trip that `midisock ping` measures, beside a raw TCP echo, in
 * the same run: each server in a child process of its own (`midisock serve
 * --relay`, and `bench/_raw_echo_server.ts` on a bare Deno.Conn), each client
 * here, one round trip after another. midisock's is an echo request (a
 * 10-byte sysex) through the server's parser and its answer through the
 * client's; the raw one is 10 bytes written and read back. Then `midisock
 * ping` itself, as a user runs it.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read --allow-run bench/ping_bench.ts
 * ```
 *
 * Each is measured back to back (`--rounds=N`, default 3000), then paced,
 * one each 5 ms (1000), as ping paces them: a process that sleeps between
 * round trips wakes up more slowly than one that never sleeps.
 *
 * @module
 */

import { connect, EchoRoundTrip } from "../mod.ts";
import { waitUntil } from "../src/util/wait_until.ts";

const ROUNDS = Number(
  Deno.args.find((a) => a.startsWith("--rounds="))?.slice(9) ?? 3000,
);
const PACED = 1000;
const PACED_MS = 5;
const never = new AbortController().signal;
const CLI = new URL("../src/cli/main.ts", import.meta.url).pathname;
const ECHO = new URL("_raw_echo_server.ts", import.meta.url).pathname;

/** A child process, and the first line of its stdout or stderr that matches. */
async function start(
  args: string[],
  stream: "stdout" | "stderr",
  pattern: RegExp,
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child[stream].pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${args.join(" ")} ended: ${text}`);
    text += value;
    const match = text.match(pattern);
    if (match) {
      // The rest of both streams is read and dropped, until the end.
      const other = stream === "stdout" ? child.stderr : child.stdout;
      const drained = Promise.all([
        (async () => {
          while (!(await reader.read()).done) { /* dropped */ }
        })(),
        other.pipeTo(new WritableStream()),
      ]);
      return { child, port: Number(match[1]), drained };
    }
  }
}

function figures(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  const ms = (v: number) => v.toFixed(3).padStart(6);
  return `p50 ${ms(rank(0.5))} ms  p99 ${ms(rank(0.99))} ms  max ${
    ms(sorted[sorted.length - 1])
  } ms`;
}

const serve = await start(
  [CLI, "serve", "--relay", "--quiet", "127.0.0.1:0"],
  "stderr",
  /listening on 127\.0\.0\.1:(\d+)/,
);
const raw = await start([ECHO], "stdout", /^port (\d+)/);
const rows: [string, string][] = [];
try {
  // Raw: 10 bytes there and back on a bare Deno.Conn.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: raw.port });
  conn.setNoDelay(true);
  const out = new Uint8Array(10).fill(0x55);
  const back = new Uint8Array(10);
  const rawTrip = async () => {
    const t = performance.now();
    await conn.write(out);
    let got = 0;
    while (got < 10) {
      const n = await conn.read(back.subarray(got));
      if (n === null) throw new Error("the echo server went");
      got += n;
    }
    return performance.now() - t;
  };
  // midisock: the echo, through connect() and EchoRoundTrip.
  const echo = new EchoRoundTrip(
    await connect("127.0.0.1", serve.port, { echo: true }),
  );
  const echoTrip = () => echo.rtt();
  for (const interval of [0, PACED_MS]) {
    const rounds = interval === 0 ? ROUNDS : PACED;
    const pace = interval === 0 ? "back to back" : `one each ${interval} ms`;
    for (
      const [what, trip] of [["raw TCP echo", rawTrip], [
        "midisock echo",
        echoTrip,
      ]] as const
    ) {
      const samples: number[] = [];
      const start = performance.now();
      for (let i = 0; i < rounds; i++) {
        if (interval > 0) await waitUntil(start + i * interval, never);
        samples.push(await trip());
      }
      rows.push([`${what}, ${rounds} ${pace}`, figures(samples)]);
    }
  }
  conn.close();
  await echo.close();

  const ping = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      CLI,
      "ping",
      "--count",
      "200",
      "--interval",
      "5",
      `127.0.0.1:${serve.port}`,
    ],
    stderr: "inherit",
  }).output();
  rows.push([
    "midisock ping --count 200 --interval 5",
    new TextDecoder().decode(ping.stdout).trim(),
  ]);
} finally {
  for (const { child, drained } of [serve, raw]) {
    child.kill("SIGTERM");
    await child.status;
    await drained;
  }
}
console.log(
  "Round trips on loopback TCP (raw: 10 bytes; midisock: a 10-byte echo sysex)",
);
for (const [what, figure] of rows) console.log(`${what.padEnd(44)} ${figure}`);
