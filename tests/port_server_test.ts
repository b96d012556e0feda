// Copyright 2026 the midisock authors. MIT license.
// PortServer over loopback: mido's documented uses (a simple server, a server
// that only sends, the accept() loop), every host form, events, closing, and
// garbage from a client.

import assert from "node:assert/strict";
import {
  connect,
  formatAddress,
  type Message,
  message,
  MidiParser,
  NoteTracker,
  PortClosedError,
  type PortEvent,
  PortServer,
  SocketPort,
} from "../mod.ts";
import {
  bigSysex,
  delay,
  HAS_IPV6_LOOPBACK,
  memoryPair,
  PANIC,
  randomMessages,
  readToEnd,
  receiveN,
  RESET,
  Rng,
  waitFor,
  within,
} from "./_net.ts";

const NO_IPV6 = !HAS_IPV6_LOOPBACK;

const NOTES: readonly Message[] = [
  message("note_on", { channel: 9, note: 36, velocity: 120 }),
  message("program_change", { channel: 3, program: 42 }),
  message("sysex", { data: [0x43, 0x10, 0x4c, 0x00] }),
  message("songpos", { pos: 16383 }),
  message("note_off", { channel: 9, note: 36 }),
];

/** Iterates a server with for await until `n` messages have come. */
function iterateN(server: PortServer, n: number): Promise<Message[]> {
  return within(
    (async () => {
      const seen: Message[] = [];
      if (n === 0) return seen;
      for await (const msg of server) {
        seen.push(msg);
        if (seen.length === n) break;
      }
      return seen;
    })(),
    `${n} messages from the server`,
  );
}

Deno.test("for await over a PortServer yields what a connect()ed client sends (mido's simple server)", async () => {
  await using server = new PortServer("localhost", 0);
  await using output = await connect("localhost", server.port);
  for (const msg of NOTES) await output.send(msg);
  assert.deepEqual(await iterateN(server, NOTES.length), NOTES);
});

/** Checks a server and a client both ways, and their names. */
async function checkPair(
  server: PortServer,
  client: SocketPort,
  clientHost: string,
): Promise<void> {
  assert.equal(client.name, formatAddress(clientHost, server.port));
  for (const msg of NOTES) await client.send(msg);
  const first = await server.receiveWithPort({
    signal: AbortSignal.timeout(15_000),
  });
  assert.deepEqual(first.message, NOTES[0]);
  assert.equal(
    first.port.name,
    formatAddress(client.localAddr.hostname, client.localAddr.port),
  );
  assert.deepEqual(await receiveN(server, NOTES.length - 1), NOTES.slice(1));
  await server.send(message("start"));
  assert.deepEqual(await receiveN(client, 1), [message("start")]);
}

Deno.test("PortServer and connect() work with the DNS name localhost", async () => {
  await using server = new PortServer("localhost", 0);
  assert.equal(server.name, `localhost:${server.port}`);
  assert.equal(server.host, "localhost");
  await using client = await connect("localhost", server.port);
  await checkPair(server, client, "localhost");
});

Deno.test("PortServer and connect() work with IPv4 127.0.0.1", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  assert.equal(server.name, `127.0.0.1:${server.port}`);
  await using client = await connect("127.0.0.1", server.port);
  assert.equal(client.localAddr.hostname, "127.0.0.1");
  assert.equal(client.remoteAddr.port, server.port);
  await checkPair(server, client, "127.0.0.1");
});

Deno.test({
  name: "PortServer and connect() work with IPv6 ::1, named [::1]:port",
  ignore: NO_IPV6,
  async fn() {
    await using server = new PortServer("::1", 0);
    assert.equal(server.name, `[::1]:${server.port}`);
    await using client = await connect("::1", server.port);
    assert.equal(client.name, `[::1]:${server.port}`);
    assert.equal(client.localAddr.hostname, "::1");
    await checkPair(server, client, "::1");
    assert.equal(
      server.ports[0].name,
      `[::1]:${client.localAddr.port}`,
    );
  },
});

Deno.test({
  name: "PortServer and connect() take an IPv6 address in brackets, [::1]",
  ignore: NO_IPV6,
  async fn() {
    await using server = new PortServer("[::1]", 0);
    assert.equal(server.name, `[::1]:${server.port}`);
    await using client = await connect("[::1]", server.port);
    assert.equal(client.name, `[::1]:${server.port}`);
    await checkPair(server, client, "::1");
  },
});

Deno.test({
  name:
    'PortServer on "" listens on every interface: clients reach it on 127.0.0.1 and ::1',
  ignore: NO_IPV6,
  async fn() {
    await using server = new PortServer("", 0);
    assert.equal(server.host, "");
    assert.equal(server.name, `:${server.port}`);
    await using v4 = await connect("127.0.0.1", server.port);
    await using v6 = await connect("::1", server.port);
    assert.equal(v4.name, `127.0.0.1:${server.port}`);
    assert.equal(v6.name, `[::1]:${server.port}`);

    await v4.send(message("note_on", { note: 4 }));
    await v6.send(message("note_on", { note: 6 }));
    const got = new Map<string, Message>();
    for (let i = 0; i < 2; i++) {
      const { port, message: msg } = await server.receiveWithPort({
        signal: AbortSignal.timeout(15_000),
      });
      got.set(port.name, msg);
    }
    assert.deepEqual(
      got,
      new Map([
        [`127.0.0.1:${v4.localAddr.port}`, message("note_on", { note: 4 })],
        [`[::1]:${v6.localAddr.port}`, message("note_on", { note: 6 })],
      ]),
    );
    await server.send(message("stop"));
    assert.deepEqual(await receiveN(v4, 1), [message("stop")]);
    assert.deepEqual(await receiveN(v6, 1), [message("stop")]);
  },
});

Deno.test('PortServer on "" with no IPv6 loopback still takes IPv4 clients', async () => {
  // This half of the "" test runs everywhere.
  await using server = new PortServer("", 0);
  await using client = await connect("127.0.0.1", server.port);
  await client.send(message("continue"));
  assert.deepEqual(await receiveN(server, 1), [message("continue")]);
});

Deno.test("A server that only sends reaches every client, including those that connected before the first send", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using a = await connect("127.0.0.1", server.port);
  await using b = await connect("127.0.0.1", server.port);
  await using c = await connect("127.0.0.1", server.port);
  await waitFor(() => server.stats.accepted === 3, "3 accepted clients");
  assert.equal(server.stats.clients, 0, "not adopted before the first use");

  const first = randomMessages(0x0b0e, 40);
  for (const msg of first) await server.send(msg);
  assert.equal(server.ports.length, 3);
  assert.equal(server.stats.clients, 3);
  for (const client of [a, b, c]) {
    assert.deepEqual(await receiveN(client, first.length), first);
  }

  // A client that connects later gets what is sent from then on.
  await using late = await connect("127.0.0.1", server.port);
  await waitFor(() => server.stats.clients === 4, "the late client");
  const second = randomMessages(0x1a7e, 10);
  for (const msg of second) await server.send(msg);
  for (const client of [a, b, c, late]) {
    assert.deepEqual(await receiveN(client, second.length), second);
  }
  assert.equal(late.poll(), undefined);
  assert.equal(server.hub.stats.messages, first.length + second.length);
  assert.equal(
    server.hub.stats.deliveries,
    3 * first.length + 4 * second.length,
  );
});

Deno.test("PortServer.reset() and panic() send mido's messages to every client", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using a = await connect("127.0.0.1", server.port);
  await using b = await connect("127.0.0.1", server.port);
  await waitFor(() => server.stats.accepted === 2, "2 accepted clients");
  await server.reset();
  await server.panic();
  for (const client of [a, b]) {
    assert.deepEqual(await receiveN(client, 48), [...RESET, ...PANIC]);
  }
});

Deno.test("accept() waits for a client and returns a port wired to it both ways", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  let settled = false;
  const accepting = server.accept().finally(() => settled = true);
  for (let i = 0; i < 5; i++) await delay(5);
  assert.equal(settled, false, "accept() waits while no client connects");

  await using client = await connect("127.0.0.1", server.port);
  await using peer = await within(accepting, "accept()");
  assert.equal(peer.remoteAddr.port, client.localAddr.port);
  assert.equal(peer.localAddr.port, server.port);
  assert.equal(peer.name, `127.0.0.1:${client.localAddr.port}`);

  await client.send(message("note_on", { note: 1 }));
  assert.deepEqual(await receiveN(peer, 1), [message("note_on", { note: 1 })]);
  await peer.send(message("note_on", { note: 2 }));
  assert.deepEqual(await receiveN(client, 1), [
    message("note_on", { note: 2 }),
  ]);

  // The server hands accepted clients over: it neither reads nor adopts them.
  assert.deepEqual(server.ports, []);
  assert.equal(server.stats.accepted, 1);
  assert.equal(server.stats.clients, 0);
});

Deno.test("accept({ block: false }) returns null at once when no client waits, then the client", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  assert.equal(server.accept({ block: false }), null);
  await using client = await connect("127.0.0.1", server.port);
  let peer: SocketPort | null = null;
  await waitFor(
    () => (peer = server.accept({ block: false })) !== null,
    "a client",
  );
  await using p = peer!;
  assert.equal(p.remoteAddr.port, client.localAddr.port);
  assert.equal(server.accept({ block: false }), null);
  await p.send(message("tune_request"));
  assert.deepEqual(await receiveN(client, 1), [message("tune_request")]);
  await client.send(message("active_sensing"));
  assert.deepEqual(await receiveN(p, 1), [message("active_sensing")]);
});

Deno.test("accept() stops waiting when its signal aborts, and rejects with PortClosedError once the server closes", async () => {
  const server = new PortServer("127.0.0.1", 0);
  const name = `127.0.0.1:${server.port}`;
  const controller = new AbortController();
  const aborted = server.accept({ signal: controller.signal });
  controller.abort(new Error("no more"));
  await assert.rejects(aborted, { message: "no more" });

  const pending = assert.rejects(server.accept(), {
    name: "PortClosedError",
    message: `Cannot accept: port ${name} is closed`,
  });
  await server.close();
  await pending;
  await assert.rejects(server.accept(), PortClosedError);
  assert.throws(() => server.accept({ block: false }), {
    name: "PortClosedError",
    message: `Cannot accept: port ${name} is closed`,
  });
});

Deno.test("mido's accept() loop serves 3 clients at once, drops the one that leaves, and loses no message", async () => {
  await using server = new PortServer("localhost", 0);
  const plan = [
    { name: "a", count: 30, leaves: false },
    { name: "b", count: 12, leaves: true },
    { name: "c", count: 30, leaves: false },
  ];
  const senders = await Promise.all(
    plan.map(() => connect("localhost", server.port)),
  );
  const expected = new Map<number, Message[]>();
  plan.forEach((p, i) => {
    expected.set(
      senders[i].localAddr.port,
      Array.from(
        { length: p.count },
        (_, n) =>
          message("control_change", { channel: i, control: n, value: n }),
      ),
    );
  });
  // The clients play at the same time, in bursts of 4 messages. The one
  // that leaves sends its last burst and closes at once.
  const playing = Promise.all(senders.map(async (sender, i) => {
    const msgs = expected.get(sender.localAddr.port)!;
    for (let n = 0; n < msgs.length; n++) {
      await sender.send(msgs[n]);
      if (n % 4 === 3 && n < msgs.length - 1) await delay(1);
    }
    if (plan[i].leaves) await sender.close();
  }));

  // The loop from mido's docs, "Under the hood".
  const clients: SocketPort[] = [];
  const everyone: SocketPort[] = [];
  const received = new Map<number, Message[]>();
  const left: string[] = [];
  // Done once the leaver has left and the others have sent everything.
  const done = () =>
    left.length === 1 &&
    [...expected].every(([port, msgs], i) =>
      plan[i].leaves || (received.get(port)?.length ?? 0) >= msgs.length
    );
  const deadline = Date.now() + 15_000;
  try {
    while (!done() && Date.now() < deadline) {
      const client = server.accept({ block: false });
      if (client) {
        clients.push(client);
        everyone.push(client);
      }
      for (let i = clients.length - 1; i >= 0; i--) {
        if (clients[i].closed) {
          left.push(clients[i].name);
          clients.splice(i, 1);
        }
      }
      for (const port of clients) {
        for (const msg of port.iterPending()) {
          const list = received.get(port.remoteAddr.port) ?? [];
          list.push(msg);
          received.set(port.remoteAddr.port, list);
        }
      }
      await delay(2);
    }
    await within(playing, "the clients to finish playing");
    assert.equal(everyone.length, 3);
    assert.deepEqual(received, expected);
    const leaver = senders[1].localAddr.port;
    assert.deepEqual(left, [`127.0.0.1:${leaver}`]);
    assert.deepEqual(
      clients.map((c) => c.remoteAddr.port).sort(),
      [senders[0].localAddr.port, senders[2].localAddr.port].sort(),
    );
  } finally {
    await playing.catch(() => {});
    await Promise.all([...senders, ...everyone].map((p) => p.close()));
  }
});

Deno.test("PortServer.receiveWithPort() and withPorts() tell which client sent each message", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using a = await connect("127.0.0.1", server.port);
  await using b = await connect("127.0.0.1", server.port);
  const fromA = Array.from(
    { length: 20 },
    (_, i) => message("note_on", { note: i }),
  );
  const fromB = Array.from(
    { length: 20 },
    (_, i) => message("note_off", { channel: 1, note: 100 + i }),
  );
  for (let i = 0; i < 20; i++) {
    await a.send(fromA[i]);
    await b.send(fromB[i]);
  }
  const bySender = new Map<number, Message[]>([
    [a.localAddr.port, []],
    [b.localAddr.port, []],
  ]);
  for (let i = 0; i < 20; i++) {
    const { port, message: msg } = await server.receiveWithPort({
      signal: AbortSignal.timeout(15_000),
    });
    assert.ok(server.ports.includes(port));
    bySender.get(port.remoteAddr.port)!.push(msg);
  }
  await within(
    (async () => {
      for await (const { port, message: msg } of server.withPorts()) {
        bySender.get(port.remoteAddr.port)!.push(msg);
        if ([...bySender.values()].flat().length === 40) break;
      }
    })(),
    "the rest through withPorts()",
  );
  assert.deepEqual(
    bySender,
    new Map<number, Message[]>([
      [a.localAddr.port, fromA],
      [b.localAddr.port, fromB],
    ]),
  );
  assert.equal(server.stats.received, 40);
});

Deno.test("PortServer fires connect and disconnect events with the client's port", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const events: string[] = [];
  const record = (event: PortEvent) =>
    events.push(`${event.type} ${event.port.remoteAddr.port}`);
  server.addEventListener("connect", record);
  server.addEventListener("disconnect", record);
  assert.equal(server.poll(), undefined); // used as a port: it adopts clients
  const client = await connect("127.0.0.1", server.port);
  const port = client.localAddr.port;
  await waitFor(() => events.length === 1, "the connect event");
  assert.equal(server.stats.clients, 1);
  await client.close();
  await waitFor(() => events.length === 2, "the disconnect event");
  assert.deepEqual(events, [`connect ${port}`, `disconnect ${port}`]);
  assert.equal(server.stats.clients, 0);
  assert.deepEqual(server.ports, []);
});

Deno.test("PortServer.close() closes every client, which reads what was sent and then end of stream", async () => {
  const server = new PortServer("127.0.0.1", 0);
  const name = `127.0.0.1:${server.port}`;
  await using client = await connect("127.0.0.1", server.port);
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await waitFor(() => server.stats.accepted === 2, "2 accepted clients");
  const iterating = Array.fromAsync(server);
  await server.send(message("start"));
  await server.send(message("stop"));
  await server.close();
  assert.equal(server.closed, true);
  assert.deepEqual(server.ports, []);
  assert.deepEqual(await within(iterating, "the server's iteration"), []);

  assert.deepEqual(
    await within(Array.fromAsync(client), "the client's iteration"),
    [message("start"), message("stop")],
  );
  assert.deepEqual(
    await readToEnd(raw),
    new Uint8Array([0xfa, 0xfc]),
  );
  await assert.rejects(server.send(message("clock")), {
    name: "PortClosedError",
    message: `Cannot send clock: port ${name} is closed`,
  });
  await assert.rejects(server.receive(), {
    name: "PortClosedError",
    message: `Cannot receive: port ${name} is closed`,
  });
  await assert.rejects(connect("127.0.0.1", server.port), {
    name: "ConnectionRefused",
  });
});

Deno.test("PortServer.close() while three clients send at full speed ends everything cleanly", async () => {
  const server = new PortServer("127.0.0.1", 0);
  const name = `127.0.0.1:${server.port}`;
  const clients = await Promise.all(
    [0, 1, 2].map(() => connect("127.0.0.1", server.port)),
  );
  try {
    const errors: unknown[] = [];
    const senders = clients.map(async (client) => {
      try {
        for (let i = 0; i < 200_000; i++) {
          await client.send(
            i % 50 === 0
              ? bigSysex(2000, i)
              : message("note_on", { note: i % 128 }),
          );
        }
      } catch (error) {
        errors.push(error);
      }
    });
    let got = 0;
    const reading = (async () => {
      for await (const _ of server) got++;
    })();
    await waitFor(() => got > 5000, "5000 messages");
    await within(server.close(), "the server to close");
    await within(reading, "the server's iteration to end");
    await within(Promise.all(senders), "the senders to stop");
    for (const error of errors) {
      assert.ok(error instanceof PortClosedError, String(error));
      assert.equal(error.port, name);
    }
    assert.equal(server.stats.clients, 0);
    assert.ok(server.stats.received >= got);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});

Deno.test("A new PortServer on a port in use fails with an error that names host:port", async () => {
  await using taken = new PortServer("127.0.0.1", 0);
  const port = taken.port;
  assert.throws(() => new PortServer("127.0.0.1", port), (error) => {
    assert.ok(error instanceof Deno.errors.AddrInUse);
    assert.ok(
      error.message.startsWith(`Cannot listen on 127.0.0.1:${port}: `),
      error.message,
    );
    return true;
  });
  await using every = new PortServer("", 0);
  assert.throws(() => new PortServer("", every.port), (error) => {
    assert.ok(error instanceof Deno.errors.AddrInUse);
    assert.ok(
      error.message.startsWith(`Cannot listen on :${every.port}: `),
      error.message,
    );
    return true;
  });
  if (HAS_IPV6_LOOPBACK) {
    await using v6 = new PortServer("::1", 0);
    assert.throws(() => new PortServer("::1", v6.port), {
      name: "AddrInUse",
      message: new RegExp(`^Cannot listen on \\[::1\\]:${v6.port}: `),
    });
  }
});

Deno.test("new PortServer() rejects a port number out of range with a RangeError", () => {
  for (const bad of [-1, 65536, 2.5, NaN]) {
    assert.throws(() => new PortServer("127.0.0.1", bad), {
      name: "RangeError",
      message:
        `Invalid port for "127.0.0.1": expected an integer in 0..65535, got ${bad}`,
    });
  }
});

Deno.test("await using closes a server and the clients it adopted", async () => {
  let server: PortServer;
  const client = await (async () => {
    await using s = new PortServer("127.0.0.1", 0);
    server = s;
    const c = await connect("127.0.0.1", s.port);
    await c.send(message("reset"));
    assert.deepEqual(await receiveN(s, 1), [message("reset")]);
    return c;
  })();
  assert.equal(server!.closed, true);
  assert.deepEqual(await within(Array.fromAsync(client), "end of stream"), []);
  assert.equal(client.closed, true);
});

/** Garbage, and what each part of it costs (bytes that make no message). */
const GARBAGE: [string, number[], number][] = [
  ["stray data bytes", [0x01, 0x02, 0x7f], 3],
  ["undefined F4 and F5", [0xf4, 0xf5], 2],
  ["undefined real-time F9 and FD", [0xf9, 0xfd], 2],
  ["a stray F7", [0xf7], 1],
  ["a sysex cut by a status byte", [0xf0, 0x01, 0x02, 0x03, 0xf4], 5],
  ["a note_on cut by F5", [0x90, 0x3c, 0xf5], 3],
  ["a program_change with no data", [0xc0, 0xf4], 2],
];

Deno.test("Garbage from one client is skipped and counted; the server and the other clients carry on", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using good = await connect("127.0.0.1", server.port);
  await using listener = await connect("127.0.0.1", server.port);
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await waitFor(() => server.stats.accepted === 3, "3 accepted clients");
    assert.equal(server.poll(), undefined); // adopt them all

    let skipped = 0;
    for (const [_, bytes, cost] of GARBAGE) {
      await raw.write(new Uint8Array(bytes));
      skipped += cost;
      // A good message from the good client, and one from the garbage one.
      await good.send(message("note_on", { note: skipped }));
      await raw.write(new Uint8Array([0x80, 0x40, 0x00]));
      const got = await receiveN(server, 2);
      assert.deepEqual(
        got.toSorted((x, y) => x.type.localeCompare(y.type)),
        [
          message("note_off", { note: 0x40, velocity: 0 }),
          message("note_on", { note: skipped }),
        ],
      );
      await server.send(message("song_select", { song: skipped }));
      assert.deepEqual(await receiveN(listener, 1), [
        message("song_select", { song: skipped }),
      ]);
      assert.equal(server.stats.skippedBytes, skipped);
    }
    assert.equal(skipped, 18);

    // A truncated sysex at the very end is counted once the client leaves.
    const gone = new Promise<void>((resolve) =>
      server.addEventListener("disconnect", () => resolve(), { once: true })
    );
    await raw.write(new Uint8Array([0xf0, 0x7d, 0x01, 0x02]));
    raw.close();
    await within(gone, "the garbage client to leave");
    assert.equal(server.stats.skippedBytes, skipped + 4);
    assert.equal(server.stats.clients, 2);

    await good.send(message("stop"));
    assert.deepEqual(await receiveN(server, 1), [message("stop")]);
    await server.send(message("start"));
    assert.deepEqual(await receiveN(listener, 1), [message("start")]);
    assert.deepEqual(await receiveN(good, GARBAGE.length + 1), [
      ...GARBAGE.map((_, i) =>
        message("song_select", {
          song: GARBAGE.slice(0, i + 1).reduce((n, g) => n + g[2], 0),
        })
      ),
      message("start"),
    ]);
  } finally {
    try {
      raw.close();
    } catch {
      // Closed above.
    }
  }
});

Deno.test("Random bytes from a client are parsed as a MidiParser would, and their skipped bytes counted exactly", async () => {
  const rng = new Rng(0xbadb17e5);
  const garbage = rng.bytes(20_000);
  const oracle = new MidiParser();
  const parsed = oracle.feed(garbage);
  oracle.end();
  // When it leaves, the server releases the notes that the garbage left on.
  const held = new NoteTracker();
  for (const msg of parsed) held.track(msg);
  const released = held.release();
  assert.ok(released.length > 0);
  const expected = [...parsed, ...released];

  await using server = new PortServer("127.0.0.1", 0);
  await using good = await connect("127.0.0.1", server.port);
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const fromRaw: Message[] = [];
  const fromGood: Message[] = [];
  const gone = new Promise<void>((resolve) =>
    server.addEventListener("disconnect", () => resolve(), { once: true })
  );
  const reading = within(
    (async () => {
      for await (const { port, message: msg } of server.withPorts()) {
        if (port.remoteAddr.port === good.localAddr.port) fromGood.push(msg);
        else fromRaw.push(msg);
        if (fromGood.length === 100 && fromRaw.length === expected.length) {
          break;
        }
      }
    })(),
    "every message",
  );
  for (let i = 0; i < 100; i++) {
    await good.send(message("pitchwheel", { pitch: i * 80 - 8000 }));
    if (i % 10 === 0) {
      await raw.write(garbage.subarray(i * 200, (i + 10) * 200));
    }
  }
  raw.close();
  await reading;
  await within(gone, "the garbage client to leave");
  assert.equal(fromRaw.length, expected.length);
  assert.deepEqual(fromRaw, expected);
  assert.deepEqual(
    fromGood,
    Array.from(
      { length: 100 },
      (_, i) => message("pitchwheel", { pitch: i * 80 - 8000 }),
    ),
  );
  assert.equal(server.stats.skippedBytes, oracle.stats.skippedBytes);
  assert.ok(oracle.stats.skippedBytes > 0);
  assert.equal(server.stats.clients, 1);
  assert.equal(server.stats.received, 100 + parsed.length);
  assert.equal(
    server.stats.releasedNotes,
    released.filter((m) => m.type === "note_off").length,
  );
});

Deno.test("PortServer.close() leaves every message its clients' ports had parsed readable", async () => {
  const server = new PortServer("127.0.0.1", 0);
  let parsed = 0;
  server.addEventListener("disconnect", (e) => parsed += e.port.stats.messages);
  const client = await connect("127.0.0.1", server.port);
  assert.equal(server.poll(), undefined); // adopt the clients, pull mode
  const n = 50_000;
  for (let i = 0; i < n; i++) {
    client.send(message("note_on", { note: i % 128 }));
  }
  await client.close();
  await waitFor(() => server.stats.received > 0, "the first message");
  await server.close();
  let readable = 0;
  for (const _ of server.iterPending()) readable++;
  // And the release of the notes it left on, if it left before the close.
  const released = server.stats.releasedNotes;
  assert.equal(readable, parsed + released, "everything parsed is readable");
  assert.equal(server.stats.received, parsed);
});

Deno.test("The first send() reaches clients whose connections the server had not yet picked up", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const clients = await Promise.all(
    Array.from({ length: 8 }, () => connect("127.0.0.1", server.port)),
  );
  try {
    await server.send(message("start")); // no wait for the accepts
    for (const client of clients) {
      assert.deepEqual(await receiveN(client, 1), [message("start")]);
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
});

Deno.test("PortServer.join(transport, { snapshot: false }) skips the late joiners' snapshot for that client only", async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    relay: true,
    snapshot: true,
  });
  assert.equal(server.relay, true);
  await using player = await connect("127.0.0.1", server.port);
  await waitFor(() => server.ports.length === 1, "the player");
  await player.send(message("program_change", { program: 5 }));
  await waitFor(() => server.stats.relayed === 1, "the program change");
  const [quiet, quietEnd] = memoryPair();
  const [synced, syncedEnd] = memoryPair();
  server.join(quiet, { name: "bridge", snapshot: false });
  server.join(synced, { name: "late" });
  await using bridge = new SocketPort(quietEnd);
  await using late = new SocketPort(syncedEnd);
  assert.deepEqual(await receiveN(late, 1), [
    message("program_change", { program: 5 }),
  ]);
  await player.send(message("start"));
  assert.deepEqual(await receiveN(bridge, 1), [message("start")]);
  assert.deepEqual(await receiveN(late, 1), [message("start")]);
});
