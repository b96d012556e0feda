// Copyright 2026 the midisock authors. MIT license.
// Fuzz through a live Network MIDI 2.0 session: a peer in a session with a
// host on a bus sends random and malformed datagrams (random bytes, lengths
// that lie, unknown commands, UMP Data of random words and sequence numbers,
// truncated headers), seeded and bounded. Nothing throws or stalls: the host
// still answers a Ping, NAKs what the specification says to NAK, and after a
// Session Reset the peer's UMP still reaches the bus. Reproduce a failure
// with MIDISOCK_SEED=N.

import assert from "node:assert/strict";
import { message, PortServer } from "../mod.ts";
import { listenMidi2, type Midi2Session } from "../midi2.ts";
import { hex, RawPeer, textWords, toHexWords } from "./_midi2.ts";
import { waitFor, within } from "./_net.ts";
import { Random, testSeed } from "./_random.ts";

const SIG = "4d494449";
const DATAGRAMS = 3000;
const INVITATION = hex(
  `${SIG} 01020100 ${textWords("Fuzz")} ${textWords("F-1")}`,
);

/** One random datagram, of one of several shapes. */
function datagram(rng: Random): Uint8Array {
  const kind = rng.int(0, 6);
  if (kind === 0) return rng.bytes(rng.int(0, 64)); // anything at all
  const out: number[] = [0x4d, 0x49, 0x44, 0x49];
  const commands = rng.int(0, 6);
  for (let c = 0; c < commands; c++) {
    let code = rng.pick([
      0x01,
      0x02,
      0x03,
      0x10,
      0x11,
      0x12,
      0x13,
      0x20,
      0x21,
      0x80,
      0x81,
      0x82,
      0x83,
      0x8f,
      0x7f,
      0xf1,
      0xff,
      0xff,
      0xff,
      rng.int(0, 255),
    ]);
    // A Bye would end the session, an Invitation start it again: see below.
    if (code === 0xf0) code = 0xf1;
    if (code === 0x01) code = 0x11;
    const words = rng.int(0, kind === 1 ? 255 : 20);
    // A length that lies: more words than follow, or fewer.
    const said = kind === 2 ? rng.int(0, 255) : words;
    out.push(code, said, rng.int(0, 255), rng.int(0, 255));
    for (let w = 0; w < words; w++) {
      if (code === 0xff && rng.chance(0.8)) {
        // A UMP word of a random message type, group 0.
        const mt = rng.int(0, 15);
        out.push(mt << 4, rng.int(0, 255), rng.int(0, 127), rng.int(0, 127));
      } else {
        out.push(...rng.bytes(4));
      }
    }
  }
  if (kind === 3) out.length = Math.max(4, out.length - rng.int(1, 7)); // cut
  return new Uint8Array(out);
}

Deno.test("Fuzz: random and malformed datagrams in a live session never throw or stall it", async () => {
  const seed = testSeed();
  const rng = new Random(seed);
  await using bus = new PortServer("127.0.0.1", 0);
  const sessions: Midi2Session[] = [];
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0, pingInterval: 60_000 },
    (session) => {
      sessions.push(session);
      bus.admit(session, { name: session.name });
    },
  );
  const drops: string[] = [];
  listener.addEventListener("drop", (e) => drops.push(e.reason));
  await using peer = await RawPeer.open();
  await peer.send(INVITATION, listener.port);
  assert.equal((await peer.next())![4], 0x10, `seed ${seed}`);
  await waitFor(() => sessions.length === 1, "the session");
  const started = performance.now();
  for (let i = 0; i < DATAGRAMS && performance.now() - started < 10_000; i++) {
    await peer.send(datagram(rng), listener.port);
    if (i % 50 === 49) {
      // Let the host read, and what it answers not pile up.
      await new Promise((resolve) => setTimeout(resolve, 1));
      peer.drain();
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  peer.drain();
  const session = sessions[0];
  assert.equal(session.closed, false, `seed ${seed}: ${session.endReason}`);
  // It still answers: a Ping gets its Ping Reply.
  await peer.send(hex(`${SIG} 20010000 0badf00d`), listener.port);
  let reply = toHexWords(await peer.nextWith(0x21));
  while (reply !== `${SIG} 21010000 0badf00d`) { // a fuzz Ping's, late
    reply = toHexWords(await peer.nextWith(0x21));
  }
  // An unknown command still gets its NAK.
  await peer.send(hex(`${SIG} 5a000000`), listener.port);
  assert.equal(
    toHexWords(await peer.nextWith(0x8f)),
    `${SIG} 8f010100 5a000000`,
  );
  // After a Session Reset, UMP Data from 0 reaches the bus.
  await peer.send(hex(`${SIG} 82000000`), listener.port);
  await peer.nextWith(0x83);
  while (bus.poll() !== undefined) { /* what the fuzz delivered */ }
  await peer.send(hex(`${SIG} ff010000 20907f01`), listener.port);
  let received = await within(bus.receive(), "the note after the fuzz");
  while (received.type !== "note_on" || received.note !== 127) {
    received = await within(bus.receive(), "the note after the fuzz");
  }
  assert.deepEqual(received, message("note_on", { note: 127, velocity: 1 }));
  const stats = session.stats;
  assert.ok(stats.naksSent > 0 && stats.malformed > 0, JSON.stringify(stats));
  assert.ok(drops.length > 0);
  // A Bye ends it cleanly, with its reply.
  await peer.send(hex(`${SIG} f0000100`), listener.port);
  await peer.nextWith(0xf1);
  await session.ended;
});

Deno.test("Fuzz: datagrams from addresses with no session are answered, never taken in", async () => {
  const rng = new Random(testSeed() ^ 0x5a5a);
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0, secret: "s" },
    () => assert.fail("no session may be made"),
  );
  await using peer = await RawPeer.open();
  for (let i = 0; i < 1000; i++) {
    const bytes = datagram(rng);
    // No invitation with the capability the host wants: no session.
    if (bytes[4] === 0x01 && bytes.length > 7) bytes[7] &= 0xfe;
    await peer.send(bytes, listener.port);
    if (i % 50 === 49) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      peer.drain();
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 100));
  peer.drain();
  await peer.send(hex(`${SIG} 20010000 00000001`), listener.port);
  let reply = toHexWords(await peer.nextWith(0x21));
  while (reply !== `${SIG} 21010000 00000001`) { // a fuzz Ping's, late
    reply = toHexWords(await peer.nextWith(0x21));
  }
  assert.equal(listener.sessions.length, 0);
  assert.ok(listener.stats.datagrams > 1000);
});
