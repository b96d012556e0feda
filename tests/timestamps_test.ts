// Copyright 2026 the midisock authors. MIT license.
// Arrival times: every message a port receives carries when its bytes were
// read, on performance.now()'s clock, for SocketPort, PortServer (with the
// sender) and ReconnectingPort, without changing the Message.

import assert from "node:assert/strict";
import { connect, message, PortServer } from "../mod.ts";
import { delay } from "./_net.ts";

const NOTE = message("note_on", { note: 60, velocity: 100 });
const CC = message("control_change", { control: 7, value: 1 });

Deno.test("receive({ timestamps: true }) gives each message with the time its bytes were read", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port);
  await using raw = await server.accept();
  const before = performance.now();
  await client.send(NOTE);
  const first = await raw.receive({ timestamps: true });
  const after = performance.now();
  assert.deepEqual(first.message, NOTE);
  assert.ok(first.time >= before && first.time <= after);
  await delay(60);
  await client.send(CC);
  const second = await raw.receive({ timestamps: true });
  assert.deepEqual(second.message, CC);
  assert.ok(second.time - first.time >= 55, `${second.time - first.time}`);
  // Without the option, the message alone, as before.
  await client.send(NOTE);
  assert.deepEqual(await raw.receive(), NOTE);
  assert.ok(raw.lastTime > second.time);
});

Deno.test("The messages of one read share one arrival time, and poll() sets lastTime", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const accepting = server.accept();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await using port = await accepting;
  await conn.write(new Uint8Array([0x90, 60, 100, 62, 100, 0xb0, 7, 1]));
  const a = await port.receive({ timestamps: true });
  assert.deepEqual(a.message, NOTE);
  // The rest came in the same read: poll() has them, at the same time.
  const b = port.poll();
  assert.deepEqual(b, message("note_on", { note: 62, velocity: 100 }));
  assert.equal(port.lastTime, a.time);
  assert.deepEqual(port.poll(), CC);
  assert.equal(port.lastTime, a.time);
  conn.close();
});

Deno.test("withTimes() yields every message with a non-decreasing time, and ends with the peer", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const client = await connect("127.0.0.1", server.port);
  await using peer = await server.accept();
  for (let i = 0; i < 5; i++) {
    await client.send(message("note_on", { note: i }));
    await delay(5);
  }
  await client.close();
  const seen: number[] = [];
  let last = 0;
  for await (const { message: msg, time } of peer.withTimes()) {
    assert.equal(msg.type, "note_on");
    seen.push((msg as { note: number }).note);
    assert.ok(time >= last);
    last = time;
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
});

Deno.test("The server gives each message its sender and the time the sender's bytes were read", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using a = await connect("127.0.0.1", server.port);
  await using b = await connect("127.0.0.1", server.port);
  const t0 = performance.now();
  await a.send(NOTE);
  const first = await server.receiveWithPort();
  assert.deepEqual(first.message, NOTE);
  assert.equal(first.port.remoteAddr.port, a.localAddr.port);
  assert.ok(first.time >= t0 && first.time <= performance.now());
  await delay(40);
  await b.send(CC);
  const iterator = server.withPorts();
  const second = (await iterator.next()).value!;
  assert.deepEqual(second.message, CC);
  assert.equal(second.port.remoteAddr.port, b.localAddr.port);
  assert.ok(second.time - first.time >= 35, `${second.time - first.time}`);
  await iterator.return!();
});

Deno.test("A ReconnectingPort gives the arrival time of what its connection read", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using client = await connect("127.0.0.1", server.port, {
    reconnect: true,
  });
  await client.send(message("start")); // the server adopts it
  await server.receive();
  const before = performance.now();
  await server.send(NOTE);
  const got = await client.receive({ timestamps: true });
  assert.deepEqual(got.message, NOTE);
  assert.ok(got.time >= before && got.time <= performance.now());
});
