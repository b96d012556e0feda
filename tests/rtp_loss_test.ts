// Copyright 2026 the midisock authors. MIT license.
// Loss through real sessions: a UDP proxy between two midisock RTP-MIDI
// sessions drops chosen data packets, and the receiving end gives back what
// was lost from the next packet's recovery journal (RFC 6295), counted.

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { type Message, message, SocketPort } from "../mod.ts";
import {
  connectRtp,
  RtpListener,
  type RtpPacketEvent,
  type RtpSession,
} from "../rtp.ts";

/**
 * A UDP proxy in front of a session's control port P and data port P+1: it
 * forwards both ways, and drops RTP packets from the initiator when told
 * (`drop(k)`: the next k packets with MIDI in them, and every guard packet,
 * which has none, until a packet with MIDI passes again).
 */
class Proxy implements AsyncDisposable {
  port = 0;
  passed = 0; // RTP packets with MIDI forwarded to the responder
  dropped = 0; // packets with MIDI dropped
  #sockets: dgram.Socket[] = [];
  #target: number;
  #initiator: { address: string; port: number }[] = [];
  #toDrop = 0;
  #dropping = false;
  #changed = Promise.withResolvers<void>();

  constructor(target: number) {
    this.#target = target;
  }

  async start(): Promise<this> {
    const bind = (port: number) =>
      new Promise<dgram.Socket | undefined>((resolve) => {
        const s = dgram.createSocket("udp4");
        s.once("error", () => {
          s.close();
          resolve(undefined);
        });
        s.bind(port, "127.0.0.1", () => resolve(s));
      });
    for (let i = 0; i < 50 && this.#sockets.length === 0; i++) {
      const control = await bind(0);
      const data = control && await bind(control.address().port + 1);
      if (control && data) this.#sockets = [control, data];
      else control?.close();
    }
    this.port = this.#sockets[0].address().port;
    this.#sockets.forEach((socket, channel) => {
      socket.on("message", (bytes: Uint8Array, from: dgram.RemoteInfo) => {
        const toTarget = from.port !== this.#target + channel;
        if (!toTarget) {
          const back = this.#initiator[channel];
          if (back) socket.send(bytes, back.port, back.address);
          return;
        }
        this.#initiator[channel] = { address: from.address, port: from.port };
        if (channel === 1 && bytes[0] !== 0xff && this.#drops(bytes)) {
          if (hasMidi(bytes)) this.dropped++;
          return;
        }
        if (channel === 1 && bytes[0] !== 0xff && hasMidi(bytes)) {
          this.passed++;
          const c = this.#changed;
          this.#changed = Promise.withResolvers();
          c.resolve();
        }
        socket.send(bytes, this.#target + channel, "127.0.0.1");
      });
    });
    return this;
  }

  /** Drops the next `k` packets with MIDI (and the guard packets after them). */
  drop(k: number): void {
    this.#toDrop = k;
  }

  #drops(packet: Uint8Array): boolean {
    if (hasMidi(packet)) {
      if (this.#toDrop > 0) {
        this.#toDrop--;
        this.#dropping = true;
        return true;
      }
      this.#dropping = false;
      return false;
    }
    return this.#dropping; // a guard packet
  }

  /** Waits until `n` packets with MIDI have passed. */
  async passedAtLeast(n: number): Promise<void> {
    const deadline = AbortSignal.timeout(5000);
    while (this.passed < n) {
      if (deadline.aborted) {
        throw new Error(`Only ${this.passed} of ${n} packets passed the proxy`);
      }
      await Promise.race([
        this.#changed.promise,
        new Promise((r) => setTimeout(r, 50)),
      ]);
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    for (const s of this.#sockets) s.close();
    return Promise.resolve();
  }
}

// Whether an RTP-MIDI packet has MIDI commands (its LEN is not 0).
function hasMidi(packet: Uint8Array): boolean {
  const at = 12 + (packet[0] & 0x0f) * 4;
  const b = packet[at] & 0x80;
  const len = b
    ? ((packet[at] & 0x0f) << 8) | packet[at + 1]
    : packet[at] & 0x0f;
  return len > 0;
}

/** Two midisock sessions through the proxy; `script` sends, B's messages are returned. */
async function throughProxy(
  script: (
    send: (m: Message, drop?: boolean) => Promise<void>,
  ) => Promise<void>,
  expected: number,
): Promise<
  {
    received: Message[];
    session: RtpSession;
    recoveries: RtpPacketEvent[];
    proxy: Proxy;
  }
> {
  const joined = Promise.withResolvers<RtpSession>();
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0, name: "b" },
    (s) => joined.resolve(s),
  );
  await using proxy = await new Proxy(listener.port).start();
  const a = await connectRtp("127.0.0.1", proxy.port, { name: "a" });
  await using portA = new SocketPort(a);
  const session = await joined.promise;
  const recoveries: RtpPacketEvent[] = [];
  session.addEventListener("recovery", (e) => recoveries.push(e));
  await using portB = new SocketPort(session);
  let passed = 0;
  let dropped = 0;
  await script(async (m, drop = false) => {
    if (drop) proxy.drop(1);
    await portA.send(m);
    if (drop) {
      dropped++;
      const deadline = AbortSignal.timeout(5000);
      while (proxy.dropped < dropped && !deadline.aborted) {
        await new Promise((r) => setTimeout(r, 5));
      }
    } else await proxy.passedAtLeast(++passed);
  });
  const received: Message[] = [];
  for (let i = 0; i < expected; i++) {
    received.push(await portB.receive({ signal: AbortSignal.timeout(5000) }));
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(portB.poll(), undefined, "nothing more");
  return { received, session, recoveries, proxy };
}

const on = (note: number, velocity = 100) =>
  message("note_on", { note, velocity });
const off = (note: number, velocity = 0) =>
  message("note_off", { note, velocity });
const cc = (control: number, value: number) =>
  message("control_change", { control, value });

Deno.test("RTP loss: the packet with a note_off is dropped, and the next packet's journal gives that note_off back, counted", async () => {
  const { received, session, recoveries } = await throughProxy(async (send) => {
    await send(on(60));
    await send(on(64));
    await send(off(60), true);
    await send(on(67));
  }, 4);
  assert.deepEqual(received, [on(60), on(64), off(60, 64), on(67)]);
  assert.deepEqual([session.stats.recovered, session.stats.lost], [1, 1]);
  assert.deepEqual(recoveries.map((e) => [e.recovered, e.lost]), [[1, 1]]);
});

Deno.test("RTP loss: the packet with a pedal release is dropped, and CC64=0 comes back", async () => {
  const { received, session } = await throughProxy(async (send) => {
    await send(cc(64, 127));
    await send(on(60));
    await send(off(60));
    await send(cc(64, 0), true);
    await send(on(62));
  }, 5);
  assert.deepEqual(received, [cc(64, 127), on(60), off(60), cc(64, 0), on(62)]);
  assert.equal(session.stats.recovered, 1);
});

Deno.test("RTP loss: a run of 10 packets is dropped, and the lost note_offs, CC64=0 and the last values come back, and nothing else", async () => {
  const { received, session } = await throughProxy(async (send) => {
    for (
      const m of [
        on(60),
        on(62),
        on(64),
        cc(64, 127),
        cc(7, 100),
        message("pitchwheel", { pitch: 0 }),
      ]
    ) {
      await send(m);
    }
    for (
      const m of [
        off(60),
        cc(7, 90),
        on(67, 80),
        off(67),
        cc(7, 80),
        on(62, 0), // a note_off as a note_on of velocity 0
        message("pitchwheel", { pitch: 8191 }),
        cc(64, 0),
        cc(7, 70),
        on(72, 99),
      ]
    ) await send(m, true);
    await send(message("clock"));
  }, 13);
  assert.deepEqual(received, [
    on(60),
    on(62),
    on(64),
    cc(64, 127),
    cc(7, 100),
    message("pitchwheel", { pitch: 0 }),
    // from the journal: chapter C (controllers in number order), W, N
    cc(7, 70),
    cc(64, 0),
    message("pitchwheel", { pitch: 8191 }),
    off(60, 64),
    off(62, 64),
    on(72, 99),
    message("clock"),
  ]);
  assert.deepEqual([session.stats.recovered, session.stats.lost], [6, 10]);
});
