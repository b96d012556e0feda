// Copyright 2026 the midisock authors. MIT license.
// Interop with real mido (Debian's python3-mido in /usr/bin/python3): a mido
// peer on a plain socket (tests/fixtures/py_net_peer.py) sends and receives
// mido's wire bytes to and from our ports and server.

import assert from "node:assert/strict";
import { connect, formatMessage, PortServer } from "../mod.ts";
import { PyPeer } from "./_py_child.ts";
import {
  DEADLINE_MS,
  PANIC,
  randomMessages,
  receiveN,
  RESET,
  waitFor,
} from "./_net.ts";
import { MIDO } from "./_peers.ts";

MIDO.test("Our PortServer receives exactly the messages that a mido client sends (every type, seeded)", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const n = 3000;
  await using peer = new PyPeer([
    "send",
    "127.0.0.1",
    String(server.port),
    "20260",
    String(n),
  ]);
  const received = await receiveN(server, n, DEADLINE_MS);
  const sent = await peer.rest();
  assert.equal(sent.length, n);
  assert.deepEqual(received.map(formatMessage), sent);
  assert.equal(
    new Set(received.slice(0, 18).map((m) => m.type)).size,
    18,
    "every type",
  );
  assert.equal(server.stats.skippedBytes, 0);
  assert.equal(server.stats.received, n);
  assert.equal(server.poll(), undefined);
});

MIDO.test("A mido server decodes exactly what our client sends, reset() and panic() included", async () => {
  await using peer = new PyPeer(["serve"]);
  const first = await peer.line();
  const match = /^port (\d+)$/.exec(first);
  assert.ok(match, `expected "port P", got ${first}`);
  const port = Number(match[1]);

  const msgs = randomMessages(0x1d0, 3000);
  const client = await connect("127.0.0.1", port);
  try {
    for (const msg of msgs) await client.send(msg);
    await client.reset();
    await client.panic();
  } finally {
    await client.close();
  }
  const decoded = await peer.rest();
  assert.equal(decoded.length, msgs.length + 48);
  assert.deepEqual(decoded, [...msgs, ...RESET, ...PANIC].map(formatMessage));
});

MIDO.test("A mido parser ignores the hello line and decodes exactly the messages after it", async () => {
  // mido 1.2.10's own PortServer cannot receive on Python 3 (its
  // SocketPort._receive calls ord() on an int), so the peer is mido's
  // Parser on a plain socket, as for every test here.
  await using peer = new PyPeer(["serve"]);
  const match = /^port (\d+)$/.exec(await peer.line());
  assert.ok(match);
  const msgs = randomMessages(0x4e11, 500);
  const client = await connect("127.0.0.1", Number(match[1]), {
    hello: { name: "keys on stage", token: "s3cr et/=%" },
  });
  try {
    for (const msg of msgs) await client.send(msg);
  } finally {
    await client.close();
  }
  assert.deepEqual(await peer.rest(), msgs.map(formatMessage));
});

MIDO.test("A broadcast from our server reaches three mido clients, each of which decodes every message", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const msgs = randomMessages(0xb0a7, 2000);
  await using a = new PyPeer([
    "receive",
    "127.0.0.1",
    String(server.port),
    String(msgs.length),
  ]);
  await using b = new PyPeer([
    "receive",
    "127.0.0.1",
    String(server.port),
    String(msgs.length),
  ]);
  await using c = new PyPeer([
    "receive",
    "127.0.0.1",
    String(server.port),
    String(msgs.length),
  ]);
  for (const peer of [a, b, c]) assert.equal(await peer.line(), "connected");
  await waitFor(() => server.stats.accepted === 3, "3 mido clients");

  for (const msg of msgs) await server.send(msg);
  const expected = msgs.map(formatMessage);
  const [gotA, gotB, gotC] = await Promise.all([a.rest(), b.rest(), c.rest()]);
  assert.deepEqual(gotA, expected);
  assert.deepEqual(gotB, expected);
  assert.deepEqual(gotC, expected);
  assert.equal(server.hub.stats.messages, msgs.length);
  assert.equal(server.hub.stats.deliveries, 3 * msgs.length);
  assert.equal(server.stats.slowClients, 0);
  await waitFor(() => server.stats.clients === 0, "the mido clients to leave");
});
