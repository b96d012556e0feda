// Copyright 2026 the midisock authors. MIT license.
// Network MIDI 2.0 sessions, byte by byte: a raw UDP peer sends datagrams
// written by hand from the specification's tables (M2-124-UM v1.0: the
// "MIDI" signature, then command packets of code, payload length in words
// and two command-specific bytes), and the test checks the exact bytes that
// the host answers with. Nothing here is made by our own encoder.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { PortServer } from "../mod.ts";
import { dialMidi2, listenMidi2, type Midi2Session } from "../midi2.ts";
import { hex, RawPeer, textWords, toHexWords } from "./_midi2.ts";
import { waitFor } from "./_net.ts";

const SIG = "4d494449"; // "MIDI"

// Invitation (0x01): payload 2 words, name 1 word, capabilities; then the
// name "Keys" and the Product Instance Id "K-1" (padded).
const INVITATION = hex(
  `${SIG} 01020100 ${textWords("Keys")} ${textWords("K-1")}`,
);

function invitationWithCaps(caps: number): Uint8Array {
  const bytes = INVITATION.slice();
  bytes[7] = caps;
  return bytes;
}

const HOST = { name: "Host", productInstanceId: "H-01" };
// Invitation Reply: Accepted (0x10), payload 2 words, name 1 word.
const ACCEPTED = `${SIG} 10020100 ${textWords("Host")} ${textWords("H-01")}`;

function sha256(...parts: (Uint8Array | string)[]): Uint8Array {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

async function established(
  options: Parameters<typeof listenMidi2>[0] = { port: 0 },
) {
  const sessions: Midi2Session[] = [];
  const listener = await listenMidi2(
    { hostname: "127.0.0.1", ...HOST, ...options },
    (session) => void sessions.push(session),
  );
  const peer = await RawPeer.open();
  await peer.send(INVITATION, listener.port);
  assert.equal(toHexWords((await peer.next())!), ACCEPTED);
  await waitFor(() => sessions.length === 1, "the session");
  return { listener, peer, session: sessions[0] };
}

Deno.test("An Invitation gets Invitation Reply: Accepted, with the host's name and Product Instance Id", async () => {
  const { listener, peer, session } = await established();
  await using _l = listener;
  await using _p = peer;
  assert.equal(session.peerName, "Keys");
  assert.equal(session.peerProductInstanceId, "K-1");
  assert.equal(session.name, `Keys@127.0.0.1:${peer.port}`);
});

Deno.test("An unknown command gets a NAK that echoes its header, and the rest of the datagram is still read", async () => {
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0, ...HOST },
    () => {},
  );
  await using peer = await RawPeer.open();
  // Command 0x55 with one word, then a Ping (0x20) with id 0x01020304.
  await peer.send(
    hex(`${SIG} 55010000 deadbeef 20010000 01020304`),
    listener.port,
  );
  // NAK (0x8F): payload 1 word (the header), reason 0x01 Command Not Supported.
  assert.equal(toHexWords((await peer.next())!), `${SIG} 8f010100 55010000`);
  // Ping Reply (0x21) with the same id.
  assert.equal(toHexWords((await peer.next())!), `${SIG} 21010000 01020304`);
  assert.equal(listener.stats.naksSent, 1);
});

Deno.test("The same in a session: an unknown command is NAKed and the UMP Data after it delivered", async () => {
  const { listener, peer, session } = await established();
  await using _l = listener;
  await using _p = peer;
  const reader = session.readable.getReader();
  await peer.send(
    hex(`${SIG} 77000000 ff010000 20903c64`),
    listener.port,
  );
  assert.equal(toHexWords((await peer.next())!), `${SIG} 8f010100 77000000`);
  assert.deepEqual((await reader.read()).value, hex("903c64"));
  reader.releaseLock();
});

Deno.test("UMP Data from an address with no session gets a Bye, reason Session Not Established (0x05)", async () => {
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0, ...HOST },
    () => assert.fail("no session"),
  );
  await using peer = await RawPeer.open();
  await peer.send(hex(`${SIG} ff010000 20903c64`), listener.port);
  assert.equal(toHexWords((await peer.next())!), `${SIG} f0000500`);
  assert.equal(listener.stats.noSession, 1);
  // A datagram with a bad signature is counted, and answered with nothing.
  await peer.send(hex("4d494458 20010000 00000001"), listener.port);
  assert.equal(await peer.next(200), undefined);
  assert.equal(listener.stats.malformed, 1);
});

Deno.test("Ping gets Ping Reply; the host's UMP Data starts at sequence number 0, with FEC of the commands before", async () => {
  await using bus = new PortServer("127.0.0.1", 0);
  const sessions: Midi2Session[] = [];
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0, ...HOST, pingInterval: 60_000 },
    (session) => {
      sessions.push(session);
      bus.admit(session, { name: session.name });
    },
  );
  await using peer = await RawPeer.open();
  await peer.send(INVITATION, listener.port);
  assert.equal(toHexWords((await peer.next())!), ACCEPTED);
  await peer.send(hex(`${SIG} 20010000 cafef00d`), listener.port);
  assert.equal(
    toHexWords(await peer.nextWith(0x21)),
    `${SIG} 21010000 cafef00d`,
  );
  await bus.send({ type: "note_on", channel: 0, note: 60, velocity: 100 });
  // UMP Data (0xFF): payload 1 word, sequence number 0; MT 0x2 note on.
  assert.equal(
    toHexWords(await peer.nextWith(0xff)),
    `${SIG} ff010000 20903c64`,
  );
  await bus.send({ type: "control_change", channel: 1, control: 7, value: 3 });
  // Sequence number 1, after the FEC copy of number 0.
  assert.equal(
    toHexWords(await peer.nextWith(0xff)),
    `${SIG} ff010000 20903c64 ff010001 20b10703`,
  );
  // A little later, a UMP Data command with no UMP (number 2) after the
  // FEC commands: the last one can be recovered.
  assert.equal(
    toHexWords(await peer.nextWith(0xff)),
    `${SIG} ff010000 20903c64 ff010001 20b10703 ff000002`,
  );
  // Retransmit Request (0x80) for number 0, count 1: sent again.
  await peer.send(hex(`${SIG} 80010000 00010000`), listener.port);
  assert.equal(
    toHexWords(await peer.nextWith(0xff)),
    `${SIG} ff010000 20903c64`,
  );
  // For number 9, never sent: Retransmit Error (0x81), reason 0x01 Data Not
  // Available, the number in the payload.
  await peer.send(hex(`${SIG} 80010009 00010000`), listener.port);
  assert.equal(
    toHexWords(await peer.nextWith(0x81)),
    `${SIG} 81010100 00090000`,
  );
  // Session Reset (0x82) gets Session Reset Reply (0x83), and the numbers
  // start again from 0.
  await peer.send(hex(`${SIG} 82000000`), listener.port);
  assert.equal(toHexWords(await peer.nextWith(0x83)), `${SIG} 83000000`);
  await bus.send({ type: "stop" });
  assert.equal(
    toHexWords(await peer.nextWith(0xff)),
    `${SIG} ff010000 10fc0000`,
  );
  // Bye (0xF0) reason 0x01 gets Bye Reply (0xF1); the session ends, and
  // its port leaves the bus.
  await peer.send(hex(`${SIG} f0000100`), listener.port);
  assert.equal(toHexWords(await peer.nextWith(0xf1)), `${SIG} f1000000`);
  await waitFor(() => bus.stats.clients === 0, "the port to leave");
  assert.match(sessions[0].endReason, /Bye reason 0x01/);
});

Deno.test("A shared secret: Authentication Required with a nonce, SHA-256(nonce, secret), and Incorrect Digest for a wrong one", async () => {
  const sessions: Midi2Session[] = [];
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0, ...HOST, secret: "s3cr3t" },
    (session) => void sessions.push(session),
  );
  const refusals: string[] = [];
  listener.addEventListener("refused", (e) => refusals.push(e.reason));
  await using peer = await RawPeer.open();
  // A client that cannot authenticate: Bye 0x45, No Matching Authentication
  // Method.
  await peer.send(INVITATION, listener.port);
  const bye = (await peer.next())!;
  assert.equal(
    toHexWords(bye.subarray(0, 8)),
    `${SIG} f0${bye[5].toString(16).padStart(2, "0")}4500`,
  );
  // Capabilities bit 0: Invitation with Authentication.
  await peer.send(invitationWithCaps(0x01), listener.port);
  let reply = (await peer.next())!;
  // 0x12, payload 6 words (nonce 4, name 1, PIID 1), name 1 word, state 0.
  assert.equal(toHexWords(reply.subarray(0, 8)), `${SIG} 12060100`);
  assert.equal(
    toHexWords(reply.subarray(24)),
    `${textWords("Host")} ${textWords("H-01")}`,
  );
  let nonce = reply.subarray(8, 24);
  // A wrong secret: the challenge again, state 0x01, a new nonce.
  await peer.send(
    hex(`${SIG} 02080000 ${toHexWords(sha256(nonce, "wrong"))}`),
    listener.port,
  );
  reply = (await peer.next())!;
  assert.equal(toHexWords(reply.subarray(0, 8)), `${SIG} 12060101`);
  assert.notDeepEqual(reply.subarray(8, 24), nonce);
  nonce = reply.subarray(8, 24).slice();
  assert.equal(sessions.length, 0);
  // The right one: Accepted.
  await peer.send(
    hex(`${SIG} 02080000 ${toHexWords(sha256(nonce, "s3cr3t"))}`),
    listener.port,
  );
  assert.equal(toHexWords((await peer.next())!), ACCEPTED);
  await waitFor(() => sessions.length === 1, "the session");
  assert.equal(refusals.length, 2);
  assert.match(refusals[1], /wrong shared secret/);
});

Deno.test("Users: User Authentication Required, SHA-256(nonce, user, password); three wrong answers get Bye 0x43", async () => {
  const sessions: Midi2Session[] = [];
  await using listener = await listenMidi2(
    {
      hostname: "127.0.0.1",
      port: 0,
      ...HOST,
      users: new Map([["ada", "lovelace"]]),
    },
    (session) => void sessions.push(session),
  );
  await using peer = await RawPeer.open();
  const answer = (nonce: Uint8Array, user: string, password: string) =>
    hex(
      `${SIG} 03090000 ${toHexWords(sha256(nonce, user, password))} ${
        textWords(user)
      }`,
    );
  await peer.send(invitationWithCaps(0x02), listener.port);
  let reply = (await peer.next())!;
  assert.equal(toHexWords(reply.subarray(0, 8)), `${SIG} 13060100`);
  for (const [user, password] of [["ada", "babbage"], ["bob", "lovelace"]]) {
    await peer.send(
      answer(reply.subarray(8, 24), user, password),
      listener.port,
    );
    reply = (await peer.next())!;
    // Incorrect Digest, for a wrong password and an unknown user alike.
    assert.equal(toHexWords(reply.subarray(0, 8)), `${SIG} 13060101`);
  }
  await peer.send(answer(reply.subarray(8, 24), "ada", "x"), listener.port);
  reply = (await peer.next())!;
  // Bye, reason 0x43 Authentication Failed, with a text.
  assert.equal(reply[4], 0xf0);
  assert.equal(reply[6], 0x43);
  assert.equal(sessions.length, 0);
  // Start again, and answer right.
  await peer.send(invitationWithCaps(0x02), listener.port);
  reply = (await peer.next())!;
  await peer.send(
    answer(reply.subarray(8, 24), "ada", "lovelace"),
    listener.port,
  );
  assert.equal(toHexWords((await peer.next())!), ACCEPTED);
  await waitFor(() => sessions.length === 1, "the session");
  // An answer that answers no challenge: Bye 0x41.
  await using other = await RawPeer.open();
  await other.send(
    answer(new Uint8Array(16), "ada", "lovelace"),
    listener.port,
  );
  reply = (await other.next())!;
  assert.equal(
    toHexWords(reply.subarray(4, 8)),
    `f0${reply[5].toString(16).padStart(2, "0")}4100`,
  );
});

Deno.test("A session that answers nothing is ended after the timeout, with Bye 0x04, and pinged before", async () => {
  const { listener, peer, session } = await established({
    port: 0,
    pingInterval: 40,
    timeout: 300,
  });
  await using _l = listener;
  await using _p = peer;
  // Pings (0x20) with a 32-bit id, one word.
  const ping = await peer.nextWith(0x20);
  assert.equal(toHexWords(ping.subarray(0, 8)), `${SIG} 20010000`);
  const bye = await peer.nextWith(0xf0);
  assert.equal(bye[6], 0x04);
  await session.ended;
  assert.match(session.endReason, /nothing from the peer/);
  assert.equal(listener.sessions.length, 0);
});

Deno.test("A client's Session Reset: numbers start again from 0 both ways, and nothing is lost or repeated", async () => {
  const hosted = Promise.withResolvers<Midi2Session>();
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0 },
    (session) => hosted.resolve(session),
  );
  await using client = await dialMidi2("127.0.0.1", listener.port);
  const host = await hosted.promise;
  const reader = host.readable.getReader();
  const writer = client.writable.getWriter();
  for (const note of [1, 2, 3]) {
    await writer.write(new Uint8Array([0x90, note, 1]));
  }
  for (const note of [1, 2, 3]) {
    assert.deepEqual(
      (await reader.read()).value,
      new Uint8Array([0x90, note, 1]),
    );
  }
  await client.reset(); // resolves on the host's Session Reset Reply
  await writer.write(new Uint8Array([0x90, 4, 1]));
  assert.deepEqual((await reader.read()).value, new Uint8Array([0x90, 4, 1]));
  assert.equal(host.stats.lost, 0);
  assert.equal(client.stats.commandsOut, host.stats.delivered);
  reader.releaseLock();
  writer.releaseLock();
});

Deno.test("ping() gives the round trip, and rejects when its signal aborts or the session ends", async () => {
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0 },
    () => {},
  );
  await using client = await dialMidi2("127.0.0.1", listener.port);
  const rtt = await client.ping();
  assert.ok(rtt >= 0 && rtt < 5000);
  const aborted = AbortSignal.abort(new Error("stop"));
  await assert.rejects(client.ping(aborted), /stop/);
  client.close();
  await assert.rejects(client.ping(), /the session has ended/);
});
