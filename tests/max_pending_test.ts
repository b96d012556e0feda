// Copyright 2026 the midisock authors. MIT license.
// Connections that have not yet said their hello line (or finished their
// TLS handshake) have a bound of their own, maxPending, apart from
// maxClients: a flood of idle sockets can no longer keep a token holder out
// of a server that has room for it.

import assert from "node:assert/strict";
import {
  connect,
  message,
  PortServer,
  type PortServerOptions,
  type RejectEvent,
} from "../mod.ts";
import { midisock, runMidisock } from "./_child.ts";
import { waitFor } from "./_net.ts";

/**
 * `n` idle sockets that never say a word, each opened again as soon as the
 * server closes it, until stop().
 */
class Flood {
  #stopped = false;
  #conns = new Set<Deno.TcpConn>();
  #loops: Promise<void>[];
  /** Connections opened, in all. */
  opened = 0;

  constructor(port: number, n: number) {
    this.#loops = Array.from({ length: n }, () => this.#loop(port));
  }

  async #loop(port: number): Promise<void> {
    const buf = new Uint8Array(64);
    while (!this.#stopped) {
      let conn: Deno.TcpConn;
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port });
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      this.opened++;
      this.#conns.add(conn);
      try {
        while (await conn.read(buf) !== null) {
          // Idle: it reads until the server closes it.
        }
      } catch {
        // Reset by the server, or closed by stop().
      }
      this.#conns.delete(conn);
      try {
        conn.close();
      } catch {
        // Closed by stop().
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
    this.#conns.clear();
    await Promise.all(this.#loops);
  }
}

/**
 * Whether a client with the token gets in: its message reaches the server
 * (it is in), or its connection ends first (it was turned away).
 */
async function tokenHolderGetsIn(
  bus: PortServer,
  heard: Set<string>,
  name: string,
): Promise<boolean> {
  let client;
  try {
    client = await connect("127.0.0.1", bus.port, {
      hello: { name, token: "s3cret" },
    });
  } catch {
    return false; // refused, and told so
  }
  try {
    await client.send(message("start"));
    await waitFor(() => heard.has(name) || client.closed, `${name}'s fate`);
    return heard.has(name);
  } finally {
    await client.close();
  }
}

Deno.test("maxPending: under a flood of 300 idle sockets, a client with the token gets in 5 times out of 5, and the waiting connections never pass the bound", async () => {
  const options: PortServerOptions & { maxPending: number } = {
    token: "s3cret",
    maxClients: 32,
    maxPending: 16,
    helloTimeout: 500, // a waiting one may be pushed out after 50 ms
  };
  await using bus = new PortServer("127.0.0.1", 0, options);
  const rejects: RejectEvent[] = [];
  bus.addEventListener("reject", (event) => rejects.push(event));
  const heard = new Set<string>();
  const reading = (async () => {
    for await (const { port } of bus.withPorts()) heard.add(port.name);
  })();
  const flood = new Flood(bus.port, 300);
  let admitted = 0;
  let mostPending = 0;
  const sample = setInterval(() => {
    const pending = (bus.stats as { pending?: number }).pending ?? Infinity;
    mostPending = Math.max(mostPending, pending);
  }, 5);
  try {
    // The flood is on: every socket has been opened at least once.
    await waitFor(() => flood.opened >= 300, "300 idle sockets");
    for (let i = 0; i < 5; i++) {
      if (await tokenHolderGetsIn(bus, heard, `holder-${i}`)) admitted++;
    }
  } finally {
    clearInterval(sample);
    await flood.stop();
  }
  assert.equal(admitted, 5, `admitted ${admitted} of 5`);
  assert.ok(mostPending <= 16, `at most 16 waiting, saw ${mostPending}`);
  // The flood was turned away, oldest first, each counted with its reason.
  assert.ok(rejects.length >= 284, `${rejects.length} rejects`);
  assert.equal(bus.stats.rejected, rejects.length);
  assert.ok(
    rejects.every((event) =>
      event.reason === "over maxPending (16)" ||
      event.reason === "no hello line" ||
      event.reason === "no hello line within 500 ms"
    ),
    [...new Set(rejects.map((event) => event.reason))].join(", "),
  );
  await bus.close();
  await reading;
});

Deno.test("maxPending: a bad value fails when the server is made", () => {
  const bad = { maxPending: 0 } as PortServerOptions;
  assert.throws(() => new PortServer("127.0.0.1", 0, bad), {
    name: "RangeError",
    message: "Invalid maxPending option: expected an integer >= 1, got 0",
  });
});

Deno.test("midisock serve --max-pending N: a second idle socket pushes the first out once it has waited, with a # reject line", async () => {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "midisock-" });
  const token = `${dir}/token.txt`;
  await Deno.writeTextFile(token, "s3cret\n");
  const idle: Deno.TcpConn[] = [];
  try {
    await using serve = midisock([
      "serve",
      ...["--token-file", token, "--max-pending", "1", "127.0.0.1:0"],
    ]);
    const [, port] = await serve.waitForMatch(
      "stderr",
      /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
    );
    for (let i = 0; i < 2; i++) {
      idle.push(
        await Deno.connect({ hostname: "127.0.0.1", port: Number(port) }),
      );
    }
    const first = `127.0.0.1:${idle[0].localAddr.port}`;
    await serve.waitForCount(
      1,
      (line) => line === `# reject ${first} over maxPending (1)`,
      "the first pushed out",
    );
    serve.kill("SIGTERM");
    assert.equal((await serve.result()).code, 0);
    const zero = await runMidisock(["serve", "--max-pending", "0", ":0"]);
    assert.equal(zero.code, 2);
    assert.equal(
      zero.stderr,
      'midisock: error: Invalid --max-pending "0": expected at least 1 connection (see midisock serve --help)\n',
    );
  } finally {
    for (const conn of idle) conn.close();
    await Deno.remove(dir, { recursive: true });
  }
});
