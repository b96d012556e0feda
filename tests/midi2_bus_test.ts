// Copyright 2026 the midisock authors. MIT license.
// Network MIDI 2.0 sessions on the bus: a midisock client joins a midisock
// host (no authentication, a shared secret, a user), and what it plays
// crosses exactly to a mido client over TCP on the same bus, which echoes it
// back (tests/fixtures/mido_echo.py); a 1 MiB sysex too. A MIDI 2.0 protocol
// endpoint (a raw UDP peer, its UMP written by hand) gets the exact MT 0x4
// upscaled values, and the bus gets the exact downscaled ones.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  formatMessage,
  type Message,
  message,
  PortServer,
  SocketPort,
} from "../mod.ts";
import {
  dialMidi2,
  type DialMidi2Options,
  listenMidi2,
  type Midi2ListenerOptions,
  Midi2RefusedError,
  type Midi2Session,
} from "../midi2.ts";
import { PyChild } from "./_py_child.ts";
import { hex, RawPeer, textWords, toHexWords } from "./_midi2.ts";
import { bigSysex, waitFor, within } from "./_net.ts";
import { MIDO } from "./_peers.ts";

const ECHO = new URL("./fixtures/mido_echo.py", import.meta.url).pathname;
const SIG = "4d494449";

/** What mido_echo.py prints for a message. */
function echoLine(msg: Message): string {
  if (msg.type === "sysex") {
    const sha = createHash("sha256").update(msg.data).digest("hex");
    return `sysex ${msg.data.length} ${sha}`;
  }
  return formatMessage(msg);
}

const PLAYED: Message[] = [
  message("note_on", { channel: 0, note: 60, velocity: 100 }),
  message("control_change", { channel: 1, control: 7, value: 127 }),
  message("control_change", { channel: 1, control: 64, value: 0 }),
  message("pitchwheel", { channel: 2, pitch: -8192 }),
  message("pitchwheel", { channel: 2, pitch: 8191 }),
  message("pitchwheel", { channel: 2, pitch: 0 }),
  message("program_change", { channel: 3, program: 5 }),
  message("aftertouch", { channel: 4, value: 33 }),
  message("polytouch", { channel: 5, note: 61, value: 44 }),
  message("sysex", { data: [1, 2, 3, 0x7f] }),
  message("songpos", { pos: 1000 }),
  message("clock"),
  message("note_off", { channel: 0, note: 60, velocity: 0 }),
];

async function roundTrip(
  host: Omit<Midi2ListenerOptions, "port">,
  client: DialMidi2Options,
  played: Message[],
) {
  await using bus = new PortServer("127.0.0.1", 0, { relay: true });
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0, ...host },
    (session) => bus.admit(session, { name: session.name }),
  );
  await using echo = new PyChild(ECHO, [
    "127.0.0.1",
    String(bus.port),
    String(played.length),
  ]);
  assert.equal(await echo.line(), "connected");
  await using port = new SocketPort(
    await dialMidi2("127.0.0.1", listener.port, client),
    { name: "midi2" },
  );
  await waitFor(() => bus.stats.clients === 2, "both clients on the bus");
  for (const msg of played) await port.send(msg);
  const back: Message[] = [];
  while (back.length < played.length) {
    back.push(await within(port.receive(), `message ${back.length + 1}`));
  }
  // mido decoded exactly what was played, and sent it back unchanged.
  assert.deepEqual(await echo.rest(), played.map(echoLine));
  assert.deepEqual(back, played);
  const [session] = listener.sessions;
  return { session: session.stats, bus: bus.stats };
}

MIDO.test("No authentication: what a Network MIDI 2.0 client plays crosses to a mido client on the bus, and back", async () => {
  const { session } = await roundTrip({}, { name: "keys" }, PLAYED);
  assert.equal(session.untranslated, 0);
  assert.equal(session.lost, 0);
});

MIDO.test("A shared secret, and a user: the same, once the digest is right", async () => {
  await roundTrip({ secret: "s3cret" }, { secret: "s3cret" }, PLAYED);
  await roundTrip(
    { users: { ada: "lovelace", bob: "x:y" } },
    { user: "bob", password: "x:y" },
    PLAYED,
  );
});

MIDO.test("A 1 MiB sysex crosses to mido and back exactly, between notes", async () => {
  const big = bigSysex(1024 * 1024, 0x22);
  // A burst this long, with both ends in one process (a pause of one is a
  // pause of the other), wants a retransmit buffer of more than 50.
  const bulk = { retransmitBuffer: 1000 };
  const { session, bus } = await roundTrip(bulk, bulk, [
    message("note_on", { note: 1 }),
    big,
    message("note_on", { note: 2 }),
  ]);
  assert.equal(session.lost, 0);
  assert.equal(bus.oversizedSysex, 0);
  assert.equal(bus.droppedBytes, 0);
});

Deno.test("A wrong secret is refused, and said so on both sides: nothing of the client reaches the bus", async () => {
  await using bus = new PortServer("127.0.0.1", 0);
  const refusals: string[] = [];
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0, secret: "right" },
    (session) => bus.admit(session, { name: session.name }),
  );
  listener.addEventListener("refused", (e) => refusals.push(e.reason));
  await assert.rejects(
    dialMidi2("127.0.0.1", listener.port, { secret: "wrong" }),
    (error: unknown) =>
      error instanceof Midi2RefusedError &&
      /refused the session: wrong shared secret/.test(error.message) &&
      error.authState === 1,
  );
  await assert.rejects(
    dialMidi2("127.0.0.1", listener.port, {}),
    (error: unknown) =>
      error instanceof Midi2RefusedError && error.code === 0x45 &&
      /no matching authentication method/.test(error.message),
  );
  assert.equal(refusals.length, 2);
  assert.match(refusals[0], /wrong shared secret/);
  assert.match(refusals[1], /Bye reason 0x45/);
  assert.equal(bus.stats.accepted, 0);
  assert.equal(listener.sessions.length, 0);
});

Deno.test("A full bus turns the session away with Bye 0x40, Too Many Open Sessions", async () => {
  await using bus = new PortServer("127.0.0.1", 0, { maxClients: 0 });
  await using listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0 },
    (session) => bus.admit(session, { name: session.name }),
  );
  await assert.rejects(
    dialMidi2("127.0.0.1", listener.port),
    (error: unknown) =>
      error instanceof Midi2RefusedError && error.code === 0x40 &&
      error.retryable,
  );
  assert.equal(bus.stats.rejected, 1);
});

/** A raw MIDI 2.0 endpoint in a session with a host on `bus`. */
async function rawEndpoint(
  options: Partial<Midi2ListenerOptions> = {},
) {
  const bus = new PortServer("127.0.0.1", 0);
  const sessions: Midi2Session[] = [];
  const listener = await listenMidi2(
    { hostname: "127.0.0.1", port: 0, pingInterval: 60_000, ...options },
    (session) => {
      sessions.push(session);
      bus.admit(session, { name: session.name });
    },
  );
  const peer = await RawPeer.open();
  await peer.send(
    hex(`${SIG} 01020100 ${textWords("Syn2")} ${textWords("S2")}`),
    listener.port,
  );
  assert.equal((await peer.next())![4], 0x10);
  let seq = 0;
  const sendUmp = (words: string) => {
    const s = (seq++).toString(16).padStart(4, "0");
    const n = words.split(" ").length.toString(16).padStart(2, "0");
    return peer.send(hex(`${SIG} ff${n}${s} ${words}`), listener.port);
  };
  return {
    bus,
    listener,
    peer,
    sessions,
    sendUmp,
    async [Symbol.asyncDispose]() {
      await peer[Symbol.asyncDispose]();
      await listener.close();
      await bus.close();
    },
  };
}

/** The UMP words of the next UMP Data command that carries new UMP. */
async function nextUmp(peer: RawPeer, after: number): Promise<string> {
  for (;;) {
    const datagram = await peer.nextWith(0xff);
    // The last command is the new one (FEC copies come first).
    let at = 4, last = 4;
    while (at < datagram.length) {
      last = at;
      at += 4 + datagram[at + 1] * 4;
    }
    const seq = (datagram[last + 2] << 8) | datagram[last + 3];
    if (seq <= after || datagram[last + 1] === 0) continue;
    return `${seq} ${toHexWords(datagram.subarray(last + 4))}`;
  }
}

Deno.test("A MIDI 2.0 protocol endpoint: Stream Configuration, exact MT 0x4 upscaled values out, exact downscaled values in", async () => {
  await using raw = await rawEndpoint();
  const { bus, peer, sendUmp, sessions } = raw;
  await waitFor(() => sessions.length === 1, "the session");
  // Stream Configuration Request (MT 0xF, status 0x005): protocol 0x02.
  await sendUmp("f0050200 00000000 00000000 00000000");
  // Stream Configuration Notification (status 0x006): protocol 0x02.
  assert.equal(
    await nextUmp(peer, -1),
    "0 f0060200 00000000 00000000 00000000",
  );
  await waitFor(() => sessions[0].protocol === 2, "MIDI 2.0 protocol");
  // The bus's MIDI 1.0 messages, upscaled by min-center-max (M2-104-UM):
  // velocity 100 → 0xC924; 127 → all ones; 64 → the center, 0x80000000.
  const out: [Message, string][] = [
    [message("note_on", { note: 60, velocity: 100 }), "40903c00 c9240000"],
    [
      message("control_change", { channel: 1, control: 7, value: 127 }),
      "40b10700 ffffffff",
    ],
    [
      message("control_change", { channel: 1, control: 7, value: 64 }),
      "40b10700 80000000",
    ],
    [message("pitchwheel", { channel: 2, pitch: 0 }), "40e20000 80000000"],
    [message("pitchwheel", { channel: 2, pitch: 8191 }), "40e20000 ffffffff"],
    [message("pitchwheel", { channel: 2, pitch: -8192 }), "40e20000 00000000"],
    // A note on of velocity 0 is a note off of velocity 64 (0x8000), as the
    // MIDI 2.0 reference library (AM_MIDI2.0Lib) translates it.
    [message("note_on", { note: 60, velocity: 0 }), "40803c00 80000000"],
    [message("clock"), "10f80000"],
  ];
  let seq = 0;
  for (const [msg, words] of out) {
    await bus.send(msg);
    seq++;
    assert.equal(
      await nextUmp(peer, seq - 1),
      `${seq} ${words}`,
      formatMessage(msg),
    );
  }
  // The endpoint's MT 0x4 messages, scaled down exactly.
  await sendUmp("40903c00 c9240000"); // velocity 0xC924 → 100
  await sendUmp("40b10700 80000000"); // CC 7, 0x80000000 → 64
  await sendUmp("40b10700 7fffffff"); // just below the center → 63
  await sendUmp("40e20000 00000000"); // pitch 0 → -8192
  await sendUmp("40e20000 ffffffff"); // all ones → 8191
  await sendUmp("40a03c00 ffffffff"); // poly pressure → 127
  await sendUmp("40660000 80000000"); // per-note pitch bend: no MIDI 1.0 form
  await sendUmp("20903c40"); // MT 0x2, 1:1
  const expected = [
    message("note_on", { note: 60, velocity: 100 }),
    message("control_change", { channel: 1, control: 7, value: 64 }),
    message("control_change", { channel: 1, control: 7, value: 63 }),
    message("pitchwheel", { channel: 2, pitch: -8192 }),
    message("pitchwheel", { channel: 2, pitch: 8191 }),
    message("polytouch", { note: 60, value: 127 }),
    message("note_on", { note: 60, velocity: 64 }),
  ];
  for (const want of expected) {
    assert.deepEqual(await within(bus.receive(), formatMessage(want)), want);
  }
  assert.equal(sessions[0].stats.untranslated, 1);
});

Deno.test("--midi2-group: another group maps; the others are counted, not delivered", async () => {
  await using raw = await rawEndpoint({ group: 3 });
  const { bus, sendUmp, sessions } = raw;
  await waitFor(() => sessions.length === 1, "the session");
  await sendUmp("20903c40"); // group 0: not this session's
  await sendUmp("23903d40"); // group 3
  assert.deepEqual(
    await within(bus.receive(), "the group 3 note"),
    message("note_on", { note: 61, velocity: 64 }),
  );
  await bus.send(message("note_on", { note: 62 }));
  assert.equal(await nextUmp(raw.peer, -1), "0 23903e40");
});

Deno.test("A session that misses its pings is ended, and its notes are released on the bus", async () => {
  await using raw = await rawEndpoint({ pingInterval: 50, timeout: 400 });
  const { bus, sendUmp, sessions } = raw;
  await waitFor(() => sessions.length === 1, "the session");
  await sendUmp("20903c64");
  assert.deepEqual(
    await within(bus.receive(), "the note"),
    message("note_on", { note: 60, velocity: 100 }),
  );
  // The peer goes silent: the host ends the session, and the bus releases
  // the note that it left on.
  assert.deepEqual(
    await within(bus.receive(), "the release"),
    message("note_off", { note: 60, velocity: 64 }),
  );
  await sessions[0].ended;
  assert.match(sessions[0].endReason, /nothing from the peer/);
  await waitFor(() => bus.stats.clients === 0, "the session to leave");
});
