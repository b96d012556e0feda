// Copyright 2026 the midisock authors. MIT license.
// The broadcast hub: a message is encoded once for every client, each client
// has a bounded queue, a slow client is disconnected (and counted) or holds
// the sender back, and a client that fails never stops the others.

import assert from "node:assert/strict";
import {
  BroadcastHub,
  connect,
  type Message,
  message,
  type PortEvent,
  PortServer,
  SocketPort,
} from "../mod.ts";
import {
  bigSysex,
  randomMessages,
  readExactly,
  readToEnd,
  receiveN,
  waitFor,
  wire,
  within,
} from "./_net.ts";

const KIB = 1024;

/** The index of the first byte where `got` is not a prefix of `full`, or -1. */
function prefixMismatch(got: Uint8Array, full: Uint8Array): number {
  if (got.length > full.length) return full.length;
  for (let i = 0; i < got.length; i++) if (got[i] !== full[i]) return i;
  return -1;
}

Deno.test("The hub encodes each message once and queues the same bytes for every client", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using a = await connect("127.0.0.1", server.port);
  await using b = await connect("127.0.0.1", server.port);
  await using c = await connect("127.0.0.1", server.port);
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  try {
    await waitFor(() => server.stats.accepted === 4, "4 accepted clients");
    const msgs = randomMessages(0x4b1d, 60);

    // Watch what the hub hands to each client's queue.
    const chunks: Uint8Array[] = [];
    const original = SocketPort.prototype.enqueue;
    SocketPort.prototype.enqueue = function (chunk: Uint8Array) {
      chunks.push(chunk);
      return original.call(this, chunk);
    };
    try {
      for (const msg of msgs) await server.send(msg);
    } finally {
      SocketPort.prototype.enqueue = original;
    }

    assert.equal(server.hub.stats.messages, msgs.length);
    assert.equal(server.hub.stats.deliveries, 4 * msgs.length);
    assert.equal(chunks.length, 4 * msgs.length);
    for (let i = 0; i < msgs.length; i++) {
      const four = chunks.slice(4 * i, 4 * i + 4);
      // One encoding: the very same Uint8Array goes to all four clients.
      assert.ok(four.every((chunk) => chunk === four[0]), `message ${i}`);
      assert.deepEqual(four[0], wire([msgs[i]]));
    }

    for (const client of [a, b, c]) {
      assert.deepEqual(await receiveN(client, msgs.length), msgs);
    }
    const bytes = wire(msgs);
    assert.deepEqual(await readExactly(raw, bytes.length), bytes);
  } finally {
    raw.close();
  }
});

Deno.test("A BroadcastHub of accepted ports sends to each port it holds, and to no other", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using a = await connect("127.0.0.1", server.port);
  await using b = await connect("127.0.0.1", server.port);
  await using peerA = await server.accept();
  await using peerB = await server.accept();
  const [forA, forB] = peerA.remoteAddr.port === a.localAddr.port
    ? [peerA, peerB]
    : [peerB, peerA];

  const hub = new BroadcastHub();
  hub.add(forA);
  hub.add(forB);
  assert.deepEqual(hub.ports, [forA, forB]);
  await hub.send(message("start"));
  assert.equal(hub.delete(forB), true);
  assert.equal(hub.delete(forB), false);
  await ReadableStream.from([message("clock"), message("stop")]).pipeTo(
    hub.writable,
  );
  assert.deepEqual(await receiveN(a, 3), [
    message("start"),
    message("clock"),
    message("stop"),
  ]);
  assert.deepEqual(await receiveN(b, 1), [message("start")]);
  await forB.send(message("reset"));
  assert.deepEqual(await receiveN(b, 1), [message("reset")], "b got no more");
  assert.deepEqual(hub.stats, {
    messages: 3,
    encodedBytes: 3,
    deliveries: 4,
    slowClients: 0,
    droppedBytes: 0,
  });
});

Deno.test("BroadcastHub checks its options and what is added to it", async () => {
  assert.throws(() => new BroadcastHub({ maxQueuedBytes: 0 }), {
    name: "RangeError",
    message:
      "Invalid maxQueuedBytes option: expected a positive integer, got 0",
  });
  assert.throws(() => new BroadcastHub({ maxQueuedBytes: 1.5 }), RangeError);
  assert.throws(
    () => new BroadcastHub({ slowClient: "drop" as "wait" }),
    {
      name: "RangeError",
      message:
        'Invalid slowClient option: expected "disconnect" or "wait", got "drop"',
    },
  );
  const hub = new BroadcastHub();
  assert.throws(() => hub.add({} as SocketPort), {
    name: "TypeError",
    message:
      "Cannot add to the hub: expected a port (a HubClient, such as a SocketPort)",
  });
  await assert.rejects(hub.send({ type: "note_on", note: 200 } as Message), {
    name: "RangeError",
    message: "Invalid note_on note: expected an integer in 0..127, got 200",
  });
  assert.equal(hub.stats.messages, 0);
});

Deno.test("A bad message given to the server's send() rejects and reaches no client", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using a = await connect("127.0.0.1", server.port);
  await waitFor(() => server.stats.accepted === 1, "the client");
  await assert.rejects(
    server.send({ type: "sysex", data: [0xf0] } as unknown as Message),
    {
      name: "RangeError",
      message: "Invalid sysex data[0]: expected an integer in 0..127, got 240",
    },
  );
  await assert.rejects(server.send({ type: "nope" } as unknown as Message), {
    name: "TypeError",
  });
  await server.send(message("song_select", { song: 5 }));
  assert.deepEqual(await receiveN(a, 1), [message("song_select", { song: 5 })]);
  assert.equal(server.hub.stats.messages, 1);
  assert.equal(server.hub.stats.deliveries, 1);
  assert.equal(a.poll(), undefined);
});

Deno.test('A client that never reads is disconnected (slowClient "disconnect"); two others receive everything in order', async () => {
  const max = 64 * KIB;
  const size = 16 * KIB; // sysex data; each message is size + 2 bytes
  await using server = new PortServer("127.0.0.1", 0, {
    maxQueuedBytes: max,
  });
  const slow = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await using a = await connect("127.0.0.1", server.port);
  await using b = await connect("127.0.0.1", server.port);
  await waitFor(() => server.stats.accepted === 3, "3 accepted clients");

  const events: PortEvent[] = [];
  const disconnects: number[] = [];
  server.addEventListener("slowclient", (event) => events.push(event));
  server.addEventListener(
    "disconnect",
    (event) => disconnects.push(event.port.remoteAddr.port),
  );

  // The kernel's buffers take a few MiB first: send until the slow client
  // is cut off (at most 64 MiB), then a few more.
  const sent: Message[] = [];
  let more = 10;
  for (let i = 0; i < 4096 && more > 0; i++) {
    const msg = bigSysex(size, i);
    await server.send(msg);
    sent.push(msg);
    // Paced by the clients that read, as a live source would be.
    assert.deepEqual(await receiveN(a, 1), [msg]);
    assert.deepEqual(await receiveN(b, 1), [msg]);
    if (server.stats.slowClients > 0) more--;
  }
  assert.equal(more, 0, "the slow client was disconnected");

  // The event fires once the client is closed: its write in flight is given
  // closeTimeout to finish, so that it is cut on a message boundary.
  await waitFor(() => events.length > 0, "the slowclient event");
  assert.equal(events.length, 1);
  const [event] = events;
  assert.equal(event.type, "slowclient");
  assert.equal(event.port.remoteAddr.port, slow.localAddr.port);
  assert.equal(event.port.closed, true);
  assert.ok(event.droppedBytes > 0);
  // Its queue, and the message it had no room for.
  assert.ok(
    event.droppedBytes <= max + size + 2,
    `${event.droppedBytes} <= ${max} + ${size + 2}`,
  );
  assert.equal(server.stats.slowClients, 1);
  assert.equal(server.stats.droppedBytes, event.droppedBytes);
  assert.equal(server.hub.stats.slowClients, 1);
  assert.equal(server.hub.stats.droppedBytes, event.droppedBytes);
  assert.equal(server.hub.stats.messages, sent.length);
  assert.equal(a.poll(), undefined);
  assert.equal(b.poll(), undefined);
  await waitFor(() => server.stats.clients === 2, "2 clients left");
  assert.deepEqual(disconnects, [slow.localAddr.port]);
  assert.deepEqual(
    server.ports.map((p) => p.remoteAddr.port).sort(),
    [a.localAddr.port, b.localAddr.port].sort(),
  );

  // The slow client gets a prefix of the stream and then end of stream;
  // what it was given and did not get is what was counted as dropped.
  const toSlow = server.hub.stats.deliveries - 2 * sent.length;
  assert.ok(toSlow > 0 && toSlow < sent.length);
  const got = await readToEnd(slow);
  const queued = toSlow * (size + 2);
  assert.equal(prefixMismatch(got, wire(sent.slice(0, toSlow))), -1);
  assert.ok(got.length <= queued);
  assert.ok(
    got.length + event.droppedBytes >= queued,
    `${got.length} received + ${event.droppedBytes} dropped >= ${queued} queued`,
  );
});

/** A source that broadcasts big sysex messages until it is stopped. */
class Source {
  readonly sent: Message[] = [];
  stopped = false;
  readonly done: Promise<void>;

  constructor(server: PortServer, size: number, limit: number) {
    this.done = (async () => {
      for (let i = 0; i < limit && !this.stopped; i++) {
        const msg = bigSysex(size, i);
        this.sent.push(msg);
        await server.send(msg);
      }
    })();
  }
}

/**
 * Waits until the source is held back by a full queue: the port's queue is
 * full and no send has completed over several checks in a row.
 */
async function waitUntilHeldBack(
  source: Source,
  port: () => SocketPort | undefined,
  full: number,
): Promise<void> {
  let last = -1;
  let still = 0;
  await waitFor(() => {
    const queued = port()?.stats.queuedBytes ?? 0;
    still = queued > full && source.sent.length === last ? still + 1 : 0;
    last = source.sent.length;
    return still >= 5;
  }, `the source to be held back (sent ${source.sent.length})`);
}

/** The server's port for a raw client, once the server adopts it. */
function peerOf(
  server: PortServer,
  conn: Deno.Conn,
): () => SocketPort | undefined {
  let peer: SocketPort | undefined;
  server.addEventListener("connect", (event) => {
    if (event.port.remoteAddr.port === (conn.localAddr as Deno.NetAddr).port) {
      peer = event.port;
    }
  });
  return () => peer;
}

Deno.test('slowClient "wait" holds the sender back while a client does not read, and loses nothing', async () => {
  const max = 64 * KIB;
  const size = 16 * KIB;
  await using server = new PortServer("127.0.0.1", 0, {
    maxQueuedBytes: max,
    slowClient: "wait",
  });
  const paused = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.port,
  });
  const pausedPeer = peerOf(server, paused);
  await using fast = await connect("127.0.0.1", server.port);
  await waitFor(() => server.stats.accepted === 2, "2 accepted clients");

  // 64 MiB in all: more than any kernel buffers a client that does not read.
  const limit = 4096;
  const source = new Source(server, size, limit);
  // The fast client keeps up with the sender while the paused one holds it
  // back, so it reads what has arrived until the sender is done.
  let finished = false;
  const receiving = (async () => {
    const got: Message[] = [];
    const deadline = Date.now() + 15_000;
    while (!finished || got.length < source.sent.length) {
      if (Date.now() > deadline) throw new Error("The fast client timed out");
      const msg = fast.poll();
      if (msg) got.push(msg);
      else await new Promise((r) => setTimeout(r, 1));
    }
    return got;
  })();
  let reading: Promise<Uint8Array> | undefined;
  try {
    await waitUntilHeldBack(source, pausedPeer, max - size - 2);
    assert.ok(source.sent.length < limit);
  } finally {
    source.stopped = true;
    // Now it reads: everything arrives, and the sender finishes.
    reading = readToEnd(paused);
  }
  await within(source.done, "the sender to finish");
  finished = true;
  assert.deepEqual(await within(receiving, "the fast client"), source.sent);
  await server.close();
  const bytes = await reading;
  const expected = wire(source.sent);
  assert.equal(bytes.length, expected.length);
  assert.equal(prefixMismatch(bytes, expected), -1);
  assert.equal(server.stats.slowClients, 0);
  assert.equal(server.stats.droppedBytes, 0);
  assert.equal(server.hub.stats.deliveries, 2 * source.sent.length);
});

Deno.test('slowClient "wait": a stalled client that resets releases the sender, and the others get everything', async () => {
  const max = 64 * KIB;
  const size = 16 * KIB;
  await using server = new PortServer("127.0.0.1", 0, {
    maxQueuedBytes: max,
    slowClient: "wait",
  });
  const stalled = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.port,
  });
  const stalledPeer = peerOf(server, stalled);
  await using fast = await connect("127.0.0.1", server.port);
  await waitFor(() => server.stats.accepted === 2, "2 accepted clients");

  const source = new Source(server, size, 4096);
  const got: Message[] = [];
  const receiving = (async () => {
    while (!source.stopped || got.length < source.sent.length) {
      got.push(...await receiveN(fast, 1));
    }
  })();
  let heldBack = 0;
  try {
    await waitUntilHeldBack(source, stalledPeer, max - size - 2);
    heldBack = source.sent.length;
  } finally {
    // Closing with unread data resets the connection.
    stalled.close();
  }
  // The source goes on: let it send 50 more, then stop.
  await waitFor(
    () => source.sent.length >= heldBack + 50,
    "the source to go on",
  );
  source.stopped = true;
  await within(source.done, "the source to finish");
  await within(receiving, "the fast client");
  assert.deepEqual(got, source.sent);
  await waitFor(() => server.stats.clients === 1, "the stalled client to go");
  assert.equal(server.stats.slowClients, 0);
  assert.deepEqual(server.hub.ports, server.ports);
  assert.equal(server.hub.ports.length, 1);
});

for (const slowClient of ["disconnect", "wait"] as const) {
  Deno.test(`A client that resets or leaves mid-stream never stops delivery to the others (slowClient "${slowClient}")`, async () => {
    await using server = new PortServer("127.0.0.1", 0, { slowClient });
    await using a = await connect("127.0.0.1", server.port);
    await using b = await connect("127.0.0.1", server.port);
    const resetter = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    let resetterOpen = true;
    await using leaver = await connect("127.0.0.1", server.port);
    try {
      await waitFor(() => server.stats.accepted === 4, "4 accepted clients");
      let gone = 0;
      server.addEventListener("disconnect", () => gone++);

      const msgs = Array.from({ length: 300 }, (_, i) => bigSysex(1000, i));
      for (let i = 0; i < msgs.length; i++) {
        await server.send(msgs[i]);
        if (i % 10 === 9) {
          // Keep pace with the clients that read.
          assert.deepEqual(await receiveN(a, 10), msgs.slice(i - 9, i + 1));
          assert.deepEqual(await receiveN(b, 10), msgs.slice(i - 9, i + 1));
        }
        if (i === 100) {
          // Unread data in its buffer: closing it resets the connection.
          resetter.close();
          resetterOpen = false;
          await leaver.close();
        }
      }
      await waitFor(() => gone === 2, "the two failed clients to go");
      assert.equal(server.stats.clients, 2);
      assert.equal(server.stats.slowClients, 0);
      assert.equal(server.hub.stats.messages, msgs.length);
      await server.send(message("stop"));
      assert.deepEqual(await receiveN(a, 1), [message("stop")]);
      assert.deepEqual(await receiveN(b, 1), [message("stop")]);
    } finally {
      if (resetterOpen) resetter.close();
    }
  });
}

Deno.test('slowClient "wait" sends calls that are not awaited in order', async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    slowClient: "wait",
    maxQueuedBytes: 4 * KIB,
  });
  await using a = await connect("127.0.0.1", server.port);
  await using b = await connect("127.0.0.1", server.port);
  await waitFor(() => server.stats.accepted === 2, "2 accepted clients");
  const msgs = Array.from({ length: 200 }, (_, i) => bigSysex(100 + i, i));
  const receivedA = receiveN(a, msgs.length);
  const receivedB = receiveN(b, msgs.length);
  await within(Promise.all(msgs.map((m) => server.send(m))), "200 sends");
  assert.deepEqual(await receivedA, msgs);
  assert.deepEqual(await receivedB, msgs);
  assert.equal(server.stats.droppedBytes, 0);
});

Deno.test("BroadcastHub holds a fast sender back instead of cutting off clients that read", async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    maxQueuedBytes: 64 * 1024,
  });
  await using a = await connect("127.0.0.1", server.port);
  await using b = await connect("127.0.0.1", server.port);
  const deadline = Date.now() + 10_000;
  while (server.stats.accepted < 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1));
  }
  const count = 400; // 400 KiB in one burst, over six times the queue bound
  const msgs = Array.from(
    { length: count },
    (_, i) => message("sysex", { data: new Uint8Array(1024).fill(i & 127) }),
  );
  const reading = [a, b].map(async (client) => {
    let n = 0;
    for await (const msg of client) {
      assert.equal(msg.type, "sysex");
      assert.equal((msg as { data: Uint8Array }).data[0], n & 127);
      if (++n === count) break;
    }
    return n;
  });
  await ReadableStream.from(msgs).pipeTo(server.writable);
  assert.deepEqual(await Promise.all(reading), [count, count]);
  assert.equal(server.stats.slowClients, 0);
  assert.equal(server.hub.stats.deliveries, 2 * count);
});
