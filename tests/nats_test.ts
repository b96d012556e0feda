// Copyright 2026 the midisock authors. MIT license.
// One bus across hubs on NATS: a real nats-server (started on a free
// loopback port, stopped by its PID), hubs in this process and in child
// processes, and Python mido clients on them.

import assert from "node:assert/strict";
import { connect, message, PortServer, type SocketPort } from "../mod.ts";
import { encodedLength } from "../src/midi/encode_into.ts";
import { type HubEvent, joinNats, type NatsBridge } from "../nats.ts";
import { NATS_QUEUED_BYTES } from "../src/nats/nats_bridge.ts";
import { connectNats, natsHeaders } from "../src/nats/_transport.ts";
import { midisock } from "./_child.ts";
import { NatsServer } from "./_nats_server.ts";
import { bigSysex, delay, receiveN, waitFor, wire, within } from "./_net.ts";
import { PyPeer } from "./_py_child.ts";
import { makeCerts } from "./_tls.ts";
// Test only: to make an operator, an account and a user for a creds file.
import {
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
} from "@nats-io/jwt";
import { createAccount, createOperator, createUser } from "@nats-io/nkeys";
import { MIDO, NATS_SERVER, needs, OPENSSL } from "./_peers.ts";

/** Deno.test, for the tests that need nats-server and Python mido. */
const NATS_AND_MIDO = needs(NATS_SERVER, MIDO);

/** Deno.test, for the tests that need nats-server and openssl. */
const NATS_AND_OPENSSL = needs(NATS_SERVER, OPENSSL);

/** Hubs in this process, each bridged to the same bus. */
class Hubs implements AsyncDisposable {
  servers: PortServer[] = [];
  bridges: NatsBridge[] = [];

  static async start(
    servers: string,
    n: number,
    options: { heartbeat?: number; hubTimeout?: number; snapshot?: boolean } =
      {},
  ): Promise<Hubs> {
    const hubs = new Hubs();
    try {
      for (let i = 0; i < n; i++) {
        const server = new PortServer("127.0.0.1", 0, {
          relay: true,
          snapshot: options.snapshot,
        });
        hubs.servers.push(server);
        hubs.bridges.push(
          await joinNats(server, {
            servers,
            bus: "test",
            hub: `hub${i}`,
            heartbeat: options.heartbeat,
            hubTimeout: options.hubTimeout,
          }),
        );
      }
    } catch (error) {
      await hubs[Symbol.asyncDispose]();
      throw error;
    }
    return hubs;
  }

  /** Waits until every hub has heard every other. */
  async meshed(): Promise<void> {
    const n = this.bridges.length;
    await waitFor(
      () => this.bridges.every((b) => b.hubs.length === n - 1),
      "the hubs to hear each other",
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.bridges.map((b) => b.close()));
    await Promise.all(this.servers.map((s) => s.close()));
  }
}

/** Waits until a server has `n` clients (the bridge among them). */
function clients(server: PortServer, n: number): Promise<void> {
  return waitFor(
    () => server.ports.length === n,
    `${n} clients on ${server.name}`,
  );
}

/** `midisock serve 127.0.0.1:0 --nats URL --bus BUS ARGS...` as a child. */
function serveOnNats(url: string, bus: string, args: string[] = []) {
  return midisock([
    "serve",
    "127.0.0.1:0",
    "--nats",
    url,
    "--bus",
    bus,
    ...args,
  ]);
}

/** A Python mido peer that receives `n` messages from a hub. */
async function receiver(server: PortServer, n: number): Promise<PyPeer> {
  const peer = new PyPeer([
    "receive",
    "127.0.0.1",
    String(server.port),
    String(n),
  ]);
  assert.equal(await peer.line(), "connected");
  return peer;
}

NATS_AND_MIDO.test("Three hubs on NATS are one relay: exact counts, no echo, each sender's order", async () => {
  await using nats = await NatsServer.start();
  await using hubs = await Hubs.start(nats.url, 3);
  const N = 600; // each client's messages
  const peers: PyPeer[] = [];
  try {
    // Two mido clients on each hub; client c plays on channel c.
    for (let c = 0; c < 6; c++) {
      const server = hubs.servers[c % 3];
      const peer = new PyPeer([
        "chat",
        "127.0.0.1",
        String(server.port),
        String(c),
        String(N),
        String(5 * N),
      ], { stdin: true });
      peers.push(peer);
      assert.equal(await peer.line(), "connected");
    }
    for (const server of hubs.servers) await clients(server, 3);
    for (const peer of peers) await peer.write("go");
    for (let c = 0; c < 6; c++) {
      const lines = await peers[c].rest();
      assert.equal(lines.length, 5 * N, `client ${c} got ${lines.length}`);
      const next = new Array(6).fill(0); // each sender's next number
      for (const line of lines) {
        const m = /^polytouch channel=(\d+) note=(\d+) value=(\d+) time=0$/
          .exec(line);
        assert.ok(m, `client ${c} got ${line}`);
        const from = Number(m[1]);
        assert.notEqual(from, c, `client ${c} got its own message back`);
        const k = Number(m[2]) + 128 * Number(m[3]);
        assert.equal(k, next[from], `client ${c}: sender ${from} out of order`);
        next[from]++;
      }
      assert.deepEqual(
        next,
        next.map((_, i) => (i === c ? 0 : N)),
      );
    }
  } finally {
    for (const peer of peers) await peer[Symbol.asyncDispose]();
  }
  for (const bridge of hubs.bridges) {
    const { published, received, droppedBytes, gaps } = bridge.stats;
    assert.ok(published > 0 && received > 0);
    assert.equal(droppedBytes, 0);
    assert.equal(gaps, 0);
  }
});

NATS_AND_MIDO.test("A client that drops on one hub is released on the others", async () => {
  await using nats = await NatsServer.start();
  await using hubs = await Hubs.start(nats.url, 3);
  const [a, b, c] = hubs.servers;
  // 3 messages played, then 3 released: 2 note_offs and the pedal.
  await using onB = await receiver(b, 6);
  await using onC = await receiver(c, 6);
  await clients(b, 2);
  await clients(c, 2);
  // A player on a raw socket plays, and goes without a note_off.
  const player = await Deno.connect({ hostname: "127.0.0.1", port: a.port });
  await player.write(wire([
    message("note_on", { note: 60, velocity: 100 }),
    message("note_on", { channel: 3, note: 64 }),
    message("control_change", { control: 64, value: 127 }),
  ]));
  player.close();
  const expected = [
    "note_on channel=0 note=60 velocity=100 time=0",
    "note_on channel=3 note=64 velocity=64 time=0",
    "control_change channel=0 control=64 value=127 time=0",
    "note_off channel=0 note=60 velocity=64 time=0",
    "note_off channel=3 note=64 velocity=64 time=0",
    "control_change channel=0 control=64 value=0 time=0",
  ];
  assert.deepEqual(await onB.rest(), expected);
  assert.deepEqual(await onC.rest(), expected);
});

NATS_AND_MIDO.test("A hub killed with SIGKILL is released on the others, which go on serving", async () => {
  await using nats = await NatsServer.start();
  await using hubs = await Hubs.start(nats.url, 2);
  const [b, c] = hubs.servers;
  await using hubA = serveOnNats(nats.url, "test", ["--hub", "doomed"]);
  const port = Number(
    (await hubA.waitForMatch("stderr", /listening on 127\.0\.0\.1:(\d+)/))[1],
  );
  await using onB = await receiver(b, 4);
  await using onC = await receiver(c, 4);
  await clients(b, 2);
  await clients(c, 2);
  const left: HubEvent[] = [];
  for (const bridge of hubs.bridges) {
    bridge.addEventListener("hubleave", (event) => left.push(event));
  }
  await using player = await connect("127.0.0.1", port);
  await player.send(message("note_on", { note: 60 }));
  await player.send(message("note_on", { note: 67 }));
  await waitFor(
    () => b.stats.relayed === 2 && c.stats.relayed === 2,
    "the notes on hubs b and c",
  );
  hubA.kill("SIGKILL");
  const killed = performance.now();
  const expected = [
    "note_on channel=0 note=60 velocity=64 time=0",
    "note_on channel=0 note=67 velocity=64 time=0",
    "note_off channel=0 note=60 velocity=64 time=0",
    "note_off channel=0 note=67 velocity=64 time=0",
  ];
  assert.deepEqual(await onB.rest(), expected);
  assert.deepEqual(await onC.rest(), expected);
  // The rule: no heartbeat for hubTimeout (3 s), seen at the next tick (1 s).
  const took = performance.now() - killed;
  assert.ok(took < 3000 + 1000 + 3000, `released after ${took} ms`); // and slack
  assert.deepEqual(
    left.map((e) => [e.hub, e.reason, e.notes]),
    [["doomed", "timeout", 2], ["doomed", "timeout", 2]],
  );
  // b and c still make one bus.
  await using keys = await connect("127.0.0.1", b.port);
  await using synth = await connect("127.0.0.1", c.port);
  await clients(b, 2);
  await clients(c, 2);
  await keys.send(message("start"));
  assert.deepEqual(await receiveN(synth, 1), [message("start")]);
});

NATS_SERVER.test("After NATS restarts, the hubs reconnect and the bus works again", async () => {
  await using nats = await NatsServer.start();
  await using hubs = await Hubs.start(nats.url, 3, {
    heartbeat: 100,
    hubTimeout: 500,
  });
  const [a, b, c] = hubs.servers;
  await using keys = await connect("127.0.0.1", a.port);
  await using local = await connect("127.0.0.1", a.port);
  await using onB = await connect("127.0.0.1", b.port);
  await using onC = await connect("127.0.0.1", c.port);
  await clients(a, 3);
  await clients(b, 2);
  await clients(c, 2);
  const events: string[] = [];
  for (const type of ["disconnect", "reconnecting", "reconnect"] as const) {
    hubs.bridges[1].addEventListener(type, () => events.push(type));
  }
  // A note held across the outage is released on the hubs cut off.
  await keys.send(message("note_on", { note: 60 }));
  assert.deepEqual(await receiveN(onB, 1), [message("note_on", { note: 60 })]);
  assert.deepEqual(await receiveN(onC, 1), [message("note_on", { note: 60 })]);
  assert.deepEqual(await receiveN(local, 1), [
    message("note_on", { note: 60 }),
  ]);

  await nats.stop();
  await waitFor(
    () => hubs.bridges.every((bridge) => !bridge.connected),
    "every bridge to see the link lost",
  );
  assert.deepEqual(await receiveN(onB, 1), [message("note_off", { note: 60 })]);
  assert.deepEqual(await receiveN(onC, 1), [message("note_off", { note: 60 })]);
  // Each hub goes on serving its own clients.
  await keys.send(message("note_off", { note: 60 }));
  assert.deepEqual(await receiveN(local, 1), [
    message("note_off", { note: 60 }),
  ]);

  await nats.restart();
  await waitFor(
    () => hubs.bridges.every((bridge) => bridge.connected),
    "every bridge to reconnect",
  );
  assert.equal(events[0], "disconnect");
  assert.equal(events.at(-1), "reconnect");
  assert.ok(events.includes("reconnecting"));
  // The note_off sent during the outage was dropped, and counted.
  assert.equal(hubs.bridges[0].stats.droppedBytes, 3);
  await keys.send(message("continue"));
  assert.deepEqual(await receiveN(onB, 1), [message("continue")]);
  assert.deepEqual(await receiveN(onC, 1), [message("continue")]);
  assert.deepEqual(await receiveN(local, 1), [message("continue")]);
  await delay(50);
  assert.equal(onB.poll(), undefined);
  assert.equal(onC.poll(), undefined);
});

NATS_SERVER.test("A hub that closes says goodbye, and its notes are released at once", async () => {
  await using nats = await NatsServer.start();
  await using hubs = await Hubs.start(nats.url, 1, { hubTimeout: 60_000 });
  await using a = new PortServer("127.0.0.1", 0, { relay: true });
  const bridgeA = await joinNats(a, {
    servers: nats.url,
    bus: "test",
    hub: "leaving",
  });
  await using listener = await connect("127.0.0.1", hubs.servers[0].port);
  await using player = await connect("127.0.0.1", a.port);
  await clients(a, 2);
  await clients(hubs.servers[0], 2);
  await player.send(message("note_on", { note: 72 }));
  assert.deepEqual(await receiveN(listener, 1), [
    message("note_on", { note: 72 }),
  ]);
  const left = new Promise<HubEvent>((resolve) =>
    hubs.bridges[0].addEventListener("hubleave", resolve, { once: true })
  );
  await bridgeA.close();
  assert.deepEqual(await receiveN(listener, 1), [
    message("note_off", { note: 72 }),
  ]);
  const event = await within(left, "the hubleave event");
  assert.deepEqual([event.hub, event.reason, event.notes], [
    "leaving",
    "bye",
    1,
  ]);
  // The hub itself goes on without the bus.
  assert.equal(a.closed, false);
});

NATS_SERVER.test("A late joiner of one hub gets the controller state set on another hub", async () => {
  await using nats = await NatsServer.start();
  await using hubs = await Hubs.start(nats.url, 2, { snapshot: true });
  const [a, b] = hubs.servers;
  await using player = await connect("127.0.0.1", a.port);
  await using early = await connect("127.0.0.1", b.port);
  await clients(a, 2);
  await clients(b, 2);
  await player.send(message("program_change", { channel: 2, program: 41 }));
  assert.deepEqual(await receiveN(early, 1), [
    message("program_change", { channel: 2, program: 41 }),
  ]);
  await using late = await connect("127.0.0.1", b.port);
  assert.deepEqual(await receiveN(late, 1), [
    message("program_change", { channel: 2, program: 41 }),
  ]);
  // The bridges never publish a snapshot: nothing comes back to hub a.
  await delay(50);
  assert.equal(player.poll(), undefined);
  assert.equal(hubs.bridges[1].stats.published, 0);
});

NATS_SERVER.test("A batch over maxPayload goes out as several NATS messages, and arrives whole", async () => {
  await using nats = await NatsServer.start();
  await using a = new PortServer("127.0.0.1", 0, { relay: true });
  await using b = new PortServer("127.0.0.1", 0, { relay: true });
  const servers = nats.url;
  await using bridgeA = await joinNats(a, { servers, bus: "t", maxPayload: 7 });
  await using _b = await joinNats(b, { servers, bus: "t" });
  await using keys = await connect("127.0.0.1", a.port);
  await using synth = await connect("127.0.0.1", b.port);
  await clients(a, 2);
  await clients(b, 2);
  const sysex = message("sysex", {
    data: Uint8Array.from({ length: 100 }, (_, i) => i),
  });
  await keys.send(sysex);
  await keys.send(message("note_on", { note: 1 }));
  assert.deepEqual(await receiveN(synth, 2), [
    sysex,
    message("note_on", { note: 1 }),
  ]);
  assert.equal(bridgeA.stats.publishedBytes, 102 + 3);
  assert.ok(bridgeA.stats.publishedBatches >= Math.ceil(105 / 7));
  assert.equal(bridgeA.stats.published, 2); // MIDI messages
});

NATS_SERVER.test("Each hub's bytes are parsed as one stream, and a gap in them releases its notes", async () => {
  await using nats = await NatsServer.start();
  await using hubs = await Hubs.start(nats.url, 1);
  await using listener = await connect("127.0.0.1", hubs.servers[0].port);
  await clients(hubs.servers[0], 2);
  const gaps: HubEvent[] = [];
  hubs.bridges[0].addEventListener("hubgap", (event) => gaps.push(event));
  // A hub by hand: a note_on split across two NATS messages, then a jump.
  const nc = await connectNats({ servers: nats.url });
  try {
    const publish = (seq: number, bytes: number[]) => {
      const h = natsHeaders();
      h.set("Midisock-Hub", "by-hand");
      h.set("Midisock-Seq", String(seq));
      nc.publish("midisock.test.by-hand", new Uint8Array(bytes), {
        headers: h,
      });
    };
    publish(1, [0x90, 60]);
    publish(2, [100, 0x91]); // the next message is cut by the gap
    // Another hub's id on this hub's subject: not taken.
    const spoof = natsHeaders();
    spoof.set("Midisock-Hub", "someone-else");
    spoof.set("Midisock-Seq", "1");
    nc.publish("midisock.test.by-hand", new Uint8Array([0xfa]), {
      headers: spoof,
    });
    publish(4, [0xf8]);
    await nc.flush();
    assert.deepEqual(await receiveN(listener, 3), [
      message("note_on", { note: 60, velocity: 100 }),
      message("note_off", { note: 60 }),
      message("clock"),
    ]);
  } finally {
    await nc.close();
  }
  assert.deepEqual(gaps.map((e) => [e.hub, e.notes]), [["by-hand", 1]]);
  assert.equal(hubs.bridges[0].stats.gaps, 1);
  // A hub that sends no count: one NATS message lost, of unknown size.
  assert.equal(hubs.bridges[0].stats.lostBatches, 1); // number 3
  assert.equal(hubs.bridges[0].stats.lost, 0);
  assert.equal(hubs.bridges[0].stats.ignored, 1);
  assert.deepEqual(hubs.bridges[0].hubs, ["by-hand"]);
  await delay(50);
  assert.equal(listener.poll(), undefined);
});

NATS_SERVER.test("A hub that takes the bus in too slowly drops what is over 1 MiB behind, counts it, and releases its sender", async () => {
  await using nats = await NatsServer.start();
  await using hubs = await Hubs.start(nats.url, 1);
  const [server] = hubs.servers;
  const [bridge] = hubs.bridges;
  const gaps: HubEvent[] = [];
  bridge.addEventListener("hubgap", (event) => gaps.push(event));
  // A reader that reads nothing yet: the server's inbox fills, then the
  // bridge's client stops reading, then the bridge's 1 MiB fills.
  const reader = server.withPorts();
  const nc = await connectNats({ servers: nats.url });
  const batches = 100;
  const perBatch = 10_000; // 30 KB of polytouch a NATS message
  try {
    const batch = new Uint8Array(perBatch * 3);
    for (let i = 0; i < perBatch; i++) batch.set([0xa0, i % 128, 1], i * 3);
    for (let seq = 1; seq <= batches; seq++) {
      const h = natsHeaders();
      h.set("Midisock-Hub", "fast");
      h.set("Midisock-Seq", String(seq));
      nc.publish("midisock.test.fast", batch, { headers: h });
    }
    await nc.flush();
  } finally {
    await nc.close();
  }
  await waitFor(
    () => bridge.stats.receivedBatches === batches,
    "every batch at the bridge",
  );
  const { overflowed } = bridge.stats;
  assert.ok(overflowed > 0, "some were dropped");
  assert.equal(overflowed % perBatch, 0, "whole batches");
  assert.equal(gaps.length, overflowed / perBatch);
  assert.ok(gaps.every((e) => e.hub === "fast" && e.reason === "gap"));
  // The rest reach the hub's reader, in order, none twice.
  const want = batches * perBatch - overflowed;
  let got = 0;
  await within(
    (async () => {
      for await (const { message: m } of reader) {
        assert.equal(m.type, "polytouch");
        if (++got === want) break;
      }
    })(),
    `${want} messages at the hub's reader`,
  );
  assert.equal(server.stats.received, want);
});

NATS_SERVER.test("A hub whose NATS stalls holds the bridge's queue bounded, cuts it off as slow, and counts every byte", async () => {
  await using nats = await NatsServer.start();
  await using hubs = await Hubs.start(nats.url, 1);
  const [a] = hubs.servers;
  const [bridge] = hubs.bridges;
  // Hub B waits for its client (it is not what is tested here): what it
  // cannot take in from the bus is dropped and counted (overflowed).
  await using b = new PortServer("127.0.0.1", 0, {
    relay: true,
    slowClient: "wait",
  });
  await using bridgeB = await joinNats(b, { servers: nats.url, bus: "test" });
  hubs.bridges.push(bridgeB);
  await hubs.meshed();
  const ports = new Set<SocketPort>(); // the bridge's ports on hub A
  a.addEventListener("connect", (e) => {
    if (e.port.name === "nats:test") ports.add(e.port);
  });
  ports.add(bridge.port);
  await using sender = await connect("127.0.0.1", a.port);
  await using listener = await connect("127.0.0.1", b.port);
  await clients(a, 2);
  await clients(b, 2);
  // Hub B's client reads all along, until a note comes.
  let heard = false;
  const listening = (async () => {
    while (!heard) heard = (await listener.receive()).type === "note_on";
    return heard;
  })().catch(() => false); // the test failed, and closed it
  const sysex = bigSysex(60_000, 1);
  const size = encodedLength(sysex);
  // NATS reads nothing: the socket to it fills, then the bridge's queue,
  // then the hub's queue for the bridge, which the hub cuts off (after
  // slowClientTimeout, 1 s); the bridge joins again, and so on.
  nats.pause();
  let peak = 0;
  let sent = 0;
  try {
    for (; sent < 2000 && bridge.stats.rejoins < 2; sent++) {
      await sender.send(sysex);
      peak = Math.max(peak, bridge.stats.queuedBytes);
      if (sent % 16 === 0) await delay(1);
    }
  } finally {
    nats.resume();
  }
  assert.ok(bridge.stats.rejoins >= 2, `cut off twice in ${sent} sends`);
  assert.ok(peak > 0, "the bridge held bytes for NATS");
  assert.ok(
    peak <= NATS_QUEUED_BYTES,
    `at most 1 MiB held for NATS, held ${peak}`,
  );
  // The bus goes on: a note from hub A reaches hub B after the flood
  // (once both links are up: NATS may have taken them for dead).
  await waitFor(
    () => hubs.bridges.every((b) => b.connected),
    "the links to NATS",
  );
  await hubs.meshed();
  // Hub B may drop some of the flood, which came in a burst, and a note
  // with it (counted, as overflowed): so the note goes again until heard.
  let notes = 0;
  for (; notes < 100 && !heard; notes++) {
    await sender.send(message("note_on", { note: 60 }));
    await delay(50);
  }
  assert.ok(await within(listening, "the note at hub B"));
  await bridge.close();
  // Each byte the hub wrote to the bridge was published or dropped.
  let taken = 0;
  for (const port of ports) taken += port.stats.writtenBytes;
  const stats = bridge.stats;
  assert.equal(ports.size, stats.rejoins + 1);
  assert.equal(a.stats.slowClients, stats.rejoins);
  assert.equal(stats.queuedBytes, 0);
  assert.equal(stats.publishedBytes + stats.droppedBytes, taken);
  // And the hub dropped the rest, as for any slow client.
  assert.equal(taken + a.stats.droppedBytes, sent * size + notes * 3);
  // In MIDI messages: each one the hub relayed to the bridge was published,
  // dropped by the bridge, or dropped by the hub when it cut the bridge off.
  assert.equal(
    stats.published + stats.dropped + stats.hubDropped,
    sent + notes,
  );
  assert.equal(stats.hubDroppedBytes, a.stats.droppedBytes);
});

NATS_AND_OPENSSL.test("joinNats speaks NATS's token and user auth, and TLS", async () => {
  await using byToken = await NatsServer.start(["--auth", "s3cret"]);
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  await assert.rejects(
    joinNats(server, { servers: byToken.url, bus: "b", token: "wrong" }),
    new RegExp(`Cannot connect to NATS at ${byToken.url}: .*[Aa]uthorization`),
  );
  await (await joinNats(server, {
    servers: byToken.url,
    bus: "b",
    token: "s3cret",
  })).close();

  await using byUser = await NatsServer.start([
    "--user",
    "keys",
    "--pass",
    "pw",
  ]);
  await (await joinNats(server, {
    servers: byUser.url,
    bus: "b",
    user: "keys",
    pass: "pw",
  })).close();

  const certs = await makeCerts();
  try {
    await using tls = await NatsServer.start([
      "--tls",
      "--tlscert",
      certs.files.cert,
      "--tlskey",
      certs.files.key,
    ]);
    const bridge = await joinNats(server, {
      servers: `tls://127.0.0.1:${tls.port}`,
      bus: "b",
      tls: { ca: certs.ca },
    });
    assert.equal(bridge.connected, true);
    await bridge.close();
    const byFile = await joinNats(server, {
      servers: tls.url,
      bus: "b",
      tls: { caFile: certs.files.ca },
    });
    assert.equal(byFile.connected, true);
    await byFile.close();
    // Without the CA, the server's certificate is not trusted.
    await assert.rejects(
      joinNats(server, { servers: tls.url, bus: "b", tls: {} }),
      /Cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: .*(certificate|UnknownIssuer)/i,
    );
  } finally {
    await Deno.remove(certs.dir, { recursive: true });
  }
});

NATS_SERVER.test("joinNats logs in with a NATS credentials file (a user JWT and its seed)", async () => {
  const dir = await Deno.makeTempDir({
    dir: "/tmp",
    prefix: "midisock-creds-",
  });
  try {
    // An operator, an account with no limits, and a user of it, as nsc makes.
    const operator = createOperator();
    const account = createAccount();
    const user = createUser();
    const limits = { conn: -1, subs: -1, data: -1, payload: -1 };
    await Deno.writeTextFile(
      `${dir}/operator.jwt`,
      await encodeOperator("test", operator),
    );
    const accountJwt = await encodeAccount("bus", account, { limits }, {
      signer: operator,
    });
    await Deno.writeTextFile(
      `${dir}/server.conf`,
      `operator: ${dir}/operator.jwt\nresolver: MEMORY\n` +
        `resolver_preload: { ${account.getPublicKey()}: ${accountJwt} }\n`,
    );
    const userJwt = await encodeUser("hub", user, account);
    await Deno.writeFile(`${dir}/hub.creds`, fmtCreds(userJwt, user));

    await using nats = await NatsServer.start(["-c", `${dir}/server.conf`]);
    await using server = new PortServer("127.0.0.1", 0, { relay: true });
    const bridge = await joinNats(server, {
      servers: nats.url,
      bus: "b",
      credsFile: `${dir}/hub.creds`,
    });
    assert.equal(bridge.connected, true);
    await bridge.close();
    await assert.rejects(
      joinNats(server, { servers: nats.url, bus: "b" }),
      /Authorization Violation/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("joinNats names what is wrong with its options", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  await using plain = new PortServer("127.0.0.1", 0);
  const servers = "nats://127.0.0.1:1";
  await assert.rejects(
    joinNats(plain, { servers, bus: "b" }),
    /Cannot bridge 127\.0\.0\.1:\d+ to NATS: the server does not relay/,
  );
  await assert.rejects(
    joinNats(server, { servers, bus: "b", hub: "a b" }),
    /Invalid hub option: .* got "a b"/,
  );
  await assert.rejects(
    joinNats(server, { servers, bus: "b", heartbeat: 1000, hubTimeout: 500 }),
    /Invalid hubTimeout option: expected more than heartbeat \(1000 ms\), got 500/,
  );
  await assert.rejects(
    joinNats(server, { servers, bus: "b", credsFile: "/nonexistent.creds" }),
    /Cannot read the NATS credentials file \/nonexistent\.creds/,
  );
  await assert.rejects(
    joinNats(server, { servers, bus: "b" }),
    /Cannot connect to NATS at nats:\/\/127\.0\.0\.1:1: /,
  );
  assert.equal(server.ports.length, 0);
});

NATS_SERVER.test("midisock serve --nats bridges two CLI hubs and prints the bus's events", async () => {
  await using nats = await NatsServer.start();
  const serve = (hub: string) => serveOnNats(nats.url, "cli", ["--hub", hub]);
  await using a = serve("a");
  await using b = serve("b");
  const portOf = async (child: typeof a) =>
    Number(
      (await child.waitForMatch("stderr", /listening on 127\.0\.0\.1:(\d+)/))[
        1
      ],
    );
  const portA = await portOf(a);
  const portB = await portOf(b);
  await a.waitForMatch(
    "stdout",
    new RegExp(`^${RegExp.escape("# hubjoin b")}$`),
  );
  await using synth = await connect("127.0.0.1", portB);
  await b.waitForMatch("stdout", /^# connect 127\.0\.0\.1:/);
  await using keys = await connect("127.0.0.1", portA);
  await keys.send(message("note_on", { note: 60 }));
  assert.deepEqual(await receiveN(synth, 1), [
    message("note_on", { note: 60 }),
  ]);
  await b.waitForMatch(
    "stdout",
    /^nats:cli note_on channel=0 note=60 velocity=64 time=0$/,
  );
  a.kill("SIGTERM");
  assert.deepEqual(await receiveN(synth, 1), [
    message("note_off", { note: 60 }),
  ]);
  await b.waitForMatch(
    "stdout",
    new RegExp(`^${RegExp.escape("# hubleave a bye released=1")}$`),
  );
  await nats.stop();
  await b.waitForMatch(
    "stdout",
    new RegExp(`^${RegExp.escape("# nats disconnected")}$`),
  );
  await nats.restart();
  await b.waitForMatch(
    "stdout",
    /^# nats reconnected attempts=\d+ downtime=\d+ms dropped=0$/,
  );
  b.kill("SIGTERM");
  const result = await b.result();
  assert.equal(result.code, 0);
  assert.ok(result.stdout.includes("# nats connected bus=cli hub=b\n"));
  assert.ok(result.stdout.includes("# connect nats:cli\n"));
  assert.match(
    result.stdout,
    /# nats closed published=0 received=1 dropped=0 droppedBytes=0 hubDropped=0 lost=0 lostBatches=0 overflowed=0 ignored=0\n/,
  );
  assert.match(result.stdout, /# nats reconnecting attempt=1 delay=\d+ms\n/);
});

Deno.test("midisock serve --nats needs --bus, and --bus needs --nats", async () => {
  for (
    const [args, error] of <[string[], string][]> [
      [["--nats", "nats://127.0.0.1:1"], "--nats needs --bus NAME"],
      [["--bus", "x"], "--bus needs --nats URL"],
      [["--nats", "nats://127.0.0.1:1", "--bus", "a.b"], "Invalid bus option"],
    ]
  ) {
    await using child = midisock(["serve", "127.0.0.1:0", ...args]);
    const result = await child.result();
    assert.equal(result.code, 2, result.stderr);
    assert.ok(result.stderr.includes(error), result.stderr);
  }
});

NATS_SERVER.test("midisock serve reads the NATS token from --nats-token-file, and says when NATS refuses it", async () => {
  await using nats = await NatsServer.start(["--auth", "t0ken"]);
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "midisock-nats-" });
  try {
    const file = `${dir}/token`;
    await Deno.writeTextFile(file, "t0ken\n");
    const args = ["--hub", "h", "--nats-token-file", file];
    await using good = serveOnNats(nats.url, "b", args);
    await good.waitForMatch("stdout", /^# nats connected bus=b hub=h$/);
    good.kill("SIGTERM");
    assert.equal((await good.result()).code, 0);

    await Deno.writeTextFile(file, "wrong\n");
    await using bad = serveOnNats(nats.url, "b", args);
    const result = await bad.result();
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(`Cannot connect to NATS at ${nats.url}: .*[Aa]uthorization`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

NATS_SERVER.test("midisock serve --json --nats prints the bridge's lines as JSON", async () => {
  await using nats = await NatsServer.start();
  await using child = serveOnNats(nats.url, "j", ["--hub", "h", "--json"]);
  await child.waitForMatch("stdout", /"state":"connected"/);
  child.kill("SIGTERM");
  const result = await child.result();
  assert.equal(result.code, 0);
  const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines, [
    { event: "connect", port: "nats:j" },
    { event: "nats", state: "connected", bus: "j", hub: "h" },
    { event: "disconnect", port: "nats:j" },
    {
      event: "nats",
      state: "closed",
      published: 0,
      received: 0,
      dropped: 0,
      droppedBytes: 0,
      hubDropped: 0,
      lost: 0,
      lostBatches: 0,
      overflowed: 0,
      ignored: 0,
    },
  ]);
});

NATS_SERVER.test("A bridge cut off as slow by a hub at maxClients joins it again once its old port is gone", async () => {
  await using nats = await NatsServer.start();
  await using hub = new PortServer("127.0.0.1", 0, {
    relay: true,
    maxClients: 2, // the bridge and the sender: full
  });
  await using bridge = await joinNats(hub, { servers: nats.url, bus: "full" });
  await using sender = await connect("127.0.0.1", hub.port);
  await waitFor(() => hub.stats.clients === 2, "the bridge and the sender");
  const sysex = bigSysex(60_000, 2);
  nats.pause();
  try {
    for (let sent = 0; sent < 2000 && bridge.stats.rejoins < 1; sent++) {
      if (bridge.closed) break;
      await sender.send(sysex);
      if (sent % 16 === 0) await delay(1);
    }
  } finally {
    nats.resume();
  }
  assert.equal(bridge.closed, false, "the bridge stays");
  assert.ok(bridge.stats.rejoins >= 1, "it joined again");
  await waitFor(() => hub.stats.clients === 2, "the bridge back on the hub");
});
