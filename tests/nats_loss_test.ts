// Copyright 2026 the midisock authors. MIT license.
// Losses across NATS, counted: every MIDI message that one hub's clients
// send reaches another hub's clients, or is counted once, by the hub that
// can know it, in MIDI messages. A real nats-server is paused (SIGSTOP),
// killed and started again under a stream of messages.

import assert from "node:assert/strict";
import { connect, message, PortServer } from "../mod.ts";
import { type HubEvent, joinNats, type NatsDropEvent } from "../nats.ts";
import { countMessages } from "../src/nats/_wire.ts";
import { connectNats, natsHeaders } from "../src/nats/_transport.ts";
import { midisock } from "./_child.ts";
import { NatsServer } from "./_nats_server.ts";
import { bigSysex, delay, receiveN, waitFor } from "./_net.ts";

/** Waits until `n` clients are on `server` (its bridge among them). */
function clients(server: PortServer, n: number): Promise<void> {
  return waitFor(() => server.ports.length === n, `${n} clients`);
}

Deno.test("sent - received = the two hubs' loss counters, exactly, through a 5 s pause of nats-server and a kill", async () => {
  await using nats = await NatsServer.start();
  await using a = new PortServer("127.0.0.1", 0, { relay: true });
  // Hub B waits for its client, which reads all along: it drops nothing.
  await using b = new PortServer("127.0.0.1", 0, {
    relay: true,
    slowClient: "wait",
  });
  const options = { servers: nats.url, bus: "loss", heartbeat: 250 };
  await using bridgeA = await joinNats(a, {
    ...options,
    hub: "a",
    hubTimeout: 1000,
  });
  await using bridgeB = await joinNats(b, {
    ...options,
    hub: "b",
    hubTimeout: 1000,
  });
  const drops: NatsDropEvent[] = [];
  bridgeA.addEventListener("drop", (e) => drops.push(e));
  const gaps: HubEvent[] = [];
  bridgeB.addEventListener("hubgap", (e) => gaps.push(e));
  await using sender = await connect("127.0.0.1", a.port);
  await using receiver = await connect("127.0.0.1", b.port);
  await clients(a, 2);
  await clients(b, 2);
  await waitFor(() => bridgeB.hubs.includes("a"), "hub b to hear hub a");

  let got = 0;
  let last = performance.now();
  const reading = (async () => {
    for await (const _ of receiver) {
      got++;
      last = performance.now();
    }
  })();

  // N messages spread over the scenario (in ms from the start): a pause
  // longer than the hub timeout and than NATS's ping limit, then a kill.
  const N = 20_000;
  const [pauseAt, resumeAt, killAt, restartAt, end] = [
    1000,
    6000,
    7500,
    9500,
    11_000,
  ];
  const t0 = performance.now();
  const scenario = (async () => {
    await delay(pauseAt);
    nats.pause();
    await delay(resumeAt - pauseAt);
    nats.resume();
    await delay(killAt - resumeAt);
    await nats.stop("SIGKILL");
    await delay(restartAt - killAt);
    await nats.restart();
  })();
  let sent = 0;
  try {
    while (sent < N) {
      const due = Math.min(N, Math.ceil(N * (performance.now() - t0) / end));
      for (; sent < due; sent++) {
        await sender.send(
          message("polytouch", { note: sent % 128, value: (sent >> 7) % 128 }),
        );
      }
      await delay(5);
    }
  } finally {
    await scenario;
  }

  // Until all is still: both links up, hub b hears hub a (whose heartbeats
  // carry its last numbers), and nothing came for 1.5 s.
  await waitFor(
    () =>
      bridgeA.connected && bridgeB.connected && bridgeB.hubs.includes("a") &&
      bridgeA.stats.queuedBytes === 0 && performance.now() - last > 1500,
    "the bus to settle",
    30_000,
  );
  const sa = bridgeA.stats;
  const sb = bridgeB.stats;
  const detail = JSON.stringify({ sent, got, a: sa, b: sb });
  // Each side on its own: hub a's clients' messages were published, or
  // dropped by its bridge or by hub a for it; what was published arrived
  // at hub b's bridge, or is counted there as lost on the way.
  assert.equal(sa.published + sa.dropped + sa.hubDropped, sent, detail);
  assert.equal(sb.received + sb.lost, sa.published, detail);
  assert.equal(sb.overflowed + b.stats.droppedBytes, 0, detail);
  // The guarantee: what did not arrive is the sum of the loss counters.
  assert.equal(
    sent - got,
    sa.dropped + sa.hubDropped + sb.lost + sb.overflowed,
    detail,
  );
  assert.ok(sent - got > 0, `the scenario lost messages: ${detail}`);
  // And each loss was an event that names the hub, in MIDI messages.
  const dropped = drops.reduce((n, e) => n + e.dropped, 0);
  assert.equal(dropped, sa.dropped + sa.hubDropped, detail);
  assert.ok(drops.every((e) => e.hub === "a"));
  const lost = gaps.reduce((n, e) => n + e.lost + e.overflowed, 0);
  assert.equal(lost, sb.lost + sb.overflowed, detail);
  assert.ok(gaps.every((e) => e.hub === "a" && e.lostBatches === 0));

  await receiver.close();
  await reading;
});

Deno.test("What a hub drops for its bridge, cut off as slow, or relays while a full hub holds the bridge out, is counted in MIDI messages", async () => {
  await using nats = await NatsServer.start();
  await using hub = new PortServer("127.0.0.1", 0, {
    relay: true,
    maxClients: 2, // the bridge and the sender: full
  });
  await using bridge = await joinNats(hub, { servers: nats.url, bus: "full" });
  const drops: NatsDropEvent[] = [];
  bridge.addEventListener("drop", (e) => drops.push(e));
  await using sender = await connect("127.0.0.1", hub.port);
  await clients(hub, 2);
  // NATS reads nothing: the bridge's queue fills, then the hub's for it,
  // which the hub cuts off; the old port holds the slot a while, and what
  // the hub relays meanwhile reaches no bridge.
  const sysex = bigSysex(60_000, 3);
  nats.pause();
  let sent = 0;
  try {
    for (; sent < 2000 && bridge.stats.rejoins < 2; sent++) {
      await sender.send(sysex);
      if (sent % 16 === 0) await delay(1);
    }
  } finally {
    nats.resume();
  }
  await waitFor(() => bridge.connected, "the link to NATS");
  // Every message sent has reached the hub (none is still on its way from
  // the sender), so each is the bridge's to count.
  await waitFor(() => hub.stats.received === sent, "the hub to take all");
  await bridge.close();
  const s = bridge.stats;
  const detail = JSON.stringify({ sent, stats: s, hub: hub.stats });
  assert.ok(s.rejoins >= 2, detail);
  assert.ok(s.hubDropped > 0, detail);
  assert.equal(s.published + s.dropped + s.hubDropped, sent, detail);
  // The hub counts the bytes it dropped for the bridge's ports too; not
  // those it relayed while the bridge was out.
  assert.ok(s.hubDroppedBytes >= hub.stats.droppedBytes, detail);
  assert.equal(
    drops.reduce((n, e) => n + e.dropped, 0),
    s.dropped + s.hubDropped,
  );
  assert.ok(drops.some((e) => e.reason === "slow"), detail);
});

/** A hub by hand: publishes NATS messages with the bus's headers. */
async function byHand(url: string) {
  const nc = await connectNats({ servers: url });
  return {
    publish(
      seq: number,
      bytes: number[],
      extra: { count?: number; instance?: string } = {},
    ) {
      const h = natsHeaders();
      h.set("Midisock-Hub", "far");
      h.set("Midisock-Seq", String(seq));
      if (extra.count !== undefined) {
        h.set("Midisock-Count", String(extra.count));
      }
      if (extra.instance) h.set("Midisock-Instance", extra.instance);
      nc.publish("midisock.test.far", new Uint8Array(bytes), { headers: h });
      return nc.flush();
    },
    [Symbol.asyncDispose]: () => nc.close(),
  };
}

Deno.test("A hub that times out and comes back counts the gap across its absence, in MIDI messages; a new run of it, or a late message, does not", async () => {
  await using nats = await NatsServer.start();
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  await using bridge = await joinNats(server, {
    servers: nats.url,
    bus: "test",
    heartbeat: 50,
    hubTimeout: 200,
  });
  await using listener = await connect("127.0.0.1", server.port);
  await clients(server, 2);
  const events: string[] = [];
  for (const type of ["hubjoin", "hubleave", "hubgap"] as const) {
    bridge.addEventListener(type, (e) => {
      events.push(`${type} ${e.reason} lost=${e.lost} ${e.lostBatches}`);
    });
  }
  await using far = await byHand(nats.url);
  const run1 = { instance: "run1" };
  // Two messages, then silence: the hub leaves by timeout.
  await far.publish(1, [0xa0, 1, 1, 0xa0, 2, 2], { ...run1, count: 2 });
  assert.equal((await receiveN(listener, 2)).length, 2);
  await waitFor(() => bridge.hubs.length === 0, "the timeout");
  // Back as the same run, with 7 messages lost meanwhile (numbers 2 and 3).
  await far.publish(4, [0xa0, 3, 3], { ...run1, count: 10 });
  assert.deepEqual(await receiveN(listener, 1), [
    message("polytouch", { note: 3, value: 3 }),
  ]);
  // A late one of that run (number 3, counted already): not taken.
  await far.publish(3, [0xa0, 9, 9], { ...run1, count: 9 });
  // A new run (it restarted): counted from here, no loss.
  await far.publish(1, [0xa0, 4, 4], { instance: "run2", count: 1 });
  await far.publish(0, [], { instance: "run2", count: 1 }); // no: late
  await far.publish(1, [], { instance: "run2", count: 1 }); // its heartbeat
  assert.deepEqual(await receiveN(listener, 1), [
    message("polytouch", { note: 4, value: 4 }),
  ]);
  await delay(50);
  assert.equal(listener.poll(), undefined);
  const s = bridge.stats;
  assert.deepEqual(
    [s.received, s.lost, s.lostBatches, s.ignored],
    [4, 7, 0, 2],
  );
  assert.deepEqual(events.slice(0, 5), [
    "hubjoin  lost=0 0",
    "hubleave timeout lost=0 0",
    "hubjoin  lost=0 0",
    "hubgap gap lost=7 0",
    "hubgap gap lost=0 0", // the restart releases what the old run had on
  ]);
});

Deno.test("countMessages counts the messages that end in a payload, as a parser fed the payloads in turn completes them", () => {
  // note_on, a sysex of 4 data bytes, clock, tune_request, program_change.
  const bytes = new Uint8Array([
    0x90,
    60,
    100,
    0xf0,
    1,
    2,
    3,
    4,
    0xf7,
    0xf8,
    0xf6,
    0xc0,
    5,
  ]);
  assert.equal(countMessages(bytes), 5);
  for (let size = 1; size <= bytes.length; size++) {
    let n = 0;
    for (let i = 0; i < bytes.length; i += size) {
      n += countMessages(bytes, i, Math.min(bytes.length, i + size));
    }
    assert.equal(n, 5, `payloads of ${size}`);
  }
  // Cut just before the sysex's F7: the sysex ends in the next payload.
  assert.equal(countMessages(bytes, 0, 8), 1);
  assert.equal(countMessages(bytes, 8, 9), 1);
  assert.equal(countMessages(new Uint8Array(0)), 0);
});

Deno.test("midisock serve --nats prints each loss in MIDI messages, and names the hub", async () => {
  await using nats = await NatsServer.start();
  const serve = (hub: string) =>
    midisock([
      "serve",
      "127.0.0.1:0",
      "--nats",
      nats.url,
      "--bus",
      "cli",
      "--hub",
      hub,
    ]);
  await using a = serve("a");
  await using b = serve("b");
  const port = Number(
    (await a.waitForMatch("stderr", /listening on 127\.0\.0\.1:(\d+)/))[1],
  );
  await b.waitForMatch("stdout", /^# hubjoin a$/);
  await using keys = await connect("127.0.0.1", port);
  await a.waitForMatch("stdout", /^# connect 127\.0\.0\.1:/);
  // Sent while the link is down: dropped by hub a, 2 messages of 3 bytes.
  await nats.stop();
  await a.waitForMatch("stdout", /^# nats disconnected/);
  await keys.send(message("note_on", { note: 60 }));
  await keys.send(message("note_off", { note: 60 }));
  await a.waitForMatch("stdout", /^127\.0\.0\.1:\d+ note_off /);
  await nats.restart();
  await a.waitForMatch(
    "stdout",
    /^# nats dropped hub=a messages=2 droppedBytes=6 reason=down$/,
  );
  await a.waitForMatch(
    "stdout",
    /^# nats reconnected attempts=\d+ downtime=\d+ms dropped=2$/,
  );
  // Hub b sees the numbers skip, and counts no loss of its own.
  await b.waitForMatch("stdout", /^# hubgap a lost=0 released=0$/);
  a.kill("SIGTERM");
  b.kill("SIGTERM");
  const [ra, rb] = [await a.result(), await b.result()];
  assert.equal(ra.code, 0);
  assert.match(
    ra.stdout,
    /# nats closed published=0 received=0 dropped=2 droppedBytes=6 hubDropped=0 lost=0 lostBatches=0 overflowed=0 ignored=0\n/,
  );
  assert.match(rb.stdout, /# nats closed .* lost=0 lostBatches=0 /);
});
