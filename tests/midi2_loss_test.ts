// Copyright 2026 the midisock authors. MIT license.
// Network MIDI 2.0 through a UDP proxy that drops, duplicates and reorders
// the client's datagrams: the host delivers every message exactly once and in
// order, and counts how: FEC for single drops (no retransmit), Retransmit
// Requests for runs of five, duplicates dropped, reordered commands held.

import assert from "node:assert/strict";
import {
  dialMidi2,
  type DialMidi2Options,
  listenMidi2,
  type Midi2Session,
} from "../midi2.ts";
import { type ProxyAction, UdpProxy } from "./_midi2.ts";
import { concat, delay, within } from "./_net.ts";

const N = 400;

/** N note messages, each 3 bytes: what the client plays. */
function notes(): Uint8Array[] {
  return Array.from(
    { length: N },
    (_, i) => new Uint8Array([0x90 | (i % 16), i % 128, (i * 7) % 127 + 1]),
  );
}

/** Plays the notes through a proxy with `policy`, and reads them at the host. */
async function throughProxy(
  policy: (index: number) => ProxyAction,
  client: DialMidi2Options = {},
) {
  const hosted = Promise.withResolvers<Midi2Session>();
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0, pingInterval: 60_000 },
    (session) => hosted.resolve(session),
  );
  await using proxy = await UdpProxy.start(listener.port, policy);
  await using session = await dialMidi2("127.0.0.1", proxy.port, {
    pingInterval: 60_000,
    ...client,
  });
  const host = await hosted.promise;
  const reader = host.readable.getReader();
  const expected = concat(notes());
  const chunks: Uint8Array[] = [];
  let got = 0;
  const reading = (async () => {
    while (got < expected.length) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      got += value.length;
    }
  })();
  const writer = session.writable.getWriter();
  let i = 0;
  for (const note of notes()) {
    await writer.write(note); // one datagram each
    // A fast stream (some 1,000 notes a second), within what the sender's
    // buffer of 50 commands covers for a retransmit.
    if (++i % 2 === 0) await delay(1);
  }
  writer.releaseLock();
  await within(reading, `${expected.length} bytes at the host`);
  reader.releaseLock();
  assert.deepEqual(concat(chunks), expected, "exactly once, in order");
  // Nothing more comes (no late duplicate).
  await delay(50);
  // Every command the client sent (the notes, and the empty ones that
  // carry FEC after a pause), delivered once.
  assert.equal(host.stats.delivered, session.stats.commandsOut);
  assert.ok(host.stats.delivered >= N);
  return { stats: host.stats, counts: { ...proxy.counts } };
}

Deno.test("Single drops: FEC recovers each, with no Retransmit Request", async () => {
  const { stats, counts } = await throughProxy((i) =>
    i < N && i % 9 === 4 ? "drop" : "pass"
  );
  assert.ok(counts.dropped >= 40, `dropped ${counts.dropped}`);
  assert.equal(stats.fecRecovered, counts.dropped);
  assert.equal(stats.retransmitRequests, 0);
  assert.equal(stats.retransmitRecovered, 0);
  assert.equal(stats.lost, 0);
  // Each command came 3 times (itself, then twice as FEC): the copies are
  // dropped.
  assert.ok(stats.duplicates >= N, `duplicates ${stats.duplicates}`);
});

Deno.test("Runs of five drops: Retransmit Requests recover what FEC cannot", async () => {
  const runs = new Set([50, 51, 52, 53, 54, 200, 201, 202, 203, 204]);
  const { stats, counts } = await throughProxy((i) =>
    runs.has(i) ? "drop" : "pass"
  );
  assert.equal(counts.dropped, 10);
  // Of each run, FEC brings the last two, and a retransmit the first three.
  assert.equal(stats.fecRecovered, 4);
  assert.equal(stats.retransmitRecovered, 6);
  assert.ok(stats.retransmitRequests >= 2);
  assert.equal(stats.lost, 0);
});

Deno.test("Duplicated and reordered datagrams: each command once, in order", async () => {
  const { stats, counts } = await throughProxy((i) =>
    i % 10 === 3 ? "hold" : i % 10 === 6 ? "duplicate" : "pass"
  );
  assert.ok(counts.reordered >= 40 && counts.duplicated >= 40);
  assert.equal(stats.lost, 0);
  assert.equal(stats.retransmitRequests, 0);
  // With FEC, a held datagram's command comes first in the next one's FEC.
  assert.equal(stats.fecRecovered, counts.reordered);
});

Deno.test("Without FEC: reordered commands are held and delivered in order, a run of drops retransmitted", async () => {
  const { stats, counts } = await throughProxy(
    (i) =>
      i >= 100 && i < 105
        ? "drop"
        : i % 10 === 3
        ? "hold"
        : i % 10 === 6
        ? "duplicate"
        : "pass",
    { fec: 0 },
  );
  assert.equal(stats.fecRecovered, 0);
  assert.equal(counts.dropped, 5);
  assert.equal(stats.reordered, counts.reordered);
  assert.ok(stats.duplicates >= counts.duplicated);
  assert.ok(stats.retransmitRecovered >= 4);
  assert.equal(stats.lost, 0);
});
