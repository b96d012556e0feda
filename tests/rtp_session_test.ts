// Copyright 2026 the midisock authors. MIT license.
// The AppleMIDI session (src/transport/rtp/): two midisock ends on loopback.

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { message, PortServer, SocketPort } from "../mod.ts";
import { connectRtp, RtpListener, type RtpSession } from "../rtp.ts";
import { clock, exchange } from "../src/transport/rtp/_control.ts";
import { UdpPair } from "../src/transport/rtp/_udp.ts";
import { RtpMidiSender } from "../src/transport/rtp/rtp_midi.ts";
import { Random, testSeed } from "./_random.ts";

Deno.test("RTP session: a note crosses from initiator to responder and back", async () => {
  const joined = Promise.withResolvers<RtpSession>();
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0, name: "synth" },
    (s) => joined.resolve(s),
  );
  const session = await connectRtp("127.0.0.1", listener.port, {
    name: "keys",
  });
  await using keys = new SocketPort(session, { name: session.name });
  const remote = await joined.promise;
  await using synth = new SocketPort(remote, { name: remote.name });
  assert.equal(session.name, "rtp:synth");
  assert.equal(remote.name, "rtp:keys");
  await keys.send(message("note_on", { note: 60, velocity: 100 }));
  assert.deepEqual(
    await synth.receive(),
    message("note_on", { note: 60, velocity: 100 }),
  );
  await synth.send(message("pitchwheel", { pitch: -8192 }));
  assert.deepEqual(
    await keys.receive(),
    message("pitchwheel", { pitch: -8192 }),
  );
  const rtt = await session.ping(AbortSignal.timeout(2000));
  assert.ok(rtt >= 0 && rtt < 2000, `rtt ${rtt}`);
});

/** A raw UDP socket on 127.0.0.1, to play a peer by hand. */
async function rawSocket(): Promise<
  dgram.Socket & { got: { bytes: Uint8Array; port: number }[] }
> {
  const socket = dgram.createSocket("udp4") as dgram.Socket & {
    got: { bytes: Uint8Array; port: number }[];
  };
  socket.got = [];
  socket.on("message", (bytes: Uint8Array, from: dgram.RemoteInfo) => {
    socket.got.push({ bytes: new Uint8Array(bytes), port: from.port });
  });
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  return socket;
}

async function until(
  what: string,
  check: () => boolean,
  ms = 5000,
): Promise<void> {
  const deadline = AbortSignal.timeout(ms);
  while (!check()) {
    if (deadline.aborted) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("RTP sockets: the first burst of datagrams from a new pair leaves in order (Deno 2.9.6's node:dgram would reverse it)", async () => {
  const rx = await rawSocket();
  try {
    const pair = await UdpPair.bind("127.0.0.1", 0, () => {}, () => {});
    try {
      assert.equal(pair.port % 2, 0, "an even control port");
      for (let i = 0; i < 6; i++) {
        pair.send(
          "control",
          new Uint8Array([i]),
          rx.address().port,
          "127.0.0.1",
        );
      }
      for (let i = 6; i < 12; i++) {
        pair.send("data", new Uint8Array([i]), rx.address().port, "127.0.0.1");
      }
      await until("12 datagrams", () => rx.got.length === 12);
      const control = rx.got.filter((g) => g.port === pair.port).map((g) =>
        g.bytes[0]
      );
      const data = rx.got.filter((g) => g.port === pair.port + 1).map((g) =>
        g.bytes[0]
      );
      assert.deepEqual(control, [0, 1, 2, 3, 4, 5]);
      assert.deepEqual(data, [6, 7, 8, 9, 10, 11]);
    } finally {
      pair.close();
    }
  } finally {
    rx.close();
  }
});

Deno.test("RTP initiator: IN on the control port, then on the data port, retried until answered; then a burst of 6 CK0s in order, answered CK2", async () => {
  // A responder played by hand: it ignores the first invitation.
  const control = await rawSocket();
  const data = dgram.createSocket("udp4");
  const dataGot: { bytes: Uint8Array; port: number }[] = [];
  data.on(
    "message",
    (b: Uint8Array, from: dgram.RemoteInfo) =>
      dataGot.push({ bytes: new Uint8Array(b), port: from.port }),
  );
  await new Promise<void>((r, j) => {
    data.once("error", j);
    data.bind(control.address().port + 1, "127.0.0.1", () => r());
  });
  try {
    const connecting = connectRtp("127.0.0.1", control.address().port, {
      name: "init",
      inviteInterval: 50,
    });
    await until("two IN", () => control.got.length >= 2);
    const first = control.got[1].bytes;
    assert.equal(String.fromCharCode(first[2], first[3]), "IN");
    const view = new DataView(first.buffer);
    const token = view.getUint32(8);
    const ssrc = view.getUint32(12);
    assert.equal(new TextDecoder().decode(first.subarray(16, -1)), "init");
    const from = control.got[1].port;
    control.send(exchange("OK", token, 777, "fake"), from, "127.0.0.1");
    await until("IN on the data port", () => dataGot.length >= 1);
    assert.equal(dataGot[0].port, from + 1);
    assert.deepEqual(dataGot[0].bytes, first);
    data.send(exchange("OK", token, 777, "fake"), from + 1, "127.0.0.1");
    const session = await connecting;
    try {
      assert.equal(session.name, "rtp:fake");
      assert.equal(session.ssrc, ssrc);
      // The CK0 burst: answer each with CK1, and see CK2 come back.
      // (By the command, not by byte 8 alone: an IN retried on the data
      // port has its token's first byte there.)
      const ck = (count: number) => (g: { bytes: Uint8Array }) =>
        g.bytes[2] === 0x43 && g.bytes[3] === 0x4b && g.bytes[8] === count;
      const clocks = () => dataGot.filter(ck(0));
      await until("6 CK0", () => clocks().length >= 6, 3000);
      const sent = clocks().slice(0, 6).map((g) => {
        const v = new DataView(g.bytes.buffer);
        return v.getUint32(12) * 2 ** 32 + v.getUint32(16);
      });
      assert.deepEqual(sent, [...sent].sort((a, b) => a - b), "in order");
      assert.equal(new Set(sent).size, 6);
      data.send(clock(777, 1, [sent[5], 12345, 0]), from + 1, "127.0.0.1");
      await until(
        "CK2",
        () => dataGot.some(ck(2)),
      );
      const ck2 = dataGot.find(ck(2))!.bytes;
      const v = new DataView(ck2.buffer);
      assert.equal(v.getUint32(16), sent[5]);
      assert.equal(v.getUint32(24), 12345);
      assert.ok(session.stats.rtt !== undefined);
      // A CK0 of the responder's is answered with a CK1.
      data.send(clock(777, 0, [99, 0, 0]), from + 1, "127.0.0.1");
      await until(
        "CK1",
        () => dataGot.some(ck(1)),
      );
    } finally {
      session.close();
    }
    // And close() says BY on the control port.
    await until(
      "BY",
      () => control.got.some((g) => g.bytes[2] === 0x42 && g.bytes[3] === 0x59),
    );
  } finally {
    control.close();
    data.close();
  }
});

Deno.test("RTP responder: a peer silent past the timeout is dropped, and the bus releases the note it left on", async () => {
  await using bus = new PortServer("127.0.0.1", 0, { relay: true });
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0, timeout: 300 },
    (s) => bus.admit(s, { name: s.name }),
  );
  const ended = Promise.withResolvers<string>();
  listener.addEventListener(
    "session",
    (e) => e.session.ended.then(ended.resolve),
  );
  // An initiator that invites, plays a note, and then says nothing more.
  const peer = await rawSocket();
  const peerData = dgram.createSocket("udp4");
  await new Promise<void>((r) =>
    peerData.bind(peer.address().port + 1, "127.0.0.1", () => r())
  );
  try {
    peer.send(exchange("IN", 5, 6, "mute"), listener.port, "127.0.0.1");
    await until("OK", () => peer.got.length >= 1);
    peerData.send(exchange("IN", 5, 6, "mute"), listener.port + 1, "127.0.0.1");
    await until("the session", () => bus.ports.length === 1);
    const sender = new RtpMidiSender({ ssrc: 6 });
    for (const p of sender.packets([new Uint8Array([0x90, 60, 100])], 0)) {
      peerData.send(p, listener.port + 1, "127.0.0.1");
    }
    assert.deepEqual(
      await bus.receive(),
      message("note_on", { note: 60, velocity: 100 }),
    );
    assert.equal(await ended.promise, "timeout");
    assert.deepEqual(
      await bus.receive(),
      message("note_off", { note: 60, velocity: 64 }),
    );
    // It was told BY.
    await until("BY", () => peer.got.some((g) => g.bytes[2] === 0x42));
  } finally {
    peer.close();
    peerData.close();
  }
});

Deno.test("RTP fuzz: no datagram throws, crashes or stalls a live session; each bad one is counted", async () => {
  const rng = new Random(testSeed());
  const sessions: RtpSession[] = [];
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0, name: "b", maxSysexBytes: 1000 },
    (s) => sessions.push(s),
  );
  const badEvents: string[] = [];
  const count = (e: { reason: string }) => badEvents.push(e.reason);
  listener.addEventListener("badpacket", count);
  const a = await connectRtp("127.0.0.1", listener.port, { name: "a" });
  a.addEventListener("badpacket", count);
  await using portA = new SocketPort(a);
  await until("b", () => sessions.length === 1);
  const b = sessions[0];
  b.addEventListener("badpacket", count);
  await using portB = new SocketPort(b);
  // The fuzzer is a participant of its own, whose packets reach its
  // session's payload parser (its SSRC, its sequence), and it also sends
  // junk to every port of both ends.
  const fuzz = await rawSocket();
  const fuzzData = dgram.createSocket("udp4");
  await new Promise<void>((r) =>
    fuzzData.bind(fuzz.address().port + 1, "127.0.0.1", () => r())
  );
  const F = 0xf00d;
  fuzz.send(exchange("IN", 1, F, "fuzz"), listener.port, "127.0.0.1");
  await until("OK", () => fuzz.got.length >= 1);
  fuzzData.send(exchange("IN", 1, F, "fuzz"), listener.port + 1, "127.0.0.1");
  await until("the fuzzer's session", () => sessions.length === 2);
  const f = sessions[1];
  f.addEventListener("badpacket", count);
  await using portF = new SocketPort(f);
  let seq = 1000;
  const rtp = (ssrc: number, payload: Uint8Array) => {
    const p = new Uint8Array(12 + payload.length);
    const v = new DataView(p.buffer);
    p[0] = 0x80;
    p[1] = 0x61;
    v.setUint16(2, ssrc === F ? seq++ : rng.int(0, 65535));
    v.setUint32(4, rng.int(0, 2 ** 32 - 1));
    v.setUint32(8, ssrc);
    p.set(payload, 12);
    return p;
  };
  const commands = ["IN", "OK", "NO", "BY", "CK", "RS", "RL", "XX"];
  const datagram = (): [Uint8Array, number] => {
    const anywhere = rng.pick([
      listener.port,
      listener.port + 1,
      a.localAddr.port,
      a.localAddr.port + 1,
    ]);
    switch (rng.int(0, 7)) {
      case 0:
        return [rng.bytes(rng.int(0, 64)), anywhere];
      case 1: { // a control packet cut short (never a whole BY or IN)
        const c = rng.pick(commands);
        const p = new Uint8Array([
          0xff,
          0xff,
          c.charCodeAt(0),
          c.charCodeAt(1),
          ...rng.bytes(rng.int(0, 40)),
        ]);
        const cut = rng.int(2, p.length);
        return [
          p.subarray(0, c === "BY" || c === "IN" ? Math.min(cut, 15) : cut),
          anywhere,
        ];
      }
      case 2: // data bytes with no status (rtpmidid's parser crashes on it)
        return [rtp(F, new Uint8Array([0x02, 0x40, 0x40])), listener.port + 1];
      case 3: // a length that lies
        return [
          rtp(
            F,
            new Uint8Array([
              0x8f,
              0xff,
              0x90,
              60,
              100,
              ...rng.bytes(rng.int(0, 20)),
            ]),
          ),
          listener.port + 1,
        ];
      case 4: // a journal that lies
        return [
          rtp(
            F,
            new Uint8Array([0x43, 0x90, 60, 100, ...rng.bytes(rng.int(0, 30))]),
          ),
          listener.port + 1,
        ];
      case 5: // a sysex that never ends
        return [
          rtp(
            F,
            new Uint8Array([
              0x84,
              0xff,
              0xf0,
              ...new Uint8Array(1300).fill(0x11),
            ]),
          ),
          listener.port + 1,
        ];
      case 6:
        return [rtp(F, rng.bytes(rng.int(0, 40))), listener.port + 1];
      default: // RTP of no session
        return [
          rtp(rng.int(0, 2 ** 32 - 1), rng.bytes(rng.int(0, 40))),
          anywhere,
        ];
    }
  };
  try {
    for (let i = 0; i < 500; i++) {
      const [bytes, port] = datagram();
      (port === listener.port + 1 && bytes[0] !== 0xff ? fuzzData : fuzz).send(
        bytes,
        port,
        "127.0.0.1",
      );
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    fuzzData.send(
      rtp(F, new Uint8Array([0x02, 0x40, 0x40])),
      listener.port + 1,
      "127.0.0.1",
    );
    fuzz.send(new Uint8Array([0xff, 0xff, 0x43]), listener.port, "127.0.0.1");
    await until("bad packets counted", () => badEvents.length >= 150);
    // Every session goes on: notes cross both ways between a and b,
    // exactly, and the fuzzer's next good packet is delivered.
    const note = (n: number) => message("note_on", { note: n, velocity: 1 });
    for (let n = 0; n < 20; n++) await portA.send(note(n));
    for (let n = 0; n < 20; n++) {
      assert.deepEqual(
        await portB.receive({ signal: AbortSignal.timeout(5000) }),
        note(n),
      );
    }
    await portB.send(note(100));
    assert.deepEqual(
      await portA.receive({ signal: AbortSignal.timeout(5000) }),
      note(100),
    );
    fuzzData.send(
      rtp(F, new Uint8Array([0x03, 0x90, 61, 1])),
      listener.port + 1,
      "127.0.0.1",
    );
    let last;
    do last = await portF.receive({
      signal: AbortSignal.timeout(5000),
    }); while (
      last.type !== "note_on" || last.note !== 61 || last.velocity !== 1
    );
    assert.ok(await a.ping(AbortSignal.timeout(2000)) >= 0);
    const counted = listener.stats.badPackets + a.stats.badPackets +
      b.stats.badPackets + f.stats.badPackets;
    assert.equal(counted, badEvents.length);
    assert.ok(
      badEvents.some((r) => /status/i.test(r)),
      badEvents.slice(0, 5).join("; "),
    );
    assert.ok(badEvents.some((r) => /truncated/.test(r)));
    assert.equal(
      b.stats.badPackets,
      0,
      "nothing of the fuzzer's reached a and b's session",
    );
  } finally {
    fuzz.close();
    fuzzData.close();
  }
});

Deno.test("RTP invitations: a full listener answers NO, which connectRtp reports as refused; no answer times out, naming the address", async () => {
  await using full = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0, maxPending: 0, name: "full" },
    () => {},
  );
  await assert.rejects(
    connectRtp("127.0.0.1", full.port),
    (e) =>
      e instanceof Deno.errors.ConnectionRefused &&
      e.message ===
        `RTP-MIDI session at 127.0.0.1:${full.port} refused the invitation (full)`,
  );
  assert.equal(full.stats.refused, 1);
  // A data port's IN with no invitation on the control port is answered NO.
  const peer = await rawSocket();
  try {
    peer.send(exchange("IN", 9, 9, "x"), full.port + 1, "127.0.0.1");
    await until("NO", () => peer.got.length === 1);
    assert.equal(
      String.fromCharCode(peer.got[0].bytes[2], peer.got[0].bytes[3]),
      "NO",
    );
    // Nobody answers on the peer's port: the invitation times out.
    await assert.rejects(
      connectRtp("127.0.0.1", peer.address().port, {
        invitations: 3,
        inviteInterval: 20,
      }),
      (e) =>
        e instanceof Deno.errors.TimedOut &&
        e.message ===
          `No answer from the RTP-MIDI session at 127.0.0.1:${peer.address().port} (control port) after 3 invitations`,
    );
  } finally {
    peer.close();
  }
  assert.equal(full.sessions.length, 0);
});

Deno.test("RTP overflow: messages beyond maxUnreadBytes unread are dropped, counted and reported, and reading goes on", async () => {
  const joined = Promise.withResolvers<RtpSession>();
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0, maxUnreadBytes: 9 },
    (s) => joined.resolve(s),
  );
  await using a = await connectRtp("127.0.0.1", listener.port);
  const b = await joined.promise;
  const reasons: string[] = [];
  b.addEventListener("overflow", (e) => reasons.push(e.reason));
  for (let n = 0; n < 5; n++) await a.write(new Uint8Array([0x90, n, 1]));
  await until("5 packets", () => b.stats.packetsReceived === 5);
  assert.equal(b.stats.overflowed, 2);
  assert.deepEqual(reasons, [
    "1 message dropped: the reader is 9 bytes behind",
    "1 message dropped: the reader is 9 bytes behind",
  ]);
  const buf = new Uint8Array(64);
  assert.deepEqual(
    buf.subarray(0, (await b.read(buf))!),
    new Uint8Array([0x90, 0, 1, 0x90, 1, 1, 0x90, 2, 1]),
  );
  await a.write(new Uint8Array([0x90, 9, 1]));
  assert.deepEqual(
    buf.subarray(0, (await b.read(buf))!),
    new Uint8Array([0x90, 9, 1]),
  );
  await b[Symbol.asyncDispose]();
});

Deno.test("RTP options out of range are refused, naming the option, its range and the value", async () => {
  await assert.rejects(
    RtpListener.listen({ port: 65535 }, () => {}),
    (e) =>
      e instanceof RangeError &&
      e.message ===
        "Invalid port option: expected an integer in 0..65534 (the data port is the next), got 65535",
  );
  await assert.rejects(
    RtpListener.listen(
      { hostname: "127.0.0.1", port: 0, syncInterval: 61_000 },
      () => {},
    ),
    (e) =>
      e instanceof RangeError &&
      e.message ===
        "Invalid syncInterval option: expected a number in 100..60000, got 61000",
  );
  await assert.rejects(
    connectRtp("127.0.0.1", 5004, { timeout: 5 }),
    (e) =>
      e instanceof RangeError &&
      e.message ===
        "Invalid timeout option: expected a number in 100..3600000, got 5",
  );
  await assert.rejects(
    connectRtp("127.0.0.1", 0),
    (e) =>
      e instanceof RangeError &&
      /Invalid port: expected an integer in 1\.\.65534/.test(e.message),
  );
});

Deno.test("RTP session: a 64 KiB sysex crosses in segments, exactly, both ways", async () => {
  const joined = Promise.withResolvers<RtpSession>();
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0 },
    (s) => joined.resolve(s),
  );
  const session = await connectRtp("127.0.0.1", listener.port);
  await using a = new SocketPort(session);
  await using b = new SocketPort(await joined.promise);
  const data = new Uint8Array(65536).map((_, i) => (i * 7) % 128);
  await a.send(message("sysex", { data }));
  assert.deepEqual(
    await b.receive({ signal: AbortSignal.timeout(5000) }),
    message("sysex", { data }),
  );
  await b.send(message("sysex", { data: data.subarray(1) }));
  assert.deepEqual(
    await a.receive({ signal: AbortSignal.timeout(5000) }),
    message("sysex", { data: data.subarray(1) }),
  );
  assert.ok(
    session.stats.packetsSent > 45,
    `${session.stats.packetsSent} packets`,
  );
});

Deno.test("RTP sessions: packets with a participant's SSRC from a port that is not its own are counted as bad and change nothing (no MIDI, no BY, no CK answer)", async () => {
  const sessions: RtpSession[] = [];
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0, name: "b" },
    (s) => sessions.push(s),
  );
  const a = await connectRtp("127.0.0.1", listener.port, { name: "a" });
  await using portA = new SocketPort(a);
  await until("b", () => sessions.length === 1);
  const b = sessions[0];
  await using portB = new SocketPort(b);
  // Another program on the same host plays a (to b) and b (to a).
  const spoof = await rawSocket();
  try {
    const note = (ssrc: number) =>
      new RtpMidiSender({ ssrc, journal: false }).packets(
        [new Uint8Array([0x90, 61, 1])],
        0,
      )[0];
    const to = (bytes: Uint8Array, port: number) =>
      spoof.send(bytes, port, "127.0.0.1");
    for (
      const [ssrc, control] of [[a.ssrc, listener.port], [
        b.ssrc,
        a.localAddr.port,
      ]]
    ) {
      to(note(ssrc), control + 1);
      to(clock(ssrc, 0, [1, 0, 0]), control + 1);
      to(exchange("IN", 1, ssrc, "x"), control);
      to(exchange("BY", 1, ssrc), control);
      to(exchange("BY", 1, ssrc), control + 1);
    }
    await until(
      "the spoofed packets counted",
      () => listener.stats.badPackets === 5 && a.stats.badPackets === 5,
    );
    await new Promise((r) => setTimeout(r, 150)); // past the BY grace
    assert.equal(spoof.got.length, 0, "no answer to the spoofer");
    assert.deepEqual([a.stats.packetsReceived, b.stats.packetsReceived], [
      0,
      0,
    ]);
    assert.equal(listener.sessions.length, 1);
    // Both sessions go on: the real peers' MIDI is the first to come.
    await portA.send(message("note_on", { note: 62, velocity: 2 }));
    assert.deepEqual(
      await portB.receive(),
      message("note_on", { note: 62, velocity: 2 }),
    );
    await portB.send(message("note_on", { note: 63, velocity: 3 }));
    assert.deepEqual(
      await portA.receive(),
      message("note_on", { note: 63, velocity: 3 }),
    );
  } finally {
    spoof.close();
  }
});

Deno.test("RTP listener: each invitation answered NO is counted and reported by a refused event, with the address and why", async () => {
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0, maxPending: 0 },
    () => {},
  );
  const refused: string[] = [];
  listener.addEventListener(
    "refused",
    (e) => refused.push(`${e.address} ${e.reason}`),
  );
  const peer = await rawSocket();
  try {
    const at = `127.0.0.1:${peer.address().port}`;
    peer.send(exchange("IN", 1, 1, "one"), listener.port, "127.0.0.1");
    // (one at a time: node:dgram may reverse a new socket's first burst)
    await until("NO", () => peer.got.length === 1);
    peer.send(exchange("IN", 3, 3, "three"), listener.port + 1, "127.0.0.1");
    await until("two answers", () => peer.got.length === 2);
    assert.deepEqual(
      peer.got.map((g) => String.fromCharCode(g.bytes[2], g.bytes[3])),
      ["NO", "NO"],
    );
    assert.deepEqual(refused, [
      `${at} one: no invitation may wait (maxPending 0)`,
      `${at} three: an IN on the data port with no invitation on the control port`,
    ]);
    assert.equal(listener.stats.refused, 2);
  } finally {
    peer.close();
  }
});

Deno.test("RTP integer options that are not whole numbers are refused at once, naming the option (not thrown later from a socket's handler)", async () => {
  const refused = (what: string, got: string) => (e: unknown) =>
    e instanceof TypeError &&
    e.message.startsWith(`Invalid ${what} option: expected an integer in `) &&
    e.message.endsWith(`, got ${got}`);
  await assert.rejects(
    RtpListener.listen(
      { hostname: "127.0.0.1", port: 0, maxSysexBytes: 1.5 },
      () => {},
    ),
    refused("maxSysexBytes", "1.5"),
  );
  await assert.rejects(
    RtpListener.listen(
      { hostname: "127.0.0.1", port: 0, maxUnreadBytes: 0.5 },
      () => {},
    ),
    refused("maxUnreadBytes", "0.5"),
  );
  await assert.rejects(
    RtpListener.listen(
      { hostname: "127.0.0.1", port: 0, maxPending: NaN },
      () => {},
    ),
    refused("maxPending", "NaN"),
  );
  await assert.rejects(
    connectRtp("127.0.0.1", 5004, { invitations: NaN }),
    refused("invitations", "NaN"),
  );
  await assert.rejects(
    connectRtp("127.0.0.1", 5004, { inviteInterval: -1 }),
    (e) =>
      e instanceof RangeError &&
      e.message ===
        "Invalid inviteInterval option: expected an integer in 0..3600000, got -1",
  );
});

Deno.test("RTP session: a long write cut short by the peer's BY rejects, naming the session, and so does a write queued behind it", async () => {
  const joined = Promise.withResolvers<RtpSession>();
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0 },
    (s) => joined.resolve(s),
  );
  await using a = await connectRtp("127.0.0.1", listener.port);
  const b = await joined.promise;
  const sysex = new Uint8Array(1 << 20).fill(0x11);
  sysex[0] = 0xf0;
  sysex[sysex.length - 1] = 0xf7;
  const long = a.write(sysex);
  const after = a.write(new Uint8Array([0x90, 60, 1]));
  await b[Symbol.asyncDispose](); // BY, while the sysex goes out
  const ended = (e: unknown) =>
    e instanceof Deno.errors.NotConnected &&
    e.message === `Cannot write: RTP session ${a.name} has ended (bye)`;
  await assert.rejects(long, ended);
  await assert.rejects(after, ended);
  assert.ok(a.stats.packetsSent < 700, `${a.stats.packetsSent} packets`);
});

Deno.test("RTP listener: a participant that the bus turns away (maxClients) is told BY, and its session is freed", async () => {
  await using bus = new PortServer("127.0.0.1", 0, {
    relay: true,
    maxClients: 1,
  });
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0 },
    (s) => bus.admit(s, { name: s.name }),
  );
  await using first = await connectRtp("127.0.0.1", listener.port, {
    name: "first",
  });
  await until("the first on the bus", () => bus.ports.length === 1);
  const second = await connectRtp("127.0.0.1", listener.port, {
    name: "second",
  });
  assert.equal(await second.ended, "bye");
  await second[Symbol.asyncDispose]();
  await until("the second freed", () => listener.sessions.length === 1);
  assert.deepEqual(listener.sessions.map((s) => s.name), ["rtp:first"]);
  assert.equal(first.stats.badPackets, 0);
});

Deno.test("RTP listener: with check, a participant that the bus would turn away (maxClients) is answered NO before any session", async () => {
  await using bus = new PortServer("127.0.0.1", 0, {
    relay: true,
    maxClients: 1,
  });
  await using listener = await RtpListener.listen(
    {
      hostname: "127.0.0.1",
      port: 0,
      check: (from) => bus.refusal(from.address),
    },
    (s) => bus.admit(s, { name: s.name }),
  );
  const refused: string[] = [];
  listener.addEventListener("refused", (e) => refused.push(e.reason));
  await using first = await connectRtp("127.0.0.1", listener.port, {
    name: "first",
  });
  await until("the first on the bus", () => bus.ports.length === 1);
  await assert.rejects(
    connectRtp("127.0.0.1", listener.port, { name: "second" }),
    Deno.errors.ConnectionRefused,
  );
  assert.deepEqual(refused, ["second: over maxClients (1)"]);
  assert.equal(listener.stats.refused, 1);
  assert.deepEqual(listener.sessions.map((s) => s.name), ["rtp:first"]);
  assert.equal(bus.stats.rejected, 0); // never reached the bus
  assert.equal(first.stats.badPackets, 0);
});

Deno.test("RTP listener: invitations left half-open (IN on the control port only) cannot lock out a participant: the oldest gives way, counted", async () => {
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0, maxPending: 4 },
    () => {},
  );
  const refused: string[] = [];
  listener.addEventListener("refused", (e) => refused.push(e.reason));
  const flood = await rawSocket();
  try {
    for (let ssrc = 1; ssrc <= 10; ssrc++) {
      flood.send(
        exchange("IN", ssrc, ssrc, "half"),
        listener.port,
        "127.0.0.1",
      );
      await until("an answer", () => flood.got.length === ssrc);
    }
    await using session = await connectRtp("127.0.0.1", listener.port, {
      name: "real",
    });
    assert.equal(session.name, "rtp:midisock");
    assert.deepEqual(listener.sessions.map((s) => s.name), ["rtp:real"]);
    assert.equal(listener.stats.refused, 7);
    assert.deepEqual(
      refused,
      Array(7).fill("half: given up for a newer invitation (maxPending 4)"),
    );
  } finally {
    flood.close();
  }
});

Deno.test("RTP sockets: a datagram whose handler throws is reported with its sender (node:dgram would swallow the error)", async () => {
  const faults: string[] = [];
  const pair = await UdpPair.bind(
    "127.0.0.1",
    0,
    () => {
      throw new Error("boom");
    },
    (error, from) => faults.push(`${error.message} ${from?.port}`),
  );
  const peer = await rawSocket();
  try {
    peer.send(new Uint8Array([1]), pair.port + 1, "127.0.0.1");
    await until("the fault", () => faults.length === 1);
    assert.deepEqual(faults, [`boom ${peer.address().port}`]);
  } finally {
    peer.close();
    await pair.close();
  }
});

Deno.test("RTP sessions: the receiver's RS (once a second) trims the sender's journal to its 3-byte header", async () => {
  const joined = Promise.withResolvers<RtpSession>();
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0 },
    (s) => joined.resolve(s),
  );
  await using a = await connectRtp("127.0.0.1", listener.port);
  const b = await joined.promise;
  await using _reader = new SocketPort(b); // b reads, and so sends RS
  // The journal bytes of the packet that a write makes.
  const journalOf = async (bytes: number[]) => {
    const before = a.stats.journalBytes;
    await a.write(new Uint8Array(bytes));
    return a.stats.journalBytes - before;
  };
  await journalOf([0x90, 60, 100]);
  await journalOf([0xb0, 64, 127]);
  await journalOf([0xc0, 5]);
  // Unacknowledged, the note, the pedal and the program are coded.
  assert.ok(await journalOf([0xf8]) >= 16);
  const deadline = AbortSignal.timeout(3000);
  let bytes;
  do {
    await new Promise((r) => setTimeout(r, 100));
    bytes = await journalOf([0xf8]);
  } while (bytes > 3 && !deadline.aborted);
  assert.equal(bytes, 3, "trimmed to the journal's header");
});

Deno.test("RTP session: two reads waiting at once each get bytes, in order (the first was left waiting forever)", async () => {
  const joined = Promise.withResolvers<RtpSession>();
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0 },
    (s) => joined.resolve(s),
  );
  await using a = await connectRtp("127.0.0.1", listener.port);
  await using b = await joined.promise;
  const first = new Uint8Array(3), second = new Uint8Array(3);
  const reads = [b.read(first), b.read(second)];
  await a.write(new Uint8Array([0x90, 60, 1]));
  await a.write(new Uint8Array([0x90, 61, 2]));
  const signal = AbortSignal.timeout(3000);
  const got = await Promise.race([
    Promise.all(reads),
    new Promise((_, reject) =>
      signal.addEventListener("abort", () => reject(signal.reason))
    ),
  ]);
  assert.deepEqual(got, [3, 3]);
  assert.deepEqual([...first, ...second], [0x90, 60, 1, 0x90, 61, 2]);
});

Deno.test("RTP initiator: after its burst of 6 CK0s, one every syncInterval", async () => {
  // A responder played by hand, which notes when each CK0 comes.
  const control = await rawSocket();
  const data = dgram.createSocket("udp4");
  const ck0: number[] = [];
  data.on("message", (b: Uint8Array, from: dgram.RemoteInfo) => {
    const bytes = new Uint8Array(b);
    const command = String.fromCharCode(bytes[2], bytes[3]);
    if (command === "IN") {
      const token = new DataView(bytes.buffer).getUint32(8);
      data.send(exchange("OK", token, 5, "hand"), from.port, "127.0.0.1");
    } else if (command === "CK" && bytes[8] === 0) ck0.push(performance.now());
  });
  control.on("message", (b: Uint8Array, from: dgram.RemoteInfo) => {
    const token = new DataView(new Uint8Array(b).buffer).getUint32(8);
    if (b[2] === 0x49) {
      control.send(exchange("OK", token, 5, "hand"), from.port, "127.0.0.1");
    }
  });
  await new Promise<void>((r, j) => {
    data.once("error", j);
    data.bind(control.address().port + 1, "127.0.0.1", () => r());
  });
  try {
    await using session = await connectRtp(
      "127.0.0.1",
      control.address().port,
      { syncInterval: 300 },
    );
    assert.equal(session.name, "rtp:hand");
    await until("9 CK0s", () => ck0.length >= 9, 5000);
    const gaps = ck0.slice(1, 9).map((t, i) => t - ck0[i]);
    // The burst: 100 ms apart (a tick of the session's timer), 500 ms in
    // all (well under 5 × 300 on a busy machine); then 300 apart, never
    // sooner.
    const burst = gaps.slice(0, 5).reduce((a, b) => a + b);
    assert.ok(burst < 1200, `${gaps}`);
    for (const gap of gaps.slice(5)) assert.ok(gap >= 250, `${gaps}`);
  } finally {
    control.close();
    data.close();
  }
});
