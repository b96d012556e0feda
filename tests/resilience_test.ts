// Copyright 2026 the midisock authors. MIT license.
// Resilience: note release, reconnect, dead peers and late joiners, driven
// through a fault-injecting proxy (fixtures/fault_proxy.py) and checked
// with exact counts, against our ports and a real mido peer.

import assert from "node:assert/strict";
import {
  connect,
  formatMessage,
  type Message,
  message,
  PortServer,
  type ReconnectEvent,
  type ReleaseEvent,
  type SocketPort,
} from "../mod.ts";
import { FaultProxy, PyPeer } from "./_py_child.ts";
import { bigSysex, delay, receiveN, waitFor, within } from "./_net.ts";
import { MIDO, PYTHON3 } from "./_peers.ts";

const cc = (channel: number, control: number, value: number) =>
  message("control_change", { channel, control, value });
const on = (channel: number, note: number) =>
  message("note_on", { channel, note, velocity: 100 });
const off = (channel: number, note: number) =>
  message("note_off", { channel, note });

/** The next event of a type, as a promise. */
function next<E extends Event>(
  target: EventTarget,
  type: string,
): Promise<E> {
  return new Promise((resolve) =>
    target.addEventListener(type, (event) => resolve(event as E), {
      once: true,
    })
  );
}

MIDO.test("A player reset with notes on and the pedal down: every other client, ours and mido's, gets exactly its note_offs and CC 64 = 0", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  await using proxy = await FaultProxy.start(server.port);
  await using listener = await connect("127.0.0.1", server.port);
  const played = [
    on(0, 60),
    on(0, 64),
    cc(0, 64, 127),
    on(1, 67),
    off(0, 64),
  ];
  const released = [off(0, 60), off(1, 67), cc(0, 64, 0)];
  const marker = message("start");
  await using mido = new PyPeer([
    "receive",
    "127.0.0.1",
    String(server.port),
    String(played.length + released.length + 1),
  ]);
  assert.equal(await mido.line(), "connected");
  await waitFor(() => server.stats.clients === 2, "two listeners");

  const player = await connect("127.0.0.1", proxy.port, {
    hello: { name: "keys" },
  });
  for (const msg of played) await player.send(msg);
  assert.deepEqual(await receiveN(listener, played.length), played);

  const release = next<ReleaseEvent>(server, "release");
  assert.equal(await proxy.command("reset"), 1);
  const event = await within(release, "the release");
  assert.equal(event.port.name, "keys");
  assert.equal(event.notes, 2);
  assert.equal(event.pedals, 1);
  assert.deepEqual(event.messages, released);
  await server.send(marker);

  // Exactly the release, then the marker: nothing more, nothing less.
  assert.deepEqual(await receiveN(listener, released.length + 1), [
    ...released,
    marker,
  ]);
  assert.deepEqual(
    await mido.rest(),
    [...played, ...released, marker].map(formatMessage),
  );
  assert.equal(server.stats.releasedNotes, 2);
  await player.close();
});

Deno.test("A server restart under a piping client: the pipes go on, and every message is counted as sent, dropped or restored", async () => {
  let server = new PortServer("127.0.0.1", 0);
  const port = server.port;
  const client = await connect("127.0.0.1", port, {
    reconnect: { backoff: () => 20 },
  });
  const events: string[] = [];
  for (const type of ["disconnect", "reconnecting", "reconnect"]) {
    client.addEventListener(type, () => events.push(type));
  }
  // In: a stream we write to, piped into the port. Out: the port's
  // readable, piped into an array.
  const source = new TransformStream<Message, Message>();
  const writer = source.writable.getWriter();
  const piping = source.readable.pipeTo(client.writable);
  const heard: Message[] = [];
  const hearing = client.readable.pipeTo(
    new WritableStream({ write: (msg) => void heard.push(msg) }),
  );

  // Connected: 100 messages each way... well, 100 in, 10 notes out.
  const first = Array.from({ length: 100 }, (_, i) => cc(0, 1, i));
  for (const msg of first) await writer.write(msg);
  const notes = Array.from({ length: 10 }, (_, i) => on(2, 40 + i));
  for (const msg of notes) await server.send(msg);
  assert.deepEqual(await receiveN(server, 100), first);
  await waitFor(() => heard.length === 10, "the server's notes");

  // The server goes away. The client's readers hear the notes released.
  const down = next(client, "disconnect");
  await server.close();
  await within(down, "the disconnect");
  await waitFor(() => heard.length === 20, "the release");
  assert.deepEqual(heard.slice(10), notes.map((m) => off(2, m.note)));

  // Sent while disconnected: 50 dropped, and the last volume is kept.
  for (let i = 0; i < 25; i++) {
    await writer.write(on(0, 60 + i));
    await writer.write(cc(0, 7, i));
  }
  assert.equal(client.stats.dropped, 50);

  // The server comes back on the same port: the client rejoins, and the
  // volume it moved meanwhile goes first.
  server = new PortServer("127.0.0.1", port);
  await within(client.ready(), "the reconnect");
  const second = Array.from({ length: 100 }, (_, i) => cc(0, 2, i));
  for (const msg of second) await writer.write(msg);
  assert.deepEqual(await receiveN(server, 101), [cc(0, 7, 24), ...second]);
  await server.send(on(3, 1));
  await waitFor(() => heard.length === 21, "a note after the restart");

  assert.deepEqual(client.stats, {
    sent: 200,
    dropped: 50,
    restored: 1,
    droppedBytes: 0,
    received: 11,
    reconnects: 1,
    releasedNotes: 10,
    releasedPedals: 0,
  });
  assert.equal(events[0], "disconnect");
  assert.equal(events.at(-1), "reconnect");
  assert.ok(events.includes("reconnecting"));
  assert.equal(client.closed, false);

  // Closing the pipe closes the port, and ends its readable.
  await writer.close();
  await piping;
  await hearing;
  assert.equal(client.closed, true);
  await server.close();
});

PYTHON3.test("A peer that stalls without closing is found by active sensing, cut off, and its notes released", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  await using proxy = await FaultProxy.start(server.port);
  await using listener = await connect("127.0.0.1", server.port);
  const player = await connect("127.0.0.1", proxy.port, {
    activeSensing: 300,
  });
  await player.send(on(0, 60));
  assert.deepEqual(await receiveN(listener, 1), [on(0, 60)]);
  // Active sensing is on both ways: the 0xFE bytes keep the link alive,
  // and no reader ever sees one.
  await waitFor(() => player.stats.activeSensing >= 3, "signs of life");
  const [peer] = server.ports.filter((p) => p.sensing === 300);
  assert.ok(peer, "the player's port on the server has active sensing");

  const gone = next(server, "disconnect");
  const stalledAt = performance.now();
  await proxy.command("stall");
  const released = await within(receiveN(listener, 1), "the release");
  const found = performance.now() - stalledAt;
  assert.deepEqual(released, [off(0, 60)]);
  await within(gone, "the disconnect");
  assert.match(String(peer.error), /Active sensing timed out: nothing from/);
  // Dead after 300 ms of silence, and the last sign of life came at most
  // two ticks (150 ms) before the stall.
  assert.ok(found >= 150, `found ${found} ms after the stall`);
  // The player finds the server silent too.
  await waitFor(() => player.closed, "the player to give up");
  assert.match(String(player.error), /Active sensing timed out/);
  assert.equal(listener.stats.activeSensing, 0, "the listener never asked");
  await player.close();
});

Deno.test("A client that sends half a message and then nothing is cut off after partialTimeout, and the drop is counted", async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    partialTimeout: 200,
  });
  server.poll(); // adopt clients
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const drops: number[] = [];
  server.addEventListener("drop", (e) => drops.push(e.discardedMessages));
  const gone = next<Event & { port: SocketPort }>(server, "disconnect");
  await raw.write(new Uint8Array([0x90, 0x3c, 0x40, 0x90, 0x3c]));
  const { port } = await within(gone, "the cut-off");
  assert.match(
    String(port.error),
    /left a message half sent \(2 bytes\) for 200 ms/,
  );
  // The whole note_on is delivered, and then released; the half is dropped.
  assert.deepEqual(
    server.poll(),
    message("note_on", { note: 60, velocity: 64 }),
  );
  assert.deepEqual(server.poll(), off(0, 60));
  assert.deepEqual(drops, [1]);
  assert.equal(server.stats.discardedMessages, 1);
  raw.close();
});

PYTHON3.test("A reconnecting port survives 100 cuts through the proxy and leaks nothing", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  await using proxy = await FaultProxy.start(server.port);
  await using client = await connect("127.0.0.1", proxy.port, {
    reconnect: { backoff: () => 1 },
    hello: { name: "keys" },
  });
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const back = next<ReconnectEvent>(client, "reconnect");
    await waitFor(() => server.stats.clients === 1, "the client on the bus");
    // The proxy files a connection just after its upstream side opens.
    for (let n = 0; n < 1000 && await proxy.command("count") !== 1; n++) {
      await delay(1);
    }
    assert.equal(await proxy.command("cut"), 1);
    times.push((await within(back, `reconnect ${i + 1}`)).downtime);
  }
  await waitFor(() => server.stats.clients === 1, "the client on the bus");
  await client.send(on(0, 1));
  assert.deepEqual(await receiveN(server, 1), [on(0, 1)]);
  assert.equal(client.stats.reconnects, 100);
  // Each connection opened with the hello line: the server knows its name.
  assert.deepEqual(server.ports.map((p) => p.name), ["keys"]);
  assert.equal(server.stats.accepted, 101);
  assert.equal(times.length, 100);
});

Deno.test("connect() with reconnect fails at once if there is no server, and a port that loses its server gives up after maxAttempts", async () => {
  const closed = new PortServer("127.0.0.1", 0);
  const port = closed.port;
  await closed.close();
  let backoffs = 0;
  await assert.rejects(
    connect("127.0.0.1", port, {
      reconnect: { maxAttempts: 3, backoff: () => (backoffs++, 5) },
    }),
    {
      name: "ConnectionRefused",
      message: `Cannot connect to 127.0.0.1:${port}: connection refused`,
    },
  );
  assert.equal(backoffs, 0);

  // A port that loses its server for good closes once its attempts run out.
  const server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port, {
    reconnect: { maxAttempts: 2, backoff: () => 5 },
  });
  const close = next<ErrorEvent>(client, "close");
  await server.close();
  const event = await within(close, "the port to give up");
  assert.equal(
    event.error.message,
    `Gave up connecting to ${client.name} after 2 failed attempts in a row; ` +
      `the last: Cannot connect to ${client.name}: connection refused`,
  );
  assert.equal(client.closed, true);
  assert.deepEqual(await Array.fromAsync(client), []);
  await assert.rejects(client.send(on(0, 1)), { name: "PortClosedError" });
});

MIDO.test("With snapshot, a late joiner (ours or mido's) first receives the bus's controller state, and no notes", async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    relay: true,
    snapshot: true,
  });
  await using player = await connect("127.0.0.1", server.port);
  await using early = await connect("127.0.0.1", server.port);
  const played = [
    cc(0, 0, 1), // bank select
    cc(0, 32, 2),
    message("program_change", { channel: 0, program: 5 }),
    cc(0, 7, 100),
    on(0, 60),
    cc(0, 7, 90),
    message("pitchwheel", { channel: 3, pitch: 300 }),
    cc(0, 64, 127), // the pedal is no controller state to restore
  ];
  for (const msg of played) await player.send(msg);
  assert.deepEqual(await receiveN(early, played.length), played);
  const state = [
    cc(0, 0, 1),
    cc(0, 32, 2),
    message("program_change", { channel: 0, program: 5 }),
    cc(0, 7, 90),
    message("pitchwheel", { channel: 3, pitch: 300 }),
  ];
  await using late = await connect("127.0.0.1", server.port);
  await using mido = new PyPeer([
    "receive",
    "127.0.0.1",
    String(server.port),
    String(state.length + 1),
  ]);
  assert.equal(await mido.line(), "connected");
  await waitFor(() => server.stats.clients === 4, "the late joiners");
  await player.send(on(0, 62));
  assert.deepEqual(await receiveN(late, state.length + 1), [
    ...state,
    on(0, 62),
  ]);
  assert.deepEqual(await mido.rest(), [...state, on(0, 62)].map(formatMessage));
});

Deno.test("With releaseNotes: false, a client that leaves with notes on leaves them on", async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    relay: true,
    releaseNotes: false,
  });
  await using listener = await connect("127.0.0.1", server.port);
  const player = await connect("127.0.0.1", server.port);
  await waitFor(() => server.stats.clients === 2, "both clients");
  await player.send(on(0, 60));
  await player.close();
  await waitFor(() => server.stats.clients === 1, "the player to leave");
  await server.send(message("stop"));
  assert.deepEqual(await receiveN(listener, 2), [on(0, 60), message("stop")]);
  assert.equal(server.stats.releasedNotes, 0);
});

Deno.test("A player cut off as a slow client has its notes released to the others", async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    relay: true,
    maxQueuedBytes: 64 * 1024,
  });
  await using listener = await connect("127.0.0.1", server.port);
  // The player plays one note and never reads.
  const player = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.port,
  });
  await player.write(new Uint8Array([0x90, 60, 100]));
  assert.deepEqual(await receiveN(listener, 1), [on(0, 60)]);
  const release = next<ReleaseEvent>(server, "release");
  const heard: Message[] = [];
  for (let i = 0; i < 4096 && server.stats.slowClients === 0; i++) {
    await server.send(bigSysex(16 * 1024, i));
    // Paced by the listener, as a live source would be.
    const [msg] = await receiveN(listener, 1);
    if (msg.type !== "sysex") heard.push(msg);
  }
  assert.equal(server.stats.slowClients, 1, "the player was cut off");
  assert.deepEqual((await within(release, "the release")).messages, [
    off(0, 60),
  ]);
  await server.send(message("stop"));
  while (heard.at(-1)?.type !== "stop") {
    const [msg] = await receiveN(listener, 1);
    if (msg.type !== "sysex") heard.push(msg);
  }
  assert.deepEqual(heard, [off(0, 60), message("stop")]);
  player.close();
});

Deno.test("A reconnecting port closed while it waits to dial again stops at once and leaves no timer behind", async () => {
  const server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port, {
    reconnect: { backoff: () => 60_000 },
  });
  const waiting = next(client, "reconnecting");
  await server.close();
  await within(waiting, "the reconnecting event");
  const t0 = performance.now();
  await client.close();
  assert.ok(
    performance.now() - t0 < 1000,
    "close() did not wait out the backoff",
  );
  await assert.rejects(client.ready(), { name: "PortClosedError" });
});

Deno.test("A reconnecting port that a server closes at once, without a word, counts each close as a failed attempt, and gives up", async () => {
  // A server that ends each connection at once and says nothing (an older
  // server turning a client away, or one out of room).
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let closed = 0;
  const closing = (async () => {
    for await (const conn of listener) {
      conn.close();
      closed++;
    }
  })();
  const client = await connect("127.0.0.1", listener.addr.port, {
    hello: { name: "keys" },
    reconnect: { maxAttempts: 3, backoff: () => 10 },
  });
  const close = next<ErrorEvent>(client, "close");
  const event = await within(close, "the port to give up");
  assert.match(
    event.error.message,
    /^Gave up connecting to 127\.0\.0\.1:\d+ after 3 failed attempts in a row; the last: /,
  );
  assert.equal(client.stats.reconnects, 2); // 3 closes: the first, and 2
  assert.equal(closed, 3);
  listener.close();
  await closing;
});

Deno.test("A reconnecting port that a server refuses for its token fails at once, with the reason, and is not tried again", async () => {
  await using server = new PortServer("127.0.0.1", 0, { token: "right" });
  const rejects: string[] = [];
  server.addEventListener("reject", (e) => rejects.push(e.reason));
  await assert.rejects(
    connect("127.0.0.1", server.port, {
      hello: { token: "wrong" },
      reconnect: { maxAttempts: 3, backoff: () => 10 },
    }),
    {
      name: "RefusedError",
      message: `Refused by 127.0.0.1:${server.port}: wrong token`,
    },
  );
  assert.deepEqual(rejects, ["wrong token"]);
});

Deno.test("A reconnecting port notices a server that answered active sensing before and now says nothing at all", async () => {
  const server = new PortServer("127.0.0.1", 0);
  const port = server.port;
  server.poll(); // read clients: the server answers active sensing
  const client = await connect("127.0.0.1", port, {
    activeSensing: 200,
    reconnect: { backoff: () => 10 },
  });
  await waitFor(() => client.connection!.sensing === 200, "active sensing");
  // The server is replaced by one that takes connections and hangs.
  const errors: string[] = [];
  client.addEventListener("disconnect", (e) => errors.push(String(e.error)));
  await server.close();
  const hung = Deno.listen({ hostname: "127.0.0.1", port });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of hung) held.push(conn);
  })();
  await waitFor(() => errors.length >= 3, "3 disconnects");
  assert.match(errors[1], /Active sensing timed out: nothing from/);
  assert.match(errors[2], /Active sensing timed out: nothing from/);
  await client.close();
  hung.close();
  await accepting;
  for (const conn of held) conn.close();
});

Deno.test("Real-time bytes trickled into a half-sent message do not keep it alive past partialTimeout", async () => {
  await using server = new PortServer("127.0.0.1", 0, { partialTimeout: 200 });
  server.poll(); // adopt clients
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  const gone = next<Event & { port: SocketPort }>(server, "disconnect");
  await raw.write(new Uint8Array([0x90, 0x3c]));
  let cut = false;
  gone.then(() => cut = true);
  for (let i = 0; i < 40 && !cut; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    await raw.write(new Uint8Array([0xf8])).catch(() => {});
  }
  const { port } = await within(gone, "the cut-off");
  assert.match(String(port.error), /left a message half sent \(2 bytes\)/);
  raw.close();
});

Deno.test("A client that asked for active sensing reads every message of a server that closes, to the last one", async () => {
  for (let run = 0; run < 3; run++) {
    const server = new PortServer("127.0.0.1", 0);
    server.poll(); // the server reads its clients, and answers with 0xFE
    const client = await connect("127.0.0.1", server.port, {
      reconnect: { backoff: () => 1000 },
    });
    await waitFor(() => client.connection?.sensing === 1000, "sensing");
    const sent = Array.from({ length: 201 }, (_, i) => cc(1, 7, i % 128));
    for (const msg of sent) await server.send(msg);
    const down = next(client, "disconnect");
    await server.close();
    await within(down, "the disconnect");
    assert.deepEqual(await receiveN(client, 201), sent, `run ${run}`);
    await client.close();
  }
});

Deno.test("A late joiner's snapshot never overlaps the messages that a waiting hub hands it next", async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    relay: true,
    snapshot: true,
    slowClient: "wait",
    maxQueuedBytes: 64 * 1024,
  });
  await server.send(cc(0, 7, 10)); // state before anything waits
  const stuck = await Deno.connect({
    hostname: "127.0.0.1",
    port: server.port,
  });
  await waitFor(() => server.stats.clients === 1, "the stuck client");
  // Fill the stuck client until a send has to wait for it.
  let blocked: Promise<void> | undefined;
  for (let i = 0; i < 4096 && !blocked; i++) {
    const sending = server.send(bigSysex(16 * 1024, i));
    const done = await Promise.race([
      sending.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20)),
    ]);
    if (!done) blocked = sending;
  }
  assert.ok(blocked, "a send waits for the stuck client");
  const later = [server.send(cc(0, 7, 80)), server.send(cc(0, 7, 90))];
  await using late = await connect("127.0.0.1", server.port);
  await waitFor(() => server.stats.clients === 2, "the late joiner");
  // Unblock: the stuck client reads everything from now on.
  const draining = (async () => {
    const buf = new Uint8Array(64 * 1024);
    while (await stuck.read(buf) !== null) {
      // Drop it.
    }
  })();
  await blocked;
  await Promise.all(later);
  // The snapshot (CC 7 = 10, from before the wait), then exactly the two
  // values that the hub handed out after the joiner came, in order.
  const got: Message[] = [];
  while (got.length < 3) {
    const [msg] = await receiveN(late, 1);
    if (msg.type !== "sysex") got.push(msg);
  }
  assert.deepEqual(got, [cc(0, 7, 10), cc(0, 7, 80), cc(0, 7, 90)]);
  stuck.close();
  await draining.catch(() => {});
});
