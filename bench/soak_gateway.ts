// Copyright 2026 the midisock authors. MIT license.
// A flood of idle connections against the browser gateway (issue 19):
//
//   deno run --allow-run=sh --allow-net=127.0.0.1 bench/soak_gateway.ts [--limit=256] [--connections=1000] [--hold=2000] [--rounds=3]
//
// It runs `midisock serve --relay --web` in a process of its own under
// `ulimit -n LIMIT` (with --allow-all, so that serve can read its limit),
// with two TCP clients on the bus. Each round opens CONNECTIONS idle TCP
// connections to the web port (more than the limit), holds them for HOLD
// ms while one client sends a note to the other through the bus, then
// closes them, and times how long the page then takes to load and a
// WebSocket to open. It prints, for each round, how many connections
// opened, how many the server closed during the flood (over its bound),
// whether the bus relayed and how fast, and the page's time; then whether
// the server survived (it is still running, and exits 0 on SIGTERM).
// Before the fix, Deno.serve's accept loop died at about LIMIT connections,
// and the process with it (exit status 1).

import { connect, message } from "../mod.ts";

const arg = (name: string, fallback: number) =>
  Number(
    Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ??
      fallback,
  );
const LIMIT = arg("limit", 256);
const CONNECTIONS = arg("connections", 1000);
const HOLD = arg("hold", 2000);
const ROUNDS = arg("rounds", 3);
const CLI = new URL("../src/cli/main.ts", import.meta.url).pathname;

/** The server, in a process of its own, and its output as it comes. */
const child = new Deno.Command("sh", {
  args: [
    "-c",
    `ulimit -n ${LIMIT} && exec "$0" "$@"`,
    Deno.execPath(),
    "run",
    "--allow-all",
    CLI,
    "serve",
    "--relay",
    "--web",
    "0",
    "127.0.0.1:0",
  ],
  env: { NO_COLOR: "1" },
  stdout: "piped",
  stderr: "piped",
}).spawn();
const output = { stdout: [] as string[], stderr: [] as string[] };
let exited: Deno.CommandStatus | undefined;
const status = child.status.then((s) => exited = s);
const reading = Promise.all(
  (["stdout", "stderr"] as const).map(async (name) => {
    let partial = "";
    for await (
      const text of child[name].pipeThrough(new TextDecoderStream())
    ) {
      const lines = (partial + text).split("\n");
      partial = lines.pop()!;
      output[name].push(...lines);
    }
  }),
);

/** Waits for a line of stderr that matches, for 10 s at most. */
async function line(pattern: RegExp): Promise<RegExpMatchArray> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    for (const l of output.stderr) {
      const match = l.match(pattern);
      if (match) return match;
    }
    if (exited) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`No ${pattern} from serve: ${output.stderr.join("\n")}`);
}

/** Resolves with `promise`, or undefined after `ms`. */
async function within<T>(
  promise: Promise<T>,
  ms: number,
): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const [, tcpPort] = await line(/^midisock: listening on 127\.0\.0\.1:(\d+)$/);
const [, url, webPort] = await line(
  /^midisock: web page at (http:\/\/127\.0\.0\.1:(\d+)\/)$/,
);
console.log(
  `soak: midisock serve --relay --web under ulimit -n ${LIMIT}: ${ROUNDS} rounds of ${CONNECTIONS} idle connections to the web port, held ${HOLD} ms`,
);
const keys = await connect("127.0.0.1", Number(tcpPort));
const synth = await connect("127.0.0.1", Number(tcpPort));

/** How long a note takes from keys to synth through the bus, or undefined. */
async function relay(note: number): Promise<number | undefined> {
  const start = performance.now();
  await keys.send(message("note_on", { note })).catch(() => {});
  const got = await within(synth.receive().catch(() => undefined), 2000);
  return got ? performance.now() - start : undefined;
}

/** How long the page takes to load, retried for 10 s; undefined if never. */
async function pageTime(): Promise<number | undefined> {
  const start = performance.now();
  while (performance.now() - start < 10_000) {
    try {
      const page = await fetch(url);
      const text = await page.text();
      if (page.status === 200 && text.includes("<title>midisock</title>")) {
        return performance.now() - start;
      }
    } catch {
      // Not yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}

/** How long a WebSocket takes to open, or undefined within 5 s. */
async function socketTime(): Promise<number | undefined> {
  const start = performance.now();
  const ws = new WebSocket(`ws://127.0.0.1:${webPort}/ws`);
  const opened = await within(
    new Promise<boolean>((resolve) => {
      ws.onopen = () => resolve(true);
      ws.onerror = () => resolve(false);
    }),
    5000,
  );
  const ms = performance.now() - start;
  const closed = new Promise((r) => ws.onclose = r);
  ws.close();
  await within(closed, 2000);
  return opened ? ms : undefined;
}

const ms = (t: number | undefined) =>
  t === undefined ? "never" : `${t.toFixed(1)} ms`;
let survived = true;
for (let round = 1; round <= ROUNDS && !exited; round++) {
  const conns: Deno.TcpConn[] = [];
  let refused = 0;
  let closedByServer = 0;
  const reads: Promise<void>[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    try {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: Number(webPort),
      });
      conns.push(conn);
      reads.push((async () => {
        try {
          if (await conn.read(new Uint8Array(16)) === null) closedByServer++;
        } catch {
          // Closed here.
        }
      })());
    } catch {
      refused++;
    }
  }
  const relayed = await relay(60 + round);
  await new Promise((r) => setTimeout(r, HOLD));
  const alive = exited === undefined;
  const closedDuring = closedByServer;
  for (const conn of conns) {
    try {
      conn.close();
    } catch {
      // Closed.
    }
  }
  await Promise.all(reads);
  const page = alive ? await pageTime() : undefined;
  const socket = page !== undefined ? await socketTime() : undefined;
  console.log(
    `round ${round}: ${conns.length} opened, ${refused} refused; the server closed ${closedDuring} during the flood; bus ${
      relayed === undefined ? "did not relay" : `relayed in ${ms(relayed)}`
    }; ${alive ? "alive" : "DEAD"}`,
  );
  console.log(
    `  after the flood: page in ${ms(page)}, WebSocket open in ${ms(socket)}`,
  );
  survived &&= alive && relayed !== undefined && page !== undefined &&
    socket !== undefined;
}

await keys.close();
await synth.close();
if (!exited) child.kill("SIGTERM");
const end = await within(status, 10_000);
if (!end) child.kill("SIGKILL");
await status;
await reading;
const rejects =
  output.stdout.filter((l) => / over maxHttpConnections /.test(l)).length;
const others = output.stdout.filter((l) =>
  l.startsWith("# reject") && !/ over maxHttpConnections /.test(l)
);
const acceptErrors =
  output.stdout.filter((l) => l.startsWith("# accepterror")).length;
console.log(
  `survived: ${
    survived && exited?.code === 0 ? "yes" : "no"
  } (exit status ${exited?.code}; ${rejects} connections closed over the bound, ${acceptErrors} accept errors)`,
);
for (const other of others) console.log(`  ${other}`);
if (exited?.code !== 0) {
  const last = output.stderr.filter((l) => l.trim() !== "").slice(-2);
  console.log(`  serve's last words: ${last.join(" | ")}`);
}
