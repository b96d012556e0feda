// Copyright 2026 the midisock authors. MIT license.
// The browser gateway under a flood of idle connections (issue 19): it must
// never take the process down with it, nor let idle connections hold the
// process's file descriptors. Servers run in a process of their own under
// a low open-file limit, which Python sets before it becomes deno (as in
// tests/access_test.ts); the bound and the timeout are also tested here in
// the test's own process.

import assert from "node:assert/strict";
import {
  connect,
  message,
  PortServer,
  type RejectEvent,
  SocketPort,
  WebGateway,
  WebSocketTransport,
} from "../mod.ts";
import { Child } from "./_child.ts";
import { PYTHON, receiveN, waitFor } from "./_net.ts";

const CLI = new URL("../src/cli/main.ts", import.meta.url).pathname;
const GATEWAY_SERVER = new URL(
  "./fixtures/web_gateway_server.ts",
  import.meta.url,
).pathname;
const TEXT = new TextEncoder();

/**
 * Runs `deno run ARGS...` with its open-file limit (soft and hard) lowered
 * to `limit`: Python lowers it, then becomes deno.
 */
function underLimit(limit: number, args: string[]): Child {
  return new Child(PYTHON, [
    "-c",
    `import os, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (${limit}, ${limit}))
os.execvp(sys.argv[1], ["deno", "run", *sys.argv[2:]])`,
    Deno.execPath(),
    ...args,
  ]);
}

/** A connection, and when (performance.now()) its peer closed it, if it has. */
interface Watched {
  conn: Deno.TcpConn;
  opened: number;
  ended: number;
}

/**
 * Opens `n` connections to `port`, one after another, that send nothing,
 * and watches each for its end (the peer's close or reset). The caller
 * closes them.
 */
async function flood(
  port: number,
  n: number,
  into: Watched[],
): Promise<void> {
  for (let i = 0; i < n; i++) {
    const opened = performance.now();
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const watched = { conn, opened, ended: 0 };
    into.push(watched);
    const buf = new Uint8Array(64);
    (async () => {
      try {
        while (await conn.read(buf) !== null);
      } catch {
        // Reset, or closed here.
      }
      watched.ended ||= performance.now();
    })();
  }
}

/** What a server that refused a connection says: its exit and its stderr. */
async function died(child: Child): Promise<string> {
  try {
    await waitFor(() => child.exited, "the server to exit", 2000);
  } catch {
    return "the server still runs";
  }
  const { code, stderr } = await child.result();
  return `the server exited with status ${code}: ${stderr.trim()}`;
}

/** Closes every connection of a flood, and waits for their reads to end. */
async function closeAll(flooded: Watched[]): Promise<void> {
  for (const { conn } of flooded) {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
  await waitFor(() => flooded.every((w) => w.ended > 0), "the reads to end");
}

Deno.test("midisock serve --relay --web under ulimit -n 256 lives through 300 idle connections to the web port: the oldest go over the bound, the bus relays all along, and after the flood the page loads and a WebSocket joins", async () => {
  await using serve = underLimit(256, [
    "--allow-all",
    CLI,
    "serve",
    "--relay",
    "--web",
    "0",
    "127.0.0.1:0",
  ]);
  const [, tcpPort] = await serve.waitForMatch(
    "stderr",
    /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
  );
  const [, url, webPort] = await serve.waitForMatch(
    "stderr",
    /^midisock: web page at (http:\/\/127\.0\.0\.1:(\d+)\/)$/,
  );
  await using keys = await connect("127.0.0.1", Number(tcpPort));
  await using synth = await connect("127.0.0.1", Number(tcpPort));
  await serve.waitForCount(2, (l) => l.startsWith("# connect"), "2 clients");
  const flooded: Watched[] = [];
  try {
    // Before the fix, Deno.serve's accept loop died here, at about 230
    // connections, and the process with it (exit status 1).
    await flood(Number(webPort), 300, flooded).catch(async (error) => {
      throw new Error(`${error}: ${await died(serve)}`);
    });
    // Over maxHttpConnections (128), the oldest went as the new came.
    await serve.waitForCount(
      172,
      (l) => / over maxHttpConnections \(128\)$/.test(l),
      "172 connections closed over the bound",
    );
    await waitFor(
      () => flooded.filter((w) => w.ended > 0).length >= 172,
      "the 172 oldest connections to see their end",
    );
    assert.ok(flooded.slice(0, 172).every((w) => w.ended > 0));
    // The newest are held until requestTimeout (10 s).
    assert.ok(flooded.slice(172).every((w) => w.ended === 0));
    assert.equal(serve.exited, false);
    // The bus carries on through the flood.
    await keys.send(message("note_on", { note: 60, velocity: 100 }));
    assert.deepEqual(await receiveN(synth, 1), [
      message("note_on", { note: 60, velocity: 100 }),
    ]);
  } finally {
    await closeAll(flooded);
  }
  // Once the flood ends: the page, and a WebSocket that joins the bus.
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>midisock<\/title>/);
  const ws = new WebSocket(new URL("/ws", url));
  await using browser = new SocketPort(new WebSocketTransport(ws), {
    hello: { name: "page" },
  });
  await serve.waitForCount(3, (l) => l.startsWith("# connect"), "the page");
  await browser.send(message("note_off", { note: 60 }));
  assert.deepEqual(await receiveN(synth, 1), [
    message("note_off", { note: 60 }),
  ]);
  serve.kill("SIGTERM");
  assert.equal((await serve.result()).code, 0);
  // No descriptor warning: the default maxClients under this limit (128)
  // leaves room for the web page's 128 connections.
  assert.deepEqual(serve.stderr, [
    `midisock: listening on 127.0.0.1:${tcpPort}`,
    `midisock: web page at ${url}`,
  ]);
  assert.ok(!serve.stdout.some((l) => l.startsWith("# accepterror")));
});

Deno.test("WebGateway closes the oldest HTTP connection over maxHttpConnections, and each one that has not sent a whole request within requestTimeout; a browser that asks at once still gets the page", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using web = new WebGateway(server, {
    hostname: "127.0.0.1",
    maxHttpConnections: 4,
    requestTimeout: 500,
  });
  const rejected: RejectEvent[] = [];
  web.addEventListener("reject", (event) => rejected.push(event));
  const flooded: Watched[] = [];
  const name = (w: Watched) => `127.0.0.1:${w.conn.localAddr.port}`;
  try {
    await flood(web.port, 4, flooded);
    // A slow client: part of a request, then nothing. It is the fifth.
    await flood(web.port, 1, flooded);
    const slow = flooded[4];
    await slow.conn.write(TEXT.encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    await waitFor(() => flooded[0].ended > 0, "the oldest to be closed");
    assert.deepEqual(rejected.map((e) => [e.address, e.reason]), [
      [name(flooded[0]), "over maxHttpConnections (4)"],
    ]);
    // A browser's request, with every place taken: it is served, and the
    // next oldest goes.
    const page = await fetch(web.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>midisock<\/title>/);
    assert.equal(rejected.length, 2);
    assert.deepEqual(
      [rejected[1].address, rejected[1].reason],
      [name(flooded[1]), "over maxHttpConnections (4)"],
    );
    // The others, and the page's kept-alive connection, go after 500 ms.
    await waitFor(
      () => flooded.every((w) => w.ended > 0) && web.stats.connections === 0,
      "every connection closed",
    );
    for (const w of flooded.slice(2)) {
      assert.ok(w.ended - w.opened >= 490, `${w.ended - w.opened} ms`);
    }
    // The slow one was part-way through a request: it is reported too.
    assert.deepEqual(
      [rejected[2].address, rejected[2].reason],
      [name(slow), "request not done within requestTimeout (500 ms)"],
    );
    assert.equal(rejected.length, 3);
    const { timedOut, rejected: refused, requests, connections } = web.stats;
    assert.deepEqual({ timedOut, refused, requests, connections }, {
      timedOut: 4,
      refused: 3,
      requests: 1,
      connections: 0,
    });
  } finally {
    await closeAll(flooded);
  }
  assert.equal(web.maxHttpConnections, 4);
  assert.throws(
    () => new WebGateway(server, { maxHttpConnections: 0 }),
    new RangeError(
      "Invalid maxHttpConnections option: expected an integer >= 1, got 0",
    ),
  );
  assert.throws(
    () => new WebGateway(server, { requestTimeout: 1.5 }),
    new RangeError(
      "Invalid requestTimeout option: expected an integer >= 1, got 1.5",
    ),
  );
});

Deno.test("WebGateway's accept loop outlives running out of file descriptors: under ulimit -n 128, with maxHttpConnections over it, 200 idle connections pause it, it reports accepterror and closes each after requestTimeout, and then serves the page", async () => {
  await using child = underLimit(128, [
    "--allow-all",
    GATEWAY_SERVER,
    JSON.stringify({ maxHttpConnections: 1000, requestTimeout: 1000 }),
  ]);
  const [, busPort, webPort] = await child.waitForMatch(
    "stderr",
    /^bus (\d+) web (\d+)$/,
  );
  await using keys = await connect("127.0.0.1", Number(busPort));
  await using synth = await connect("127.0.0.1", Number(busPort));
  const flooded: Watched[] = [];
  try {
    await flood(Number(webPort), 200, flooded).catch(async (error) => {
      throw new Error(`${error}: ${await died(child)}`);
    });
    await child.waitForMatch(
      "stdout",
      /^# accepterror Cannot accept a connection on 127\.0\.0\.1:\d+: Too many open files/,
    );
    assert.equal(child.exited, false);
    // The clients the bus had carry on.
    await keys.send(message("control_change", { control: 7, value: 90 }));
    assert.deepEqual(await receiveN(synth, 1), [
      message("control_change", { control: 7, value: 90 }),
    ]);
    // Each connection is closed by the server after requestTimeout, those
    // that waited in the system's queue once they were taken in.
    await waitFor(
      () => flooded.every((w) => w.ended > 0),
      "every connection closed by the server",
    );
  } finally {
    await closeAll(flooded);
  }
  const page = await fetch(`http://127.0.0.1:${webPort}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>midisock<\/title>/);
  const ws = new WebSocket(`ws://127.0.0.1:${webPort}/ws`);
  await using browser = new SocketPort(new WebSocketTransport(ws));
  await browser.send(message("stop"));
  assert.deepEqual(await receiveN(synth, 1), [message("stop")]);
  child.kill("SIGTERM");
  const { code, stdout } = await child.result();
  assert.equal(code, 0);
  const stats = JSON.parse(stdout.trim().split("\n").at(-1)!);
  assert.equal(stats.timedOut, 200);
  assert.equal(stats.rejected, 0);
  assert.ok(stats.acceptErrors >= 1, JSON.stringify(stats));
});

Deno.test("midisock serve warns when --max-clients and the web page's connections need more descriptors than the process may open, and says nothing where it cannot read the limit", async () => {
  const warned = async (limit: number, flags: string[], args: string[]) => {
    await using serve = underLimit(limit, [...flags, CLI, "serve", ...args]);
    await serve.waitForMatch("stderr", /^midisock: listening on /);
    serve.kill("SIGTERM");
    const { code } = await serve.result();
    assert.equal(code, 0);
    return serve.stderr.filter((l) => l.includes("file descriptors"));
  };
  const tail =
    "more file descriptors than this process may open (256); past that, connections wait unanswered: raise ulimit -n or lower --max-clients";
  assert.deepEqual(
    await warned(256, ["--allow-all"], [
      "--max-clients",
      "200",
      "--web",
      "0",
      "127.0.0.1:0",
    ]),
    [`midisock: warning: --max-clients 200 and 128 web connections need ${tail}`],
  );
  assert.deepEqual(
    await warned(256, ["--allow-all"], ["--max-clients", "300", "127.0.0.1:0"]),
    [`midisock: warning: --max-clients 300 needs ${tail}`],
  );
  // Within the limit: no warning.
  assert.deepEqual(
    await warned(256, ["--allow-all"], [
      "--max-clients",
      "100",
      "--web",
      "0",
      "127.0.0.1:0",
    ]),
    [],
  );
  // Deno lets only --allow-all read /proc/self/limits: without it (as
  // `deno task serve` runs, or with --allow-read), serve asks for nothing
  // and says nothing.
  for (
    const flags of [
      ["--allow-net", "--allow-env=MIDISOCK_TOKEN"],
      ["--allow-net", "--allow-env", "--allow-read"],
    ]
  ) {
    assert.deepEqual(
      await warned(256, flags, [
        "--max-clients",
        "300",
        "--web",
        "0",
        "127.0.0.1:0",
      ]),
      [],
    );
  }
});
