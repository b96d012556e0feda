// Copyright 2026 the midisock authors. MIT license.
// The bus: relay in the library, any transport joins it, options that stay
// with the server, an accept loop that never dies, and counters that outlive
// the clients they count.

import assert from "node:assert/strict";
import {
  connect,
  type DropEvent,
  encode,
  type Message,
  message,
  parseAddress,
  type PortEvent,
  PortServer,
  SocketPort,
} from "../mod.ts";
import {
  bigSysex,
  delay,
  HAS_IPV6_LOOPBACK,
  memoryPair,
  PYTHON,
  randomMessages,
  readToEnd,
  receiveN,
  waitFor,
  wire,
  within,
} from "./_net.ts";
import { PYTHON3 } from "./_peers.ts";

/** Connects n clients and waits until the server has taken them in. */
async function clients(server: PortServer, n: number): Promise<SocketPort[]> {
  const before = server.stats.accepted;
  const ports = await Promise.all(
    Array.from({ length: n }, () => connect("127.0.0.1", server.port)),
  );
  await waitFor(() => server.stats.accepted === before + n, `${n} clients`);
  return ports;
}

/** Messages that only sender `i` sends: each is on channel i. */
function fromSender(i: number, n: number): Message[] {
  return randomMessages(0xb05 + i, 4 * n)
    .filter((m) => "channel" in m)
    .map((m) => ({ ...m, channel: i }) as Message)
    .slice(0, n);
}

async function closeAll(ports: SocketPort[]): Promise<void> {
  await Promise.all(ports.map((port) => port.close()));
}

PYTHON3.test("The accept loop survives peers that reset before they are accepted, and counts each one", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const errors: ErrorEvent[] = [];
  server.addEventListener("accepterror", (event) => errors.push(event));
  // SO_LINGER 0 makes close() send a reset, as health checkers and port
  // scanners do: the connection is gone before accept() picks it up.
  const resets = 5;
  const { code, stderr } = await new Deno.Command(PYTHON, {
    args: [
      "-c",
      `import socket, struct
for _ in range(${resets}):
    s = socket.create_connection(("127.0.0.1", ${server.port}))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()`,
    ],
    stdout: "null",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));

  // The server goes on accepting: a client that comes next is heard.
  await using client = await connect("127.0.0.1", server.port);
  await client.send(message("start"));
  assert.deepEqual(await receiveN(server, 1), [message("start")]);
  // Each reset is either an accept() error (counted, with an event) or a
  // client that was accepted and then left.
  await waitFor(
    () => server.stats.acceptErrors + server.stats.accepted === resets + 1,
    "every reset counted",
  );
  assert.equal(errors.length, server.stats.acceptErrors);
  for (const event of errors) assert.ok(event.error instanceof Error);
});

Deno.test("A server's name option names the server, never its clients", async () => {
  await using server = new PortServer("127.0.0.1", 0, { name: "bus" });
  assert.equal(server.name, "bus");
  await using client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();
  assert.equal(peer.name, `127.0.0.1:${client.localAddr.port}`);
  await client.send(message("stop"));
  assert.deepEqual(await receiveN(peer, 1), [message("stop")]);
});

Deno.test("relay: true sends each client's messages to every other client, never back, with no one reading the server", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  const ports = await clients(server, 3);
  try {
    const sent = ports.map((_, i) => fromSender(i, 50));
    await Promise.all(ports.map(async (port, i) => {
      for (const msg of sent[i]) await port.send(msg);
    }));
    for (let i = 0; i < ports.length; i++) {
      const others = sent.filter((_, j) => j !== i);
      const got = await receiveN(ports[i], 100);
      // In order within each sender; senders interleave.
      for (const expected of others) {
        const channel = (expected[0] as { channel: number }).channel;
        const mine = got.filter((m) =>
          (m as { channel?: number }).channel === channel
        );
        assert.deepEqual(mine, expected, `client ${i}`);
      }
    }
    await delay(50);
    for (const port of ports) assert.equal(port.poll(), undefined);
    const all = sent.flat();
    assert.equal(server.stats.received, all.length);
    assert.equal(server.stats.relayed, all.length);
    // One encoding a message, whatever the number of clients.
    assert.equal(server.hub.stats.messages, all.length);
    assert.equal(server.hub.stats.encodedBytes, wire(all).length);
    assert.equal(server.hub.stats.deliveries, 2 * all.length);
  } finally {
    await closeAll(ports);
  }
});

Deno.test("A relaying server's readers get each message with its sender, as the other clients do", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  const [a, b] = await clients(server, 2);
  try {
    const reading = server.withPorts();
    await a.send(message("note_on", { note: 60 }));
    await b.send(message("note_on", { note: 64 }));
    const first = await within(reading.next(), "a message");
    const second = await within(reading.next(), "a message");
    const byPort = new Map(
      [first.value!, second.value!].map((r) => [r.port.remoteAddr.port, r]),
    );
    assert.deepEqual(
      byPort.get(a.localAddr.port)!.message,
      message("note_on", { note: 60 }),
    );
    assert.deepEqual(
      byPort.get(b.localAddr.port)!.message,
      message("note_on", { note: 64 }),
    );
    assert.deepEqual(await receiveN(b, 1), [message("note_on", { note: 60 })]);
    assert.deepEqual(await receiveN(a, 1), [message("note_on", { note: 64 })]);
  } finally {
    await closeAll([a, b]);
  }
});

Deno.test("Two relaying servers piped into each other both ways carry each message once, and never loop it", async () => {
  await using left = new PortServer("127.0.0.1", 0, { relay: true });
  await using right = new PortServer("127.0.0.1", 0, { relay: true });
  const [l1, l2] = await clients(left, 2);
  const [r1, r2] = await clients(right, 2);
  const pipes = [
    left.readable.pipeTo(right.writable).catch(() => {}),
    right.readable.pipeTo(left.writable).catch(() => {}),
  ];
  try {
    await l1.send(message("note_on", { note: 60 }));
    await r2.send(message("note_off", { note: 61 }));
    const both = [
      message("note_on", { note: 60 }),
      message("note_off", { note: 61 }),
    ];
    const key = (m: Message) => JSON.stringify(m);
    for (const port of [l2, r1]) {
      const got = await receiveN(port, 2);
      assert.deepEqual(got.map(key).sort(), both.map(key).sort());
    }
    assert.deepEqual(await receiveN(l1, 1), [
      message("note_off", { note: 61 }),
    ]);
    assert.deepEqual(await receiveN(r2, 1), [message("note_on", { note: 60 })]);
    // Nothing more comes: the messages did not go round again.
    await delay(200);
    for (const port of [l1, l2, r1, r2]) assert.equal(port.poll(), undefined);
    assert.equal(left.hub.stats.messages, 2); // l1's relay, and r2's via the pipe
    assert.equal(right.hub.stats.messages, 2);
  } finally {
    await closeAll([l1, l2, r1, r2]);
    await left.close();
    await right.close();
    await Promise.all(pipes);
  }
});

Deno.test("A port over any transport joins the bus: a pipe in memory and TCP clients hear each other", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  const [near, far] = memoryPair();
  const joined = server.join(near, { name: "memory" });
  assert.equal(joined.name, "memory");
  await using local = new SocketPort(far, { name: "local" });
  const [tcp] = await clients(server, 1);
  try {
    assert.equal(server.stats.clients, 2);
    await tcp.send(message("note_on", { note: 60 }));
    assert.deepEqual(await receiveN(local, 1), [
      message("note_on", { note: 60 }),
    ]);
    await local.send(message("program_change", { program: 5 }));
    assert.deepEqual(await receiveN(tcp, 1), [
      message("program_change", { program: 5 }),
    ]);
    assert.equal(server.hub.stats.deliveries, 2);
  } finally {
    await tcp.close();
  }
});

Deno.test({
  name:
    "localhost means both loopbacks: the server listens on 127.0.0.1 and ::1, and a client tries each",
  ignore: !HAS_IPV6_LOOPBACK,
  fn: async () => {
    await using server = new PortServer("localhost", 0);
    assert.deepEqual(
      server.addrs.map((addr) => addr.hostname).sort(),
      ["127.0.0.1", "::1"],
    );
    assert.ok(server.addrs.every((addr) => addr.port === server.port));
    await using v4 = await connect("127.0.0.1", server.port);
    await using v6 = await connect("::1", server.port);
    await v4.send(message("start"));
    assert.deepEqual(await receiveN(server, 1), [message("start")]);
    await v6.send(message("stop"));
    assert.deepEqual(await receiveN(server, 1), [message("stop")]);

    // A server on ::1 only: connect("localhost") finds it after 127.0.0.1
    // refuses.
    await using v6only = new PortServer("::1", 0);
    await using client = await connect("localhost", v6only.port);
    assert.equal(client.remoteAddr.hostname, "::1");
    await client.send(message("continue"));
    assert.deepEqual(await receiveN(v6only, 1), [message("continue")]);
  },
});

Deno.test("parseAddress gives localhost, not every interface, for an address with no host", () => {
  assert.deepEqual(parseAddress(":8080"), { host: "localhost", port: 8080 });
  assert.deepEqual(parseAddress("8080"), { host: "localhost", port: 8080 });
  assert.deepEqual(parseAddress(":8080", { defaultHost: "" }), {
    host: "",
    port: 8080,
  });
});

Deno.test("The server's counters keep every client's drops after it leaves, and each drop fires an event", async () => {
  await using server = new PortServer("127.0.0.1", 0, { maxSysexBytes: 8 });
  const drops: DropEvent[] = [];
  server.addEventListener("drop", (event) => drops.push(event));
  const disconnected = Promise.withResolvers<PortEvent>();
  server.addEventListener("disconnect", (e) => disconnected.resolve(e));
  server.poll(); // read as a port: the server takes in its clients
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  // 2 stray data bytes, an oversized sysex (1 + 9 + 1 bytes), a note, and a
  // note_on cut short by the end of the stream (2 bytes).
  const bytes = [
    [0x01, 0x02],
    [0xf0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xf7],
    [0x90, 60, 100],
    [0x90, 62],
  ];
  for (const chunk of bytes) {
    await raw.write(new Uint8Array(chunk));
    await delay(20); // each chunk read on its own, most likely
  }
  raw.close();
  await within(disconnected.promise, "the disconnect");
  assert.deepEqual(await receiveN(server, 1), [
    message("note_on", { note: 60, velocity: 100 }),
  ]);
  assert.equal(server.stats.clients, 0);
  assert.equal(server.stats.skippedBytes, 2 + 11 + 2);
  assert.equal(server.stats.oversizedSysex, 1);
  assert.equal(server.stats.discardedMessages, 1);
  const sum = (key: "skippedBytes" | "oversizedSysex" | "discardedMessages") =>
    drops.reduce((n, event) => n + event[key], 0);
  assert.equal(sum("skippedBytes"), 15);
  assert.equal(sum("oversizedSysex"), 1);
  assert.equal(sum("discardedMessages"), 1);
  assert.ok(drops.every((event) => event.port.name === drops[0].port.name));
});

Deno.test("A slow client is cut off on a message boundary: it gets whole messages, then end of stream", async () => {
  const size = 32; // a 34-byte sysex, as a synth's patch dump sends them
  await using server = new PortServer("127.0.0.1", 0, {
    maxQueuedBytes: 64 * 1024,
    slowClientTimeout: 200,
  });
  const slow = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const [reader] = await clients(server, 1);
  await waitFor(() => server.stats.accepted === 2, "the slow client");
  let count = 0;
  const reading = (async () => {
    for await (const _ of reader) count++;
  })();
  const sent: Message[] = [];
  try {
    // A burst: the slow client's queue fills with many messages, so that
    // each write to it is a big chunk, which the system takes only in part.
    for (let i = 0; i < 2_000_000 && server.stats.slowClients === 0; i++) {
      const msg = bigSysex(size, i);
      sent.push(msg);
      await server.send(msg);
    }
    assert.equal(server.stats.slowClients, 1, "the slow client was cut off");
    // It reads now, within closeTimeout: the write in flight finishes, and
    // nothing after it comes.
    const got = await readToEnd(slow);
    assert.ok(got.length > 0);
    assert.equal(got.length % (size + 2), 0, `${got.length} bytes`);
    const n = got.length / (size + 2);
    assert.deepEqual(got, wire(sent.slice(0, n)));
  } finally {
    await reader.close();
    await reading;
  }
  assert.equal(count, sent.length);
});

Deno.test("A client that reads a trickle is cut off, rather than holding the others back", async () => {
  // The defaults: 1 MiB queues, slowClientTimeout 1000 ms.
  await using server = new PortServer("127.0.0.1", 0);
  const trickle = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.port,
  });
  const fast = await clients(server, 2);
  await waitFor(() => server.stats.accepted === 3, "3 clients");
  const slowEvents: PortEvent[] = [];
  server.addEventListener("slowclient", (event) => slowEvents.push(event));
  // 64 KiB every 20 ms: 3.2 MB/s, reading all the time, but much slower
  // than the clients on loopback. Each single wait for it is short.
  const stop = new AbortController();
  const trickling = (async () => {
    const buf = new Uint8Array(64 * 1024);
    try {
      while (!stop.signal.aborted) {
        if (await trickle.read(buf) === null) return;
        await delay(20);
      }
    } catch {
      // Cut off, or closed below.
    }
  })();
  const reading = fast.map(async (port) => {
    let n = 0;
    for await (const _ of port) n++;
    return n;
  });
  const msgs: Message[] = [];
  try {
    // Bounded: at most 20 s or 128 MiB (40 s of the trickle's reading).
    const deadline = Date.now() + 20_000;
    for (let i = 0; i < 128 * 1024 && server.stats.slowClients === 0; i++) {
      if (Date.now() > deadline) break;
      const msg = bigSysex(1024, i);
      msgs.push(msg);
      await server.send(msg);
    }
    assert.equal(server.stats.slowClients, 1, "the trickle was cut off");
    await waitFor(() => slowEvents.length === 1, "the slowclient event");
    assert.equal(slowEvents[0].port.remoteAddr.port, trickle.localAddr.port);
  } finally {
    stop.abort();
    await closeAll(fast);
    await trickling;
    trickle.close();
  }
  assert.deepEqual(await Promise.all(reading), [msgs.length, msgs.length]);
});

Deno.test("The hub encodes once for a relay: the bytes a client sends reach the others byte for byte", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  const [a, b, c] = await clients(server, 3);
  try {
    const msgs = randomMessages(0x1e1a, 200);
    for (const msg of msgs) await a.send(msg);
    for (const port of [b, c]) {
      assert.deepEqual(await receiveN(port, msgs.length), msgs);
    }
    assert.equal(
      server.hub.stats.encodedBytes,
      msgs.reduce((n, m) => n + encode(m).length, 0),
    );
  } finally {
    await closeAll([a, b, c]);
  }
});

Deno.test("Bad client options fail when the server is made, and before connect() dials", async () => {
  assert.throws(() => new PortServer("127.0.0.1", 0, { closeTimeout: -1 }), {
    name: "RangeError",
    message:
      "Invalid closeTimeout option: expected a number of milliseconds >= 0, got -1",
  });
  assert.throws(
    () => new PortServer("127.0.0.1", 0, { maxSysexBytes: -1 }),
    RangeError,
  );
  await using server = new PortServer("127.0.0.1", 0);
  await assert.rejects(
    connect("127.0.0.1", server.port, { maxSysexBytes: -1 }),
    RangeError,
  );
  // Nothing was dialed: the server never saw a connection.
  await delay(50);
  assert.equal(server.stats.accepted, 0);
});

Deno.test("close() ends a port over a transport in memory whose peer never ends its side", async () => {
  const [near, far] = memoryPair();
  const a = new SocketPort(near, { name: "a" });
  // The far side reads what a sends, and never closes its own side.
  const reader = far.readable.getReader();
  await a.send(message("start"));
  assert.deepEqual((await reader.read()).value, encode(message("start")));
  await within(a.close(), "a.close()");
  assert.equal(a.closed, true);
  assert.equal((await reader.read()).done, true, "a's end of stream");
});

Deno.test("Sends made while the first send settles go out in the order they were made", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  const p1 = server.send(message("song_select", { song: 1 }));
  const p2 = server.send(message("song_select", { song: 2 }));
  await p1;
  const p3 = server.send(message("song_select", { song: 3 }));
  await Promise.all([p2, p3]);
  assert.deepEqual(
    await receiveN(client, 3),
    [1, 2, 3].map((song) => message("song_select", { song })),
  );
});

Deno.test("A relaying server whose reader stopped with break goes on relaying, far past its readers' buffer", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  const [a, b] = await clients(server, 2);
  try {
    await a.send(message("start"));
    for await (const _ of server) break; // read once, then stop
    assert.deepEqual(await receiveN(b, 1), [message("start")]);
    // 1 MiB of sysex: four times what the server keeps for its readers.
    const msgs = Array.from({ length: 256 }, (_, i) => bigSysex(4096, i));
    const sending = (async () => {
      for (const msg of msgs) await a.send(msg);
    })();
    assert.deepEqual(await receiveN(b, msgs.length), msgs);
    await sending;
    assert.equal(server.stats.relayed, 1 + msgs.length);
  } finally {
    await closeAll([a, b]);
  }
});

Deno.test("A disconnect event counts the client's messages that the server took: delivered, filtered and released, never active sensing", async () => {
  await using server = new PortServer("127.0.0.1", 0, { acceptSysex: false });
  const disconnected = Promise.withResolvers<PortEvent>();
  server.addEventListener("disconnect", (e) => disconnected.resolve(e));
  const messages = server.withPorts(); // read from the start
  const client = await connect("127.0.0.1", server.port, {
    activeSensing: 200, // a 0xFE every 50 ms of silence, both ways
  });
  await client.send(message("note_on", { note: 60 }));
  await client.send(message("sysex", { data: [1, 2, 3] })); // filtered
  await client.send(message("control_change", { control: 1, value: 5 }));
  await waitFor(
    () => (server.ports[0]?.stats.activeSensing ?? 0) >= 2,
    "the client's active sensing at the server",
  );
  await client.close(); // the note still on
  const event = await within(disconnected.promise, "the disconnect");
  // note_on, sysex and control_change, and the note_off that released 60.
  assert.equal(event.messages, 4);
  assert.ok(event.port.stats.activeSensing >= 2); // and none of them counted
  const got: Message[] = [];
  for await (const { message: msg } of messages) {
    got.push(msg);
    if (got.length === 3) break;
  }
  assert.deepEqual(got, [
    message("note_on", { note: 60 }),
    message("control_change", { control: 1, value: 5 }),
    message("note_off", { note: 60 }),
  ]);
});
