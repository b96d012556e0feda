// Copyright 2026 the midisock authors. MIT license.
// RTP-MIDI against a peer that someone else wrote: node-rtpmidi (npm
// rtpmidi@1.0.0), run with node. It invites midisock, and midisock invites
// it; note, control change, pitch wheel and sysex messages cross exactly
// both ways, and a mido TCP client on the same bus hears it, and the
// reverse.

import assert from "node:assert/strict";
import {
  formatMessage,
  type Message,
  message,
  PortServer,
  SocketPort,
} from "../mod.ts";
import { connectRtp, RtpListener, type RtpSession } from "../rtp.ts";
import { encode } from "../src/midi/encode.ts";
import { MIDO, needs, PYTHON } from "./_peers.ts";
import { freeEvenPair, NODE_RTPMIDI, RtpMidiPeer } from "./_rtpmidi.ts";

// What crosses: a note, a control change (the pedal), the pitch wheel at
// both ends, and a sysex (each sent in a tick of its own: node-rtpmidi
// drops the F0 of a second sysex in one tick).
const FROM_PEER: Message[] = [
  message("note_on", { channel: 2, note: 60, velocity: 100 }),
  message("control_change", { channel: 2, control: 64, value: 127 }),
  message("pitchwheel", { channel: 2, pitch: 8191 }),
  message("sysex", { data: new Uint8Array([0x7d, 1, 2, 3, 0x7f]) }),
  message("note_off", { channel: 2, note: 60, velocity: 0 }),
];
const TO_PEER: Message[] = [
  message("note_on", { channel: 9, note: 36, velocity: 127 }),
  message("control_change", { channel: 0, control: 7, value: 1 }),
  message("pitchwheel", { channel: 15, pitch: -8192 }),
  message("sysex", { data: new Uint8Array(300).map((_, i) => i % 128) }),
  message("note_off", { channel: 9, note: 36, velocity: 64 }),
];

const bytesOf = (messages: readonly Message[]) =>
  messages.map((m) => Array.from(encode(m)));

// A mido client of a bus over plain TCP (mido's wire format: Message.bin()
// and mido.Parser): it prints "connected", then str() of the first N
// messages it reads, then sends the messages given in hex, and waits for
// stdin to close.
const MIDO_CLIENT = `
import socket, sys, mido
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port)); s.settimeout(20)
print("connected", flush=True)
p = mido.Parser(); got = 0
while got < n:
    data = s.recv(4096)
    if not data: break
    p.feed(data)
    for m in p:
        got += 1
        print(str(m), flush=True)
for h in sys.argv[4:]:
    s.sendall(bytes.fromhex(h))
print("sent", flush=True)
sys.stdin.read()
s.close()
`;

const hex = (m: Message) =>
  Array.from(encode(m), (b) => b.toString(16).padStart(2, "0")).join("");

needs(NODE_RTPMIDI, MIDO).test(
  "node-rtpmidi invites midisock: its messages reach a mido client on the bus exactly, and the mido client's reach it",
  async () => {
    await using bus = new PortServer("127.0.0.1", 0, { relay: true });
    await using listener = await RtpListener.listen(
      { hostname: "127.0.0.1", port: 0, name: "midisock" },
      (session) => bus.admit(session, { name: session.name }),
    );
    // The mido client first, so that it hears everything the peer sends.
    const mido = new Deno.Command(PYTHON, {
      args: [
        "-c",
        MIDO_CLIENT,
        "127.0.0.1",
        String(bus.port),
        String(FROM_PEER.length),
        ...TO_PEER.map(hex),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(40_000),
    }).spawn();
    const midoOut = mido.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    const midoStderr = new Response(mido.stderr).text();
    let midoText = "";
    const midoLine = async (want: (text: string) => boolean) => {
      while (!want(midoText)) {
        const { done, value } = await midoOut.read();
        if (done) {
          throw new Error(`mido client ended: ${midoText} ${await midoStderr}`);
        }
        midoText += value;
      }
    };
    try {
      await midoLine((t) => t.includes("connected\n"));
      const server = bus.withPorts();
      await using peer = new RtpMidiPeer(await freeEvenPair(), "node-peer", {
        host: "127.0.0.1",
        port: listener.port,
      });
      await peer.wait("its session", (l) => l.stream !== undefined);
      while (bus.ports.length < 2) await new Promise((r) => setTimeout(r, 10));
      await peer.send(bytesOf(FROM_PEER));
      // The bus's own readers hear them, from the peer's session by name.
      const heard: { port: string; message: Message }[] = [];
      for await (const { port, message: m } of server) {
        heard.push({ port: port.name, message: m });
        if (heard.length === FROM_PEER.length) break;
      }
      assert.deepEqual(
        heard,
        FROM_PEER.map((m) => ({ port: "rtp:node-peer", message: m })),
      );
      // And so does the mido client, exactly.
      await midoLine((t) => t.includes("sent\n"));
      assert.deepEqual(
        midoText.split("\n").filter((l) =>
          l && l !== "connected" && l !== "sent"
        ),
        FROM_PEER.map((m) => formatMessage(m)),
      );
      // The mido client's messages reach the peer, exactly.
      assert.deepEqual(await peer.messages(TO_PEER.length), bytesOf(TO_PEER));
    } finally {
      await mido.stdin.close().catch(() => {});
      await mido.status;
      await midoOut.cancel().catch(() => {});
      await midoStderr;
    }
  },
);

NODE_RTPMIDI.test(
  "midisock invites node-rtpmidi: messages cross exactly both ways, and its BY ends the session",
  async () => {
    await using peer = new RtpMidiPeer(await freeEvenPair(), "node-peer");
    await peer.wait("ready", (l) => l.ready !== undefined);
    const session: RtpSession = await connectRtp("127.0.0.1", peer.port, {
      name: "midisock",
    });
    await using port = new SocketPort(session, { name: session.name });
    assert.equal(session.name, "rtp:node-peer");
    await peer.wait("its session", (l) => l.stream !== undefined);
    for (const m of TO_PEER) await port.send(m);
    assert.deepEqual(await peer.messages(TO_PEER.length), bytesOf(TO_PEER));
    // node-rtpmidi as the responder sends nothing until its own CK0 is
    // answered, which it sends after our first exchange (the peer's script
    // waits for that).
    await peer.send(bytesOf(FROM_PEER));
    for (const m of FROM_PEER) assert.deepEqual(await port.receive(), m);
    await peer.end();
    assert.equal(await session.ended, "bye");
  },
);
