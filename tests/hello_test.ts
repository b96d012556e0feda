// Copyright 2026 the midisock authors. MIT license.
// The hello line and the token: a client that opens with the right token
// is taken in; any other client of a server with a token is turned away,
// and nothing it sent reaches anyone.

import assert from "node:assert/strict";
import {
  connect,
  message,
  type PortEvent,
  PortServer,
  type RejectEvent,
} from "../mod.ts";
import { delay, readExactly, receiveN, waitFor } from "./_net.ts";

const NOTE = new Uint8Array([0x90, 60, 100]);
const bytes = (text: string) => new TextEncoder().encode(text);

/** A raw client that writes `data`, and the server's reject for it. */
async function rawClient(
  port: number,
  data: Uint8Array,
): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  if (data.length > 0) await conn.write(data);
  return conn;
}

Deno.test("connect() opens with the hello line, percent-encoded, before any MIDI byte, and a server that never answers it took the client in", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  // A server that says nothing (an older one) for 2 s took the client in.
  await using client = await connect("127.0.0.1", listener.addr.port, {
    hello: { name: "keys 1", token: "s3cr et" },
  });
  assert.equal(client.hello, undefined);
  await client.send(message("note_on", { note: 60, velocity: 100 }));
  using conn = await accepted;
  const line = "MIDISOCK/1 name=keys%201 token=s3cr%20et verdict=1\n";
  assert.deepEqual(
    await readExactly(conn, line.length + 3),
    new Uint8Array([...bytes(line), ...NOTE]),
  );
  await assert.rejects(
    connect("127.0.0.1", listener.addr.port, {
      hello: { name: "x".repeat(600) },
    }),
    {
      name: "RangeError",
      message:
        "Invalid hello: the line would be 627 bytes, over the limit of 512",
    },
  );
});

Deno.test("A server without a token takes a client's name from its hello line", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const hellos: PortEvent[] = [];
  server.addEventListener("hello", (event) => hellos.push(event));
  const reading = server.withPorts();
  await using client = await connect("127.0.0.1", server.port, {
    hello: { name: "keys" },
  });
  await client.send(message("start"));
  const { value } = await reading.next();
  assert.equal(value!.port.name, "keys");
  assert.deepEqual(value!.message, message("start"));
  await waitFor(() => hellos.length === 1, "the hello event");
  assert.equal(hellos[0].port.name, "keys");
  // Without a hello line, every byte is MIDI, as before.
  await using plain = await connect("127.0.0.1", server.port);
  await plain.send(message("stop"));
  const next = await reading.next();
  assert.equal(next.value!.port.name, `127.0.0.1:${plain.localAddr.port}`);
  await reading.return!();
});

Deno.test("A server with a token takes in only the right token; every other client is turned away and nothing it sent is delivered", async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    relay: true,
    token: "s3cr et",
    helloTimeout: 300,
  });
  const rejects: RejectEvent[] = [];
  server.addEventListener("reject", (event) => rejects.push(event));
  const reading = server.withPorts();

  // The right token: taken in, named, heard.
  await using good = await connect("127.0.0.1", server.port, {
    hello: { name: "keys", token: "s3cr et" },
  });
  await using listener = await connect("127.0.0.1", server.port, {
    hello: { name: "synth", token: "s3cr et" },
  });
  await waitFor(() => server.ports.length === 2, "2 clients");
  assert.deepEqual(server.ports.map((p) => p.name).sort(), ["keys", "synth"]);

  // Every other client sends a note after whatever it opens with.
  const bad: [string, Uint8Array][] = [
    ["wrong token", bytes("MIDISOCK/1 name=x token=guess\n")],
    ["no token in the hello line", bytes("MIDISOCK/1 name=x\n")],
    ["no hello line", new Uint8Array()],
    [
      "hello line over 512 bytes",
      bytes(`MIDISOCK/1 name=${"x".repeat(600)}\n`),
    ],
    ["bad hello line: not printable ASCII", bytes("MIDISOCK/1 name=\x01\n")],
  ];
  const conns = [];
  for (const [, opening] of bad) {
    conns.push(
      await rawClient(server.port, new Uint8Array([...opening, ...NOTE])),
    );
  }
  // One that says nothing at all, past helloTimeout.
  conns.push(await rawClient(server.port, new Uint8Array()));
  try {
    await waitFor(() => rejects.length === bad.length + 1, "every reject");
    const reasons = rejects.map((e) => e.reason);
    for (const [reason] of bad.filter(([r]) => r !== "no hello line")) {
      assert.ok(reasons.includes(reason), `${reason} in ${reasons}`);
    }
    // Plain MIDI where the hello line should be, and silence: no hello line.
    assert.equal(
      reasons.filter((r) => r === "no hello line within 300 ms").length +
        reasons.filter((r) => r === "no hello line").length,
      2,
      reasons.join(", "),
    );
    assert.equal(server.stats.rejected, bad.length + 1);
    for (const conn of conns) {
      const buf = new Uint8Array(16);
      assert.equal(await conn.read(buf).catch(() => null), null, "closed");
    }

    // Nothing from them reached anyone: the first message anyone gets is
    // the good client's.
    await good.send(message("note_on", { note: 64 }));
    assert.deepEqual(await receiveN(listener, 1), [
      message("note_on", { note: 64 }),
    ]);
    const { value } = await reading.next();
    assert.equal(value!.port.name, "keys");
    assert.deepEqual(value!.message, message("note_on", { note: 64 }));
    await delay(50);
    assert.equal(listener.poll(), undefined);
    assert.equal(server.stats.received, 1);
  } finally {
    for (const conn of conns) conn.close();
    await reading.return!();
  }
});

Deno.test("A bad token option fails when the server is made", () => {
  assert.throws(() => new PortServer("127.0.0.1", 0, { token: "" }), {
    name: "TypeError",
    message:
      "Invalid token option: expected a string of at least one character",
  });
});

Deno.test("Clients of a token server that come and go are counted out, so maxClients never fills with ghosts", async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    token: "t",
    maxClients: 3,
  });
  server.poll();
  for (let i = 0; i < 10; i++) {
    const client = await connect("127.0.0.1", server.port, {
      hello: { token: "t" },
    });
    await client.send(message("song_select", { song: i }));
    await client.close();
  }
  const got = [];
  while (got.length < 10) got.push(await server.receive());
  // From ten clients, one after the other: every song, in some order.
  assert.deepEqual(
    got.map((m) => (m as { song: number }).song).sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  await waitFor(() => server.stats.clients === 0, "every client gone");
  await using late = await connect("127.0.0.1", server.port, {
    hello: { token: "t" },
  });
  await late.send(message("start"));
  assert.deepEqual(await server.receive(), message("start"));
  assert.equal(server.stats.rejected, 0);
});

Deno.test("A hello value with a control character is a bad hello line, and connect() refuses to send one", async () => {
  await assert.rejects(
    connect("127.0.0.1", 9, { hello: { name: "keys\n# reject" } }),
    {
      name: "TypeError",
      message: "Invalid hello name: it has a control character",
    },
  );
  await using server = new PortServer("127.0.0.1", 0, {
    token: "t",
    helloTimeout: 500,
  });
  const rejects: RejectEvent[] = [];
  server.addEventListener("reject", (event) => rejects.push(event));
  using raw = await rawClient(
    server.port,
    bytes("MIDISOCK/1 name=keys%0A%23%20reject token=t\n"),
  );
  await waitFor(() => rejects.length === 1, "the reject");
  assert.equal(
    rejects[0].reason,
    "bad hello line: a control character in name",
  );
  assert.equal(raw.localAddr.transport, "tcp");
});

Deno.test("The token is kept apart from a port's hello fields, and a token too long for a hello line fails when the server is made", async () => {
  assert.throws(
    () => new PortServer("127.0.0.1", 0, { token: "x".repeat(600) }),
    RangeError,
  );
  await using server = new PortServer("127.0.0.1", 0, { token: "s3cret" });
  await using _client = await connect("127.0.0.1", server.port, {
    hello: { name: "keys", token: "s3cret" },
  });
  await waitFor(() => server.stats.accepted === 1, "the client");
  server.poll();
  const [port] = server.ports;
  assert.deepEqual(port.hello, { name: "keys", verdict: "1" });
  assert.equal(JSON.stringify(port.hello).includes("s3cret"), false);
  assert.equal(await port.matchesToken("s3cret"), true);
});
