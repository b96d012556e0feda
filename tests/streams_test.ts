// Copyright 2026 the midisock authors. MIT license.
// Ports and servers as Web Streams: pipeTo, pipeThrough, chains of hops, and
// backpressure through a port's writable.

import assert from "node:assert/strict";
import { connect, type Message, message, PortServer } from "../mod.ts";
import {
  bigSysex,
  randomMessages,
  readToEnd,
  receiveN,
  waitFor,
  wire,
  within,
} from "./_net.ts";

Deno.test("client.readable.pipeTo(server.writable) relays what the client receives to every client of the server", async () => {
  await using source = new PortServer("127.0.0.1", 0);
  const relay = await connect("127.0.0.1", source.port);
  const player = await source.accept();

  await using hall = new PortServer("127.0.0.1", 0);
  await using d1 = await connect("127.0.0.1", hall.port);
  await using d2 = await connect("127.0.0.1", hall.port);
  await waitFor(() => hall.stats.accepted === 2, "2 listeners");

  const piping = relay.readable.pipeTo(hall.writable);
  const msgs = randomMessages(0x9195, 100);
  for (const msg of msgs) await player.send(msg);
  await player.close(); // the relay's readable ends, and so does the pipe
  await within(piping, "the pipe to end");

  assert.deepEqual(await receiveN(d1, msgs.length), msgs);
  assert.deepEqual(await receiveN(d2, msgs.length), msgs);
  assert.equal(hall.closed, false, "closing server.writable keeps the server");
  await hall.send(message("stop"));
  assert.deepEqual(await receiveN(d1, 1), [message("stop")]);
  await relay.close();
});

/** Keeps notes only, an octave up. */
function transposeNotes(): TransformStream<Message, Message> {
  return new TransformStream({
    transform(msg, controller) {
      if (msg.type === "note_on" || msg.type === "note_off") {
        const { channel, note, velocity } = msg;
        controller.enqueue(
          message(msg.type, { channel, note: note + 12, velocity }),
        );
      }
    },
  });
}

Deno.test("a.readable.pipeThrough(transform).pipeTo(b.writable) filters and changes messages between two connections", async () => {
  await using first = new PortServer("127.0.0.1", 0);
  const keyboard = await connect("127.0.0.1", first.port);
  await using a = await first.accept();

  await using second = new PortServer("127.0.0.1", 0);
  const b = await connect("127.0.0.1", second.port);
  await using synth = await second.accept();

  const piping = a.readable.pipeThrough(transposeNotes()).pipeTo(b.writable);
  const played = [
    message("note_on", { note: 60, velocity: 90 }),
    message("control_change", { control: 64, value: 127 }),
    message("note_on", { channel: 1, note: 64 }),
    message("clock"),
    message("note_off", { note: 60 }),
    message("sysex", { data: [1, 2, 3] }),
    message("note_off", { channel: 1, note: 64, velocity: 0 }),
  ];
  for (const msg of played) await keyboard.send(msg);
  await keyboard.close();
  await within(piping, "the pipe to end");
  assert.equal(b.closed, true, "the end of the pipe closes b");

  assert.deepEqual(await within(Array.fromAsync(synth), "the synth's end"), [
    message("note_on", { note: 72, velocity: 90 }),
    message("note_on", { channel: 1, note: 76 }),
    message("note_off", { note: 72 }),
    message("note_off", { channel: 1, note: 76, velocity: 0 }),
  ]);
});

Deno.test("A chain of three hops, client -> server1 -> relay -> server2 -> server3 -> client, delivers every message in order", async () => {
  await using server1 = new PortServer("127.0.0.1", 0);
  await using server2 = new PortServer("127.0.0.1", 0);
  await using server3 = new PortServer("127.0.0.1", 0);
  await using player = await connect("127.0.0.1", server1.port);
  const relay = await connect("127.0.0.1", server2.port);
  await using listener = await connect("127.0.0.1", server3.port);
  await waitFor(() => server3.stats.accepted === 1, "the listener");

  const hop12 = server1.readable.pipeTo(relay.writable);
  const hop23 = server2.readable.pipeTo(server3.writable);

  const msgs = randomMessages(0x3b0b, 500);
  for (const msg of msgs) await player.send(msg);
  assert.deepEqual(await receiveN(listener, msgs.length), msgs);
  assert.equal(server1.stats.received, msgs.length);
  assert.equal(server2.stats.received, msgs.length);
  assert.equal(server3.hub.stats.messages, msgs.length);

  // Closing each server ends its readable, and so the pipe out of it.
  await server1.close();
  await within(hop12, "the first pipe to end");
  assert.equal(relay.closed, true);
  await server2.close();
  await within(hop23, "the second pipe to end");
  assert.equal(server3.closed, false);
});

Deno.test("server.readable merges the messages of every client, in order within each", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using a = await connect("127.0.0.1", server.port);
  await using b = await connect("127.0.0.1", server.port);
  const fromA = Array.from(
    { length: 50 },
    (_, i) => message("note_on", { note: i }),
  );
  const fromB = Array.from(
    { length: 50 },
    (_, i) => message("polytouch", { channel: 5, note: i, value: 127 - i }),
  );
  const reader = server.readable.getReader();
  for (let i = 0; i < 50; i++) {
    await a.send(fromA[i]);
    await b.send(fromB[i]);
  }
  const merged: Message[] = [];
  await within(
    (async () => {
      while (merged.length < 100) {
        const { done, value } = await reader.read();
        assert.equal(done, false);
        merged.push(value!);
      }
    })(),
    "100 merged messages",
  );
  reader.releaseLock();
  assert.deepEqual(merged.filter((m) => m.type === "note_on"), fromA);
  assert.deepEqual(merged.filter((m) => m.type === "polytouch"), fromB);
});

Deno.test("Reading a server through readable and through receive() at once throws TypeError", async () => {
  await using streamed = new PortServer("127.0.0.1", 0);
  const readable = streamed.readable;
  assert.equal(streamed.readable, readable, "readable is one stream");
  const busy = `server ${streamed.name} is being read through its readable`;
  await assert.rejects(streamed.receive(), {
    name: "TypeError",
    message: `Cannot receive: ${busy}`,
  });
  await assert.rejects(streamed.receiveWithPort(), TypeError);
  assert.throws(() => streamed.poll(), {
    name: "TypeError",
    message: `Cannot poll: ${busy}`,
  });
  await assert.rejects(
    (async () => {
      for await (const _ of streamed) break;
    })(),
    { name: "TypeError", message: `Cannot iterate: ${busy}` },
  );

  await using pulled = new PortServer("127.0.0.1", 0);
  assert.equal(pulled.poll(), undefined);
  assert.throws(() => pulled.readable, {
    name: "TypeError",
    message: `Cannot use the readable of server ${pulled.name}: ` +
      "it is being read with receive(), poll() or iteration",
  });
});

Deno.test("ReadableStream.pipeTo(server.writable) broadcasts every message, and the server stays open", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using a = await connect("127.0.0.1", server.port);
  await using b = await connect("127.0.0.1", server.port);
  await waitFor(() => server.stats.accepted === 2, "2 clients");
  const msgs = randomMessages(0x91be, 64);
  await ReadableStream.from(msgs).pipeTo(server.writable);
  assert.deepEqual(await receiveN(a, msgs.length), msgs);
  assert.deepEqual(await receiveN(b, msgs.length), msgs);
  assert.equal(server.closed, false);
  await server.send(message("continue"));
  assert.deepEqual(await receiveN(b, 1), [message("continue")]);
});

Deno.test("server.writable and hub.writable take one pipe after another", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using a = await connect("127.0.0.1", server.port);
  await waitFor(() => server.stats.accepted === 1, "the client");
  await ReadableStream.from([message("start")]).pipeTo(server.writable);
  await ReadableStream.from([message("clock")]).pipeTo(server.writable);
  const writer = server.writable.getWriter();
  await writer.write(message("stop"));
  await writer.abort();
  await ReadableStream.from([message("continue")]).pipeTo(server.hub.writable);
  await ReadableStream.from([message("reset")]).pipeTo(server.hub.writable);
  assert.deepEqual(await receiveN(a, 5), [
    message("start"),
    message("clock"),
    message("stop"),
    message("continue"),
    message("reset"),
  ]);
  assert.equal(server.closed, false);
});

Deno.test("Aborting a port's writable closes the port", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();
  const writer = client.writable.getWriter();
  await writer.write(message("start"));
  await writer.abort(new Error("stop it"));
  assert.equal(client.closed, true);
  assert.deepEqual(await within(Array.fromAsync(peer), "the peer's end"), [
    message("start"),
  ]);
});

Deno.test("A pipe into a port's writable is held back while the peer does not read, and loses nothing", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const port = await connect("127.0.0.1", listener.addr.port);
  const raw = await accepted;

  // At most 64 MiB: more than the kernel buffers for a peer that does not
  // read. Once the peer reads, the source sends 20 more and ends.
  const limit = 4096;
  const sent: Message[] = [];
  let last = Infinity;
  const source = new ReadableStream<Message>({
    pull(controller) {
      if (sent.length >= Math.min(limit, last)) return controller.close();
      const msg = bigSysex(16 * 1024, sent.length);
      sent.push(msg);
      controller.enqueue(msg);
    },
  }, { highWaterMark: 0 });
  let piped = false;
  const piping = source.pipeTo(port.writable).then(() => piped = true);

  let reading: Promise<Uint8Array> | undefined;
  try {
    // Held back: nothing more is pulled over several checks in a row.
    let seen = -1;
    let still = 0;
    await waitFor(() => {
      still = sent.length === seen && seen > 0 ? still + 1 : 0;
      seen = sent.length;
      return still >= 5;
    }, `the pipe to be held back (pulled ${sent.length})`);
    assert.ok(sent.length < limit, `${sent.length} < ${limit}`);
    assert.equal(piped, false);
    assert.ok(port.stats.queuedBytes > 0);
  } finally {
    last = sent.length + 20;
    reading = readToEnd(raw);
  }
  await within(piping, "the pipe to end");
  assert.equal(port.closed, true, "the end of the pipe closes the port");
  const bytes = await reading;
  const expected = wire(sent);
  assert.equal(bytes.length, expected.length);
  assert.ok(bytes.every((b, i) => b === expected[i]), "the exact bytes");
  assert.equal(port.stats.droppedBytes, 0);
  assert.equal(port.stats.sent, sent.length);
});

Deno.test("close() sends what a port's writable took, even while the writer is still open", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();
  const writer = client.writable.getWriter();
  const sent = randomMessages(200, 7);
  for (const msg of sent) await writer.write(msg);
  await client.close(); // the writer was never closed
  assert.deepEqual(await within(Array.fromAsync(peer), "the peer's end"), sent);
  assert.equal(client.stats.sent, sent.length);
  await assert.rejects(writer.write(message("start")), {
    name: "PortClosedError",
  });
});

Deno.test("What is written to a port's writable and what is sent go out in the order given", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();
  const writer = client.writable.getWriter();
  await writer.write(message("note_on", { note: 60 }));
  await client.send(message("note_off", { note: 60 }));
  await writer.write(message("note_on", { note: 62 }));
  assert.deepEqual(await receiveN(peer, 3), [
    message("note_on", { note: 60 }),
    message("note_off", { note: 60 }),
    message("note_on", { note: 62 }),
  ]);
  writer.releaseLock();
});

Deno.test("A bad message errors a port's writable, and the messages before it are still sent", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();
  const writer = client.writable.getWriter();
  await writer.write(message("note_off", { note: 60 }));
  await assert.rejects(
    writer.write({ type: "note_on", note: 999 } as never),
    { name: "RangeError" },
  );
  await client.send(message("clock"));
  assert.deepEqual(await receiveN(peer, 2), [
    message("note_off", { note: 60 }),
    message("clock"),
  ]);
});

Deno.test("close() during a pipe into a port whose peer does not read ends after closeTimeout and counts the dropped bytes", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port, {
    closeTimeout: 200,
  });
  await using _peer = await server.accept(); // never reads
  let i = 0;
  const source = new ReadableStream<Message>({
    pull(controller) {
      if (i++ < 8_000_000) {
        controller.enqueue(message("note_on", { note: i % 128 }));
      } else controller.close();
    },
  });
  const piped = source.pipeTo(client.writable).then(
    () => "done",
    (e) => e.name,
  );
  // Stalled once the kernel's buffers are full too: nothing more is written
  // for 100 ms while a queue of at least 128 KiB waits.
  let written = -1;
  let still = 0;
  await waitFor(() => {
    const stats = client.stats;
    still = stats.writtenBytes === written ? still + 1 : 0;
    written = stats.writtenBytes;
    return still >= 40 && stats.queuedBytes >= 128 * 1024;
  }, "a queue held full by a peer that does not read");
  await within(client.close(), "close() to give up after closeTimeout");
  assert.equal(client.closed, true);
  assert.ok(client.stats.droppedBytes > 0, "the unsent bytes are counted");
  assert.equal(await within(piped, "the pipe to end"), "PortClosedError");
});
