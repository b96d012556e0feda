// Copyright 2026 the midisock authors. MIT license.
// SocketPort over loopback: both ends of a connection behave as normal ports
// (mido's SocketPort), close for real, and name themselves in their errors.

import assert from "node:assert/strict";
import {
  connect,
  type Message,
  message,
  PortClosedError,
  PortServer,
  type SocketPort,
} from "../mod.ts";
import {
  PANIC,
  pollN,
  readToEnd,
  receiveN,
  RESET,
  waitFor,
  wire,
  within,
} from "./_net.ts";

const NOTES: readonly Message[] = [
  message("note_on", { channel: 2, note: 60, velocity: 100 }),
  message("control_change", { channel: 15, control: 7, value: 127 }),
  message("sysex", { data: [0x7e, 0x7f, 0x09, 0x01] }),
  message("pitchwheel", { channel: 1, pitch: -8192 }),
  message("note_off", { channel: 2, note: 60, velocity: 0 }),
];

Deno.test("A connected port and its accepted peer send and receive both ways", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();

  for (const msg of NOTES) await client.send(msg);
  assert.deepEqual(await receiveN(peer, NOTES.length), NOTES);

  const back = [message("clock"), message("song_select", { song: 9 })];
  for (const msg of back) await peer.send(msg);
  assert.deepEqual(await receiveN(client, back.length), back);

  assert.equal(client.stats.sent, NOTES.length);
  assert.equal(peer.stats.sent, back.length);
  assert.equal(peer.stats.messages, NOTES.length);
  assert.equal(client.stats.messages, back.length);
  await waitFor(
    () => client.stats.writtenBytes === wire(NOTES).length,
    "the client to write every byte",
  );
  assert.equal(client.stats.queuedBytes, 0);
  assert.equal(client.stats.droppedBytes, 0);
  assert.equal(peer.stats.writtenBytes, wire(back).length);
});

Deno.test("SocketPort.poll() returns undefined at once when nothing has arrived, then each message", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();

  assert.equal(peer.poll(), undefined);
  assert.equal(client.poll(), undefined);
  for (const msg of NOTES) await client.send(msg);
  assert.deepEqual(await pollN(peer, NOTES.length), NOTES);
  assert.equal(peer.poll(), undefined);
});

Deno.test("SocketPort.iterPending() yields the messages that have arrived, then stops without waiting", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();

  assert.deepEqual([...peer.iterPending()], []);
  for (const msg of NOTES) await client.send(msg);
  // A marker that tells when everything before it has arrived.
  await client.send(message("stop"));
  const seen: Message[] = [];
  await waitFor(() => {
    seen.push(...peer.iterPending());
    return seen.at(-1)?.type === "stop";
  }, "the stop marker");
  assert.deepEqual(seen, [...NOTES, message("stop")]);
  assert.deepEqual([...peer.iterPending()], []);
});

Deno.test("for await over a SocketPort yields each message; break leaves the port open for receive()", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();

  for (const msg of NOTES) await peer.send(msg);
  const seen: Message[] = [];
  await within(
    (async () => {
      for await (const msg of client) {
        seen.push(msg);
        if (seen.length === 3) break;
      }
    })(),
    "3 messages by iteration",
  );
  assert.deepEqual(seen, NOTES.slice(0, 3));
  assert.equal(client.closed, false);
  assert.deepEqual(await receiveN(client, 2), NOTES.slice(3));
});

Deno.test("SocketPort.reset() sends mido's 32 messages: control 123 then 121 on each channel", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();

  await client.reset();
  const got = await receiveN(peer, 32);
  assert.deepEqual(got, RESET);
  assert.deepEqual(got.slice(0, 4), [
    message("control_change", { channel: 0, control: 123, value: 0 }),
    message("control_change", { channel: 0, control: 121, value: 0 }),
    message("control_change", { channel: 1, control: 123, value: 0 }),
    message("control_change", { channel: 1, control: 121, value: 0 }),
  ]);
  assert.equal(client.stats.sent, 32);

  await peer.reset();
  assert.deepEqual(await receiveN(client, 32), RESET);
});

Deno.test("SocketPort.panic() sends control 120 on each of the 16 channels", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();

  await peer.panic();
  const got = await receiveN(client, 16);
  assert.deepEqual(got, PANIC);
  assert.deepEqual(
    got.map((m) => m.type === "control_change" && [m.channel, m.control]),
    Array.from({ length: 16 }, (_, channel) => [channel, 120]),
  );
  assert.equal(peer.stats.sent, 16);
});

Deno.test("reset() and panic() put mido's exact bytes on the wire, with no running status", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const port = await connect("127.0.0.1", listener.addr.port);
  const raw = await accepted;
  await port.reset();
  await port.panic();
  await port.close();
  const expected: number[] = [];
  for (let ch = 0; ch < 16; ch++) {
    expected.push(0xb0 | ch, 123, 0, 0xb0 | ch, 121, 0);
  }
  for (let ch = 0; ch < 16; ch++) expected.push(0xb0 | ch, 120, 0);
  assert.deepEqual(await readToEnd(raw), new Uint8Array(expected));
});

Deno.test("reset() and panic() on a closed port send nothing and resolve", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port);
  await client.close();
  await client.reset();
  await client.panic();
  assert.equal(client.stats.sent, 0);
});

Deno.test("close() ends the peer's iteration quietly after the messages sent before it", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();

  for (const msg of NOTES) await client.send(msg);
  await client.close();
  assert.equal(client.closed, true);
  const seen = await within(
    Array.fromAsync(peer),
    "the peer's iteration to end",
  );
  assert.deepEqual(seen, NOTES);
  assert.equal(peer.closed, true);
});

Deno.test("close() of an accepted port ends the client's iteration quietly", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  const peer = await server.accept();

  await peer.send(message("start"));
  await peer.close();
  const seen = await within(Array.fromAsync(client), "the client's iteration");
  assert.deepEqual(seen, [message("start")]);
  assert.equal(client.closed, true);
});

Deno.test("close() of a connect()ed port makes a raw peer read its bytes, then end of stream", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const port = await connect("127.0.0.1", listener.addr.port);
  const raw = await accepted;
  for (const msg of NOTES) await port.send(msg);
  await port.close();
  assert.deepEqual(await readToEnd(raw), wire(NOTES));
});

Deno.test("close() of an accepted port makes a raw client read its bytes, then end of stream", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const peer = await server.accept();
  for (const msg of NOTES) await peer.send(msg);
  await peer.close();
  assert.deepEqual(await readToEnd(raw), wire(NOTES));
});

Deno.test("send() and receive() on a closed port reject with a PortClosedError that names the port", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port);
  const name = `127.0.0.1:${server.port}`;
  assert.equal(client.name, name);
  await client.close();
  await client.close(); // twice is harmless

  const sendError = await client.send(message("note_on", { note: 60 })).then(
    () => assert.fail("send() on a closed port resolved"),
    (error) => error,
  );
  assert.ok(sendError instanceof PortClosedError);
  assert.equal(sendError.name, "PortClosedError");
  assert.equal(
    sendError.message,
    `Cannot send note_on: port ${name} is closed`,
  );
  assert.equal(sendError.port, name);

  await assert.rejects(client.receive(), (error) => {
    assert.ok(error instanceof PortClosedError);
    assert.equal(error.message, `Cannot receive: port ${name} is closed`);
    assert.equal(error.port, name);
    return true;
  });
  assert.equal(client.poll(), undefined);
  assert.deepEqual([...client.iterPending()], []);
  assert.deepEqual(await Array.fromAsync(client), []);
});

Deno.test("receive() on a port whose peer went away gives the last messages, then a PortClosedError", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();
  const name = `127.0.0.1:${client.localAddr.port}`;
  assert.equal(peer.name, name);

  await client.send(message("start"));
  await client.send(message("stop"));
  await client.close();
  assert.deepEqual(await receiveN(peer, 2), [
    message("start"),
    message("stop"),
  ]);
  await assert.rejects(peer.receive({ signal: AbortSignal.timeout(15_000) }), {
    name: "PortClosedError",
    message: `Cannot receive: port ${name} is closed`,
  });
  assert.equal(peer.closed, true);
  await assert.rejects(peer.send(message("clock")), {
    name: "PortClosedError",
    message: `Cannot send clock: port ${name} is closed`,
  });
});

Deno.test("A port whose peer left says closed only once every message has been polled, even more than its inbox holds", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();

  // More messages than the port's inbox holds (1024), then the peer leaves.
  const sent = Array.from(
    { length: 3000 },
    (_, i) => message("note_on", { channel: i % 16, note: i % 128 }),
  );
  for (const msg of sent) await client.send(msg);
  await client.close();

  const got: Message[] = [];
  let polls = 0;
  await waitFor(() => {
    got.push(...peer.iterPending());
    polls++;
    return peer.closed;
  }, `the peer to say closed (got ${got.length})`);
  assert.ok(polls > 0);
  assert.equal(got.length, sent.length);
  assert.deepEqual(got, sent);
  assert.deepEqual([...peer.iterPending()], []);
});

Deno.test("Messages that arrived before close() can still be read after it", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  const peer = await server.accept();

  for (const msg of NOTES) await client.send(msg);
  assert.deepEqual(await peer.receive(), NOTES[0]);
  await waitFor(
    () => peer.stats.messages === NOTES.length,
    "every message to arrive",
  );
  await peer.close();
  assert.equal(peer.closed, true);
  assert.deepEqual(await peer.receive(), NOTES[1]);
  assert.deepEqual(peer.poll(), NOTES[2]);
  assert.deepEqual([...peer.iterPending()], NOTES.slice(3));
  assert.equal(peer.poll(), undefined);
  await assert.rejects(peer.receive(), PortClosedError);
});

Deno.test("A receive() that waits rejects with PortClosedError when its port or server closes", async () => {
  const server = new PortServer("127.0.0.1", 0);
  const serverName = `127.0.0.1:${server.port}`;
  const client = await connect("127.0.0.1", server.port);
  const clientWaits = assert.rejects(client.receive(), {
    name: "PortClosedError",
    message: `Cannot receive: port ${client.name} is closed`,
  });
  const serverWaits = assert.rejects(server.receive(), {
    name: "PortClosedError",
    message: `Cannot receive: port ${serverName} is closed`,
  });
  await client.close();
  await within(clientWaits, "the client's receive() to fail");
  await server.close();
  await within(serverWaits, "the server's receive() to fail");
});

Deno.test("receive() stops waiting when its signal aborts, and the port still works", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();

  const controller = new AbortController();
  const waiting = peer.receive({ signal: controller.signal });
  controller.abort(new Error("gave up"));
  await assert.rejects(waiting, { message: "gave up" });
  await client.send(message("continue"));
  assert.deepEqual(await receiveN(peer, 1), [message("continue")]);
});

Deno.test("await using closes the ports and the server at the end of the block", async () => {
  let server: PortServer;
  let client: SocketPort;
  let peer: SocketPort;
  {
    await using s = new PortServer("127.0.0.1", 0);
    await using c = await connect("127.0.0.1", s.port);
    await using p = await s.accept();
    [server, client, peer] = [s, c, p];
    assert.equal(server.closed, false);
    assert.equal(client.closed, false);
    assert.equal(peer.closed, false);
  }
  assert.equal(server.closed, true);
  assert.equal(client.closed, true);
  assert.equal(peer.closed, true);
  await assert.rejects(connect("127.0.0.1", server.port), {
    name: "ConnectionRefused",
  });
});

Deno.test("SocketPort asks for TCP_NODELAY on both ends by default, and not with noDelay: false", async () => {
  // Deno cannot read the socket option back, so watch the call that sets it.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const probe = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  (await accepted).close();
  let owner = Object.getPrototypeOf(probe);
  probe.close();
  while (owner !== null && !Object.hasOwn(owner, "setNoDelay")) {
    owner = Object.getPrototypeOf(owner);
  }
  assert.ok(owner, "Deno's TcpConn has a setNoDelay method");
  const original = owner.setNoDelay;
  const calls: [number, boolean | undefined][] = [];
  owner.setNoDelay = function (this: Deno.TcpConn, noDelay?: boolean) {
    calls.push([(this.localAddr as Deno.NetAddr).port, noDelay]);
    return original.call(this, noDelay);
  };
  try {
    await using server = new PortServer("127.0.0.1", 0);
    await using client = await connect("127.0.0.1", server.port);
    await using peer = await server.accept();
    // The server may accept before connect() resolves: compare as sets.
    assert.deepEqual(
      calls.toSorted((a, b) => a[0] - b[0]),
      [[client.localAddr.port, true], [server.port, true]]
        .toSorted((a, b) => (a[0] as number) - (b[0] as number)),
    );
    calls.length = 0;
    await using quiet = await connect("127.0.0.1", server.port, {
      noDelay: false,
    });
    await using quietPeer = await server.accept();
    // Only the server's end, which has the default, asks for it.
    assert.deepEqual(calls, [[server.port, true]]);
    assert.equal(quietPeer.remoteAddr.port, quiet.localAddr.port);

    // Small messages make many round trips, one at a time.
    for (let i = 0; i < 200; i++) {
      const msg = message("note_on", { note: i & 0x7f, velocity: 1 });
      await client.send(msg);
      const echo = await peer.receive({ signal: AbortSignal.timeout(15_000) });
      assert.deepEqual(echo, msg);
      await peer.send(echo);
      assert.deepEqual(
        await client.receive({ signal: AbortSignal.timeout(15_000) }),
        msg,
      );
    }
    assert.equal(quiet.closed, false);
  } finally {
    owner.setNoDelay = original;
  }
});

Deno.test("Reading a port through readable and through receive() at once throws TypeError", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();

  const readable = peer.readable;
  assert.equal(peer.readable, readable, "readable is one stream");
  const busy = `port ${peer.name} is being read through its readable`;
  await assert.rejects(peer.receive(), {
    name: "TypeError",
    message: `Cannot receive: ${busy}`,
  });
  assert.throws(() => peer.poll(), {
    name: "TypeError",
    message: `Cannot poll: ${busy}`,
  });
  assert.throws(() => [...peer.iterPending()], TypeError);
  await assert.rejects(
    (async () => {
      for await (const _ of peer) break;
    })(),
    { name: "TypeError", message: `Cannot iterate: ${busy}` },
  );

  assert.equal(client.poll(), undefined);
  assert.throws(() => client.readable, {
    name: "TypeError",
    message: `Cannot use the readable of port ${client.name}: ` +
      "it is being read with receive(), poll() or iteration",
  });

  // The readable still works.
  await client.send(message("start"));
  const reader = readable.getReader();
  assert.deepEqual(
    await within(reader.read(), "a message through readable"),
    { done: false, value: message("start") },
  );
  reader.releaseLock();
});

Deno.test("A bad message passed to send() rejects and sends nothing; the next good one arrives alone", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();

  const bad: [unknown, string, string][] = [
    [
      { type: "note_on", channel: 0, note: 128, velocity: 64 },
      "RangeError",
      "Invalid note_on note: expected an integer in 0..127, got 128",
    ],
    [
      { type: "note_on", note: 1.5 },
      "TypeError",
      "Invalid note_on note: expected an integer in 0..127, got 1.5",
    ],
    [
      { type: "control_change", channel: 16, control: 1, value: 1 },
      "RangeError",
      "Invalid control_change channel: expected an integer in 0..15, got 16",
    ],
    [
      { type: "pitchwheel", channel: 0, pitch: 8192 },
      "RangeError",
      "Invalid pitchwheel pitch: expected an integer in -8192..8191, got 8192",
    ],
    [
      { type: "sysex", data: [1, 0xf7] },
      "RangeError",
      "Invalid sysex data[1]: expected an integer in 0..127, got 247",
    ],
    [
      { type: "start", foo: 1 },
      "TypeError",
      'Unknown start field "foo": it has no fields but time',
    ],
    [{ type: "bogus" }, "TypeError", 'Unknown message type "bogus"'],
    [
      null,
      "TypeError",
      "Invalid message: expected an object with a type, got null",
    ],
  ];
  for (const [msg, name, text] of bad) {
    await assert.rejects(client.send(msg as Message), (error) => {
      assert.ok(error instanceof Error);
      assert.equal(error.name, name);
      assert.ok(
        error.message.startsWith(text),
        `${error.message} starts with ${text}`,
      );
      return true;
    });
  }
  assert.equal(client.stats.sent, 0);
  assert.equal(client.closed, false);

  const good = message("note_on", { channel: 3, note: 64, velocity: 1 });
  await client.send(good);
  await client.close();
  assert.deepEqual(await within(Array.fromAsync(peer), "the peer's end"), [
    good,
  ]);
  assert.equal(client.stats.writtenBytes, 3);
  assert.equal(peer.stats.skippedBytes, 0);
});

Deno.test("connect() to a port where nothing listens fails with an error that names host:port", async () => {
  const server = new PortServer("127.0.0.1", 0);
  const port = server.port;
  await server.close();
  await assert.rejects(connect("127.0.0.1", port), (error) => {
    assert.ok(error instanceof Deno.errors.ConnectionRefused);
    assert.equal(
      error.message,
      `Cannot connect to 127.0.0.1:${port}: connection refused`,
    );
    return true;
  });
  await assert.rejects(connect("localhost", port), {
    name: "ConnectionRefused",
    message: `Cannot connect to localhost:${port}: connection refused`,
  });
});

Deno.test("connect() rejects a port number out of range with a RangeError", async () => {
  for (const bad of [0, -1, 65536, 1.5, NaN]) {
    await assert.rejects(connect("127.0.0.1", bad), {
      name: "RangeError",
      message:
        `Invalid port for "127.0.0.1": expected an integer in 1..65535, got ${bad}`,
    });
  }
});

Deno.test("connect() gives up when its signal aborts", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    connect("127.0.0.1", server.port, { signal: controller.signal }),
    { name: "AbortError" },
  );
});

Deno.test("A port's writable sends what is written and closes the port when it closes", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();

  await ReadableStream.from(NOTES).pipeTo(client.writable);
  assert.equal(client.closed, true);
  assert.deepEqual(
    await within(Array.fromAsync(peer), "the peer's end"),
    NOTES,
  );
});

Deno.test("A port named by its options keeps that name in its errors", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port, { name: "synth" });
  assert.equal(client.name, "synth");
  await client.close();
  await assert.rejects(client.send(message("stop")), {
    name: "PortClosedError",
    message: "Cannot send stop: port synth is closed",
  });
});

Deno.test("A port's iterator serves overlapping next() calls in order, and return() ends it", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();
  const it = peer[Symbol.asyncIterator]();
  const first = it.next();
  const second = it.next();
  await client.send(message("start"));
  await client.send(message("stop"));
  assert.deepEqual(await first, { done: false, value: message("start") });
  assert.deepEqual(await second, { done: false, value: message("stop") });
  assert.deepEqual(await it.return!(), { done: true, value: undefined });
  assert.deepEqual(await it.next(), { done: true, value: undefined });
});
