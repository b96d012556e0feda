// Copyright 2026 the midisock authors. MIT license.
// `midisock ping` and the echo it measures with: it reports over TCP
// against `serve`; no other client of the bus (a mido client, a SocketPort)
// receives a byte of it; a plain mido server gets no echo request, and ping
// exits non-zero saying why.

import assert from "node:assert/strict";
import { connect, EchoRoundTrip, encode, message, PortServer } from "../mod.ts";
import { echoRequest } from "../src/transport/echo.ts";
import { Child, midisock } from "./_child.ts";
import { PYTHON } from "./_mido.ts";
import { MIDO } from "./_peers.ts";
import { FaultProxy, PyPeer } from "./_py_child.ts";
import { waitFor } from "./_net.ts";

const SUMMARY =
  /^rtt p50=(\d+\.\d{3}) ms p99=(\d+\.\d{3}) ms max=(\d+\.\d{3}) ms jitter=(\d+\.\d{3}) ms lost=0\/(\d+)$/;

// A mido client on a plain socket: prints "connected", then reads until
// the end of the stream and prints the bytes it got, in hex, and what
// mido's parser made of them.
const LISTEN = `
import sys, socket, mido
__import__("signal").alarm(40)
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
print("connected", flush=True)
data = b""
while True:
    chunk = sock.recv(65536)
    if not chunk:
        break
    data += chunk
print("bytes " + data.hex())
print("messages %d" % len(mido.parse_all(data)))
`;

MIDO.test("midisock ping reports the round trip to serve over TCP, and neither a mido client nor a SocketPort on the bus receives a byte of it", async () => {
  const serve = midisock(["serve", "--relay", "127.0.0.1:0"]);
  await using _serve = serve;
  const [, port] = await serve.waitForMatch(
    "stderr",
    /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
  );
  await using mido = new Child(PYTHON, ["-c", LISTEN, port]);
  await mido.waitForMatch("stdout", /^connected$/);
  await using listener = await connect("127.0.0.1", Number(port));
  await serve.waitForCount(2, (l) => l.startsWith("# connect "), "connects");

  await using ping = midisock([
    "ping",
    "-v",
    "--count",
    "8",
    "--interval",
    "25",
    `127.0.0.1:${port}`,
  ]);
  const result = await ping.result();
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 9);
  lines.slice(0, 8).forEach((line, i) =>
    assert.match(line, new RegExp(`^seq=${i} rtt=\\d+\\.\\d{3} ms$`))
  );
  const [, p50, p99, max, , sent] = lines[8].match(SUMMARY)!;
  assert.equal(sent, "8");
  assert.ok(Number(p50) <= Number(p99) && Number(p99) <= Number(max));

  await serve.waitForMatch("stdout", /^# disconnect /);
  serve.kill("SIGTERM");
  const served = await serve.result();
  assert.equal(served.code, 0);
  // serve printed no message: the echo never reached its readers.
  assert.deepEqual(
    serve.stdout.filter((line) => !line.startsWith("#")),
    [],
  );
  const heard = await mido.result();
  assert.equal(heard.code, 0, heard.stderr);
  assert.deepEqual(mido.stdout.slice(1), ["bytes ", "messages 0"]);
  assert.equal(listener.poll(), undefined);
  assert.equal(listener.stats.skippedBytes, 0);
});

MIDO.test("midisock ping against a plain mido server sends it no echo request, says the server cannot echo, and exits 1", async () => {
  await using server = new PyPeer(["serve"]);
  const port = (await server.line()).split(" ")[1];
  await using ping = midisock(["ping", `127.0.0.1:${port}`]);
  const result = await ping.result();
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "");
  assert.equal(
    result.stderr,
    `midisock: error: Cannot ping 127.0.0.1:${port}: the server did not say it answers midisock's echo (it did not answer the hello line: a mido server, or no midisock server); no echo request was sent\n`,
  );
  // mido read the hello line as data bytes with no status, and nothing else.
  assert.deepEqual(await server.rest(), []);
});

Deno.test("The echo goes back to its sender alone, never relayed nor read, and only for a client whose hello line asked for it", async () => {
  await using bus = new PortServer("127.0.0.1", 0, { relay: true });
  await using listener = await connect("127.0.0.1", bus.port);
  const echo = new EchoRoundTrip(
    await connect("127.0.0.1", bus.port, { echo: true }),
  );
  try {
    for (let i = 0; i < 20; i++) assert.ok(await echo.rtt() >= 0);
  } finally {
    await echo.close();
  }
  assert.equal(bus.stats.echoes, 20);
  assert.equal(bus.stats.received, 0);
  assert.equal(bus.stats.relayed, 0);
  // The same bytes from a client that did not ask are a sysex like any.
  await using plain = await connect("127.0.0.1", bus.port);
  await waitFor(() => bus.ports.length === 2, "the plain client");
  plain.enqueue(encode(echoRequest(7)));
  assert.deepEqual(await listener.receive(), echoRequest(7));
  assert.equal(plain.poll(), undefined);
  assert.equal(bus.stats.echoes, 20);
  assert.equal(listener.poll(), undefined);
  assert.deepEqual(
    echoRequest(1),
    message("sysex", {
      data: [0x7d, 0x4d, 0x53, 1, 0, 0, 0, 1],
    }),
  );
});

Deno.test("A server that is asked for the echo says so in its verdict line, with or without a token", async () => {
  for (const token of [undefined, "s3cret"]) {
    await using bus = new PortServer("127.0.0.1", 0, { token });
    await using port = await connect("127.0.0.1", bus.port, {
      echo: true,
      hello: { token },
    });
    assert.deepEqual(port.hello, { verdict: "ok", echo: "1" });
    await using other = await connect("127.0.0.1", bus.port, {
      hello: { token },
    });
    if (other.hello === undefined) {
      await new Promise((r) =>
        other.addEventListener("hello", r, { once: true })
      );
    }
    assert.deepEqual(other.hello, { verdict: "ok" });
  }
});

MIDO.test("midisock ping counts a round trip with no answer within --timeout as lost, and goes on", async () => {
  await using bus = new PortServer("127.0.0.1", 0, { relay: true });
  await using proxy = await FaultProxy.start(bus.port);
  await using ping = midisock([
    "ping",
    "-v",
    "--count",
    "3",
    "--interval",
    "400",
    "--timeout",
    "200",
    `127.0.0.1:${proxy.port}`,
  ]);
  await ping.waitForMatch("stdout", /^seq=0 rtt=/);
  await proxy.command("stall");
  const result = await ping.result();
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  assert.deepEqual(lines.slice(1, 3), [
    "seq=1 lost (no answer within 200 ms)",
    "seq=2 lost (no answer within 200 ms)",
  ]);
  assert.match(
    lines[3],
    /^rtt p50=\d+\.\d{3} ms .* jitter=0\.000 ms lost=2\/3$/,
  );
});

Deno.test("midisock ping and play refuse bad numbers, naming the option and the range", async () => {
  const cases: [string[], string][] = [
    [
      ["ping", "--count", "0", "127.0.0.1:9"],
      'Invalid --count "0": expected an integer in 1..1000000 (see midisock ping --help)',
    ],
    [
      ["ping", "--interval=-5", "127.0.0.1:9"],
      'Invalid --interval "-5": expected a number in 0..3600000 (see midisock ping --help)',
    ],
    [
      ["play", "127.0.0.1:9", "x.mid", "--speed", "0"],
      'Invalid --speed "0": expected a number > 0 and <= 1000 (see midisock play --help)',
    ],
    [
      ["play", "127.0.0.1:9"],
      "play takes an address and a file, got 1 arguments (see midisock play --help)",
    ],
  ];
  for (const [args, error] of cases) {
    await using child = midisock(args);
    const result = await child.result();
    assert.deepEqual(
      [result.code, result.stdout, result.stderr],
      [2, "", `midisock: error: ${error}\n`],
    );
  }
});

Deno.test("midisock ping works on a busy bus: where the bus sent MIDI before its verdict, one echo request asks", async () => {
  await using bus = new PortServer("127.0.0.1", 0, { relay: true });
  await using player = await connect("127.0.0.1", bus.port);
  await waitFor(() => bus.ports.length === 1, "the player");
  // A clock each 5 ms, as a busy bus has.
  const flood = setInterval(() => player.send(message("clock")), 5);
  try {
    for (let run = 0; run < 4; run++) {
      await using ping = midisock([
        "ping",
        "-c",
        "2",
        "-i",
        "0",
        `127.0.0.1:${bus.port}`,
      ]);
      const result = await ping.result();
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /lost=0\/2\n$/);
    }
  } finally {
    clearInterval(flood);
  }
  // 2 samples a run, and a probe where the clock went first.
  assert.ok(
    bus.stats.echoes >= 8 && bus.stats.echoes <= 12,
    `${bus.stats.echoes} echoes`,
  );
});

Deno.test("midisock ping works on a bus that sends late joiners a snapshot (no token): the snapshot comes first, and one echo request asks", async () => {
  await using bus = new PortServer("127.0.0.1", 0, {
    relay: true,
    snapshot: true,
  });
  await using player = await connect("127.0.0.1", bus.port);
  await waitFor(() => bus.ports.length === 1, "the player");
  await player.send(message("control_change", { control: 7, value: 99 }));
  await waitFor(() => bus.stats.received === 1, "the controller");
  await using ping = midisock([
    "ping",
    "-c",
    "3",
    "-i",
    "0",
    `127.0.0.1:${bus.port}`,
  ]);
  const result = await ping.result();
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /lost=0\/3\n$/);
  assert.equal(bus.stats.echoes, 4); // the probe, then 3 samples
  assert.equal(player.poll(), undefined); // none of it reached the bus
});

Deno.test("A server with a token and a snapshot for late joiners says it echoes before the snapshot", async () => {
  await using bus = new PortServer("127.0.0.1", 0, {
    relay: true,
    snapshot: true,
    token: "s3cret",
  });
  await using player = await connect("127.0.0.1", bus.port, {
    hello: { token: "s3cret" },
  });
  await waitFor(() => bus.ports.length === 1, "the player");
  await player.send(message("control_change", { control: 7, value: 99 }));
  await waitFor(() => bus.stats.received === 1, "the controller");
  await using port = await connect("127.0.0.1", bus.port, {
    echo: true,
    hello: { token: "s3cret" },
  });
  assert.deepEqual(port.hello, { verdict: "ok", echo: "1" });
  assert.deepEqual(
    await port.receive(),
    message("control_change", { control: 7, value: 99 }),
  );
});

Deno.test("midisock ping rtp:// measures with RTP-MIDI's CK exchange against serve --rtp, and the bus hears none of it", async () => {
  await using serve = midisock([
    "serve",
    "--relay",
    "127.0.0.1:0",
    "--rtp",
    "127.0.0.1:0",
  ]);
  const [, port] = await serve.waitForMatch(
    "stderr",
    /RTP-MIDI sessions on 127\.0\.0\.1:(\d+)/,
  );
  const [, tcp] = await serve.waitForMatch(
    "stderr",
    /listening on 127\.0\.0\.1:(\d+)/,
  );
  await using listener = await connect("127.0.0.1", Number(tcp));
  await serve.waitForMatch("stdout", /^# connect /);
  await using ping = midisock([
    "ping",
    "-v",
    "--count",
    "3",
    "--interval",
    "20",
    `rtp://127.0.0.1:${port}`,
  ]);
  const result = await ping.result();
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 4);
  assert.match(lines[3], SUMMARY);
  assert.equal(lines[3].match(SUMMARY)![5], "3");
  assert.equal(listener.poll(), undefined);
  serve.kill("SIGTERM");
  await serve.result();
  assert.deepEqual(serve.stdout.filter((l) => !l.startsWith("#")), []);
});
