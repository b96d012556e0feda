// Copyright 2026 the midisock authors. MIT license.
// A client that asks for it in its hello line (`verdict=1`) is told
// whether the server took it in, and why not: `MIDISOCK/1 verdict=ok`, or
// `MIDISOCK/1 verdict=refused reason=token` and the end of the stream. A
// mido peer, which says no hello line, never sees a reply. connect() with a
// token resolves only once the server has taken the client in, a refusal
// that a retry cannot fix stops a reconnecting port, and the CLI says why.

import assert from "node:assert/strict";
import {
  connect,
  message,
  PortServer,
  type ReconnectEvent,
  type RejectEvent,
} from "../mod.ts";
import { midisock, runMidisock } from "./_child.ts";
import { readExactly, readToEnd, waitFor } from "./_net.ts";
import { OPENSSL } from "./_peers.ts";
import { withCerts } from "./_tls.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const NOTE = [0x90, 60, 100];

/**
 * What a raw client that writes `opening` then a note, and ends its side
 * of the stream at once (as a one-shot sender does), reads to the end.
 */
async function reply(port: number, opening: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new Uint8Array([...bytes(opening), ...NOTE]));
  await conn.closeWrite();
  return text(await readToEnd(conn, 5000));
}

Deno.test("A server answers a hello line that asks for a verdict, with exact bytes; a client that does not ask, and a mido peer, get nothing", async () => {
  await using bus = new PortServer("127.0.0.1", 0, {
    token: "s3cret",
    helloTimeout: 500,
  });
  const rejects: RejectEvent[] = [];
  bus.addEventListener("reject", (event) => rejects.push(event));
  const port = bus.port;
  const refused = "MIDISOCK/1 verdict=refused reason=token\n";
  // A wrong token and no token get the same reply: the server never says
  // which.
  assert.equal(
    await reply(port, "MIDISOCK/1 name=a token=guess verdict=1\n"),
    refused,
  );
  assert.equal(await reply(port, "MIDISOCK/1 name=a verdict=1\n"), refused);
  // No verdict asked for (an older midisock client), and a mido peer.
  assert.equal(await reply(port, "MIDISOCK/1 name=a token=guess\n"), "");
  assert.equal(await reply(port, ""), "");
  await waitFor(() => rejects.length === 4, "4 rejects");
  assert.deepEqual(rejects.map((event) => event.reason), [
    "wrong token",
    "no token in the hello line",
    "wrong token",
    "no hello line",
  ]);
  // The right token: the verdict comes before any MIDI byte.
  using good = await Deno.connect({ hostname: "127.0.0.1", port });
  await good.write(bytes("MIDISOCK/1 name=b token=s3cret verdict=1\n"));
  const ok = "MIDISOCK/1 verdict=ok\n";
  assert.equal(text(await readExactly(good, ok.length)), ok);
  bus.poll(); // read as a port: it takes its clients in
  await waitFor(() => bus.ports.length === 1, "the client");
  await bus.send(message("start"));
  assert.deepEqual(await readExactly(good, 1), new Uint8Array([0xfa]));
});

Deno.test("A client not on the allow-list, and one over maxClients, are told so if they asked", async () => {
  {
    await using bus = new PortServer("127.0.0.1", 0, { allow: ["10.0.0.0/8"] });
    assert.equal(
      await reply(bus.port, "MIDISOCK/1 verdict=1\n"),
      "MIDISOCK/1 verdict=refused reason=allow\n",
    );
    assert.equal(await reply(bus.port, ""), "");
    assert.equal(bus.stats.rejected, 2);
  }
  {
    await using bus = new PortServer("127.0.0.1", 0, { maxClients: 1 });
    bus.poll();
    await using _first = await connect("127.0.0.1", bus.port);
    await waitFor(() => bus.ports.length === 1, "the first client");
    assert.equal(
      await reply(bus.port, "MIDISOCK/1 name=b verdict=1\n"),
      "MIDISOCK/1 verdict=refused reason=full\n",
    );
    assert.equal(bus.stats.rejected, 1);
  }
});

Deno.test("connect() with a token resolves once the server has taken the client in, and rejects with the reason when it refuses", async () => {
  await using bus = new PortServer("127.0.0.1", 0, { token: "s3cret" });
  const port = bus.port;
  await assert.rejects(
    connect("127.0.0.1", port, { hello: { name: "a", token: "guess" } }),
    {
      name: "RefusedError",
      reason: "token",
      message: `Refused by 127.0.0.1:${port}: wrong token`,
    },
  );
  await using good = await connect("127.0.0.1", port, {
    hello: { name: "b", token: "s3cret" },
  });
  assert.deepEqual(good.hello, { verdict: "ok" });
  assert.equal(bus.stats.accepted, 1);
  assert.equal(bus.stats.rejected, 1);
  // Without a token it is not kept waiting; the refusal closes the port.
  const none = await connect("127.0.0.1", port, { hello: { name: "c" } });
  assert.deepEqual(await Array.fromAsync(none), []);
  assert.deepEqual(none.hello, { verdict: "refused", reason: "token" });
});

Deno.test("A reconnecting port that is refused for its token stops with the reason and never fires reconnect; a full server is retried with backoff", async () => {
  await using bus = new PortServer("127.0.0.1", 0, {
    token: "s3cret",
    maxClients: 1,
  });
  bus.poll();
  const port = bus.port;
  await assert.rejects(
    connect("127.0.0.1", port, {
      reconnect: { backoff: () => 20 },
      hello: { token: "guess" },
    }),
    { name: "RefusedError", reason: "token" },
  );
  // Without a token: it connects, is refused, and stops.
  const tokenless = await connect("127.0.0.1", port, {
    reconnect: { backoff: () => 20 },
  });
  const events: string[] = [];
  for (const type of ["disconnect", "reconnecting", "reconnect"] as const) {
    tokenless.addEventListener(type, () => events.push(type));
  }
  const closed = new Promise<ErrorEvent>((resolve) =>
    tokenless.addEventListener("close", resolve, { once: true })
  );
  const { error } = await closed;
  assert.equal(error?.name, "RefusedError");
  assert.equal(
    error?.message,
    `Refused by 127.0.0.1:${port}: it asks for a token`,
  );
  assert.deepEqual(events, []);
  assert.equal(tokenless.closed, true);

  // Full: one client is in, the reconnecting one waits for the place.
  await using player = await connect("127.0.0.1", port, {
    reconnect: { backoff: () => 20 },
    hello: { name: "player", token: "s3cret" },
  });
  const tries: ReconnectEvent[] = [];
  player.addEventListener("reconnecting", (event) => tries.push(event));
  const back = new Promise((resolve) =>
    player.addEventListener("reconnect", resolve, { once: true })
  );
  await waitFor(() => bus.ports.length === 1, "the player");
  await bus.ports[0].abort(); // the player loses its place...
  const squatter = await connect("127.0.0.1", port, {
    hello: { name: "squatter", token: "s3cret" },
  }); // ...to another
  await waitFor(
    () => tries.some((event) => event.error?.name === "RefusedError"),
    "a refusal for a full server",
  );
  const full = tries.find((event) => event.error?.name === "RefusedError")!;
  assert.equal(
    full.error!.message,
    `Refused by 127.0.0.1:${port}: it is full`,
  );
  await squatter.close(); // the place is free again
  await back;
  assert.equal(player.connected, true);
});

Deno.test("Without TLS, connect() sends a token only to a loopback address, unless insecureToken says so", async () => {
  await using bus = new PortServer("0.0.0.0", 0, { token: "s3cret" });
  await assert.rejects(
    connect("0.0.0.0", bus.port, { hello: { token: "s3cret" } }),
    {
      name: "TypeError",
      message:
        `Cannot send a token to 0.0.0.0:${bus.port} in clear text: connect with tls, or set insecureToken to send it anyway`,
    },
  );
  assert.equal(bus.stats.accepted + bus.stats.rejected, 0, "nothing dialed");
  await using sent = await connect(
    "0.0.0.0",
    bus.port,
    {
      hello: { token: "s3cret" },
      insecureToken: true,
    } as Parameters<typeof connect>[2],
  );
  assert.deepEqual(sent.hello, { verdict: "ok" });
  await using local = await connect("127.0.0.1", bus.port, {
    hello: { token: "s3cret" },
  });
  assert.deepEqual(local.hello, { verdict: "ok" });
});

OPENSSL.test("Plain TCP to a TLS port, and TLS to a plaintext port, fail within 2 s with an error that says so", async () => {
  await withCerts(async ({ ca, cert, key }) => {
    {
      await using bus = new PortServer("127.0.0.1", 0, {
        tls: { cert, key },
        token: "s3cret",
      });
      await assert.rejects(
        connect("127.0.0.1", bus.port, {
          hello: { token: "s3cret" },
          signal: AbortSignal.timeout(2000),
        }),
        {
          message:
            `Cannot connect to 127.0.0.1:${bus.port}: the server speaks TLS; connect with tls`,
        },
      );
    }
    {
      await using bus = new PortServer("127.0.0.1", 0);
      await assert.rejects(
        connect("127.0.0.1", bus.port, {
          tls: { caCerts: [ca] },
          signal: AbortSignal.timeout(2000),
        }),
        {
          message: new RegExp(
            `^Cannot connect to 127\\.0\\.0\\.1:${bus.port}: the TLS handshake failed \\(does the server speak TLS\\?\\): `,
          ),
        },
      );
    }
  });
});

OPENSSL.test("midisock send and monitor, refused by a TLS server with a token, exit 1 with the reason in one line", async () => {
  await withCerts(async ({ files }) => {
    const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "midisock-" });
    try {
      const token = `${dir}/token.txt`;
      const wrong = `${dir}/wrong.txt`;
      await Deno.writeTextFile(token, "s3cret\n");
      await Deno.writeTextFile(wrong, "guess\n");
      await using serve = midisock([
        "serve",
        ...["--tls-cert", files.cert, "--tls-key", files.key],
        ...["--token-file", token, "127.0.0.1:0"],
      ]);
      const [, port] = await serve.waitForMatch(
        "stderr",
        /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
      );
      const address = `127.0.0.1:${port}`;
      const refused = `midisock: error: Refused by ${address}`;
      const ca = ["--ca", files.ca];
      assert.deepEqual(
        await runMidisock(["send", ...ca, address, "start"]),
        {
          code: 1,
          signal: null,
          stdout: "",
          stderr: `${refused}: it asks for a token\n`,
        },
      );
      assert.deepEqual(
        await runMidisock([
          "send",
          ...ca,
          ...["--token-file", wrong],
          address,
          "start",
        ]),
        {
          code: 1,
          signal: null,
          stdout: "",
          stderr: `${refused}: wrong token\n`,
        },
      );
      // Without TLS: the token never leaves, and the error says why.
      assert.deepEqual(
        await runMidisock(["send", "--token-file", token, address, "start"]),
        {
          code: 1,
          signal: null,
          stdout: "",
          stderr:
            `midisock: error: Cannot connect to ${address}: the server speaks TLS; connect with tls\n`,
        },
      );
      const monitor = await runMidisock(["monitor", ...ca, address]);
      assert.equal(monitor.code, 1);
      assert.equal(monitor.stderr, `${refused}: it asks for a token\n`);
      // The right token, with TLS: in.
      assert.deepEqual(
        await runMidisock([
          "send",
          ...ca,
          ...["--token-file", token],
          address,
          "start",
        ]),
        { code: 0, signal: null, stdout: "", stderr: "" },
      );
      await serve.waitForCount(
        1,
        (line) => line.endsWith(" start time=0"),
        "the start",
      );
      serve.kill("SIGTERM");
      assert.equal((await serve.result()).code, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("midisock send puts a token in clear text only to a loopback address, or with --insecure-token", async () => {
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "midisock-" });
  try {
    const token = `${dir}/token.txt`;
    await Deno.writeTextFile(token, "s3cret\n");
    await using serve = midisock([
      "serve",
      ...["--token-file", token, "0.0.0.0:0"],
    ]);
    const [, port] = await serve.waitForMatch(
      "stderr",
      /^midisock: listening on 0\.0\.0\.0:(\d+)$/,
    );
    const address = `0.0.0.0:${port}`;
    assert.deepEqual(
      await runMidisock(["send", "--token-file", token, address, "start"]),
      {
        code: 1,
        signal: null,
        stdout: "",
        stderr:
          `midisock: error: Cannot send a token to ${address} in clear text: connect with tls, or set insecureToken to send it anyway\n`,
      },
    );
    assert.deepEqual(
      await runMidisock([
        "send",
        "--insecure-token",
        ...["--token-file", token],
        address,
        "start",
      ]),
      { code: 0, signal: null, stdout: "", stderr: "" },
    );
    await serve.waitForCount(
      1,
      (line) => line.endsWith(" start time=0"),
      "the start",
    );
    serve.kill("SIGTERM");
    assert.equal((await serve.result()).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
