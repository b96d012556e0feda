// Copyright 2026 the midisock authors. MIT license.

import { encode } from "../../midi/encode.ts";
import { MidiParser } from "../../midi/parser.ts";
import { TypedEventTarget } from "../../util/typed_event_target.ts";
import { formatAddress } from "../address.ts";
import { Pacer } from "../pacer.ts";
import type { Transport } from "../transport.ts";
import { clock, type Control, exchange, feedback } from "./_control.ts";
import { checkInteger, RtpMidiReceiver, RtpMidiSender } from "./rtp_midi.ts";
import {
  type RtpEndReason,
  RtpPacketEvent,
  RtpSessionEvent,
} from "./events.ts";

/** Options for a session, which {@linkcode connectRtp} and {@linkcode RtpListener} take. */
export interface RtpSessionOptions {
  /**
   * This end's session name, which the peer shows (a Mac lists it in
   * Audio MIDI Setup's MIDI Network Setup).
   *
   * @default {"midisock"}
   */
  name?: string;
  /**
   * Send a recovery journal (RFC 6295) with every packet, so that the peer
   * can repair a lost packet: no note stays stuck.
   *
   * @default {true}
   */
  journal?: boolean;
  /**
   * The initiator's clock synchronization: after a burst of 6 CK exchanges
   * at the start (100 ms apart), one every this many milliseconds
   * (100..60000: Apple's protocol wants one at least every 60 s).
   *
   * @default {10000}
   */
  syncInterval?: number;
  /**
   * A peer from which nothing came for this many milliseconds is dropped:
   * the session ends (reason `timeout`), and a bus releases the notes it
   * left on. The default outlasts the 60 s that Apple's protocol allows
   * between two clock synchronizations.
   *
   * @default {70000}
   */
  timeout?: number;
  /**
   * The longest sysex taken from the peer, in data bytes; a longer one is
   * dropped and counted.
   *
   * @default {1048576}
   */
  maxSysexBytes?: number;
  /**
   * The most bytes of received MIDI that may wait unread. UDP cannot tell
   * the peer to slow down, so the messages of a packet that would make more
   * wait are dropped, counted (`stats.overflowed`) and reported (an
   * `overflow` event); when nothing waits, a packet's messages are taken
   * whatever their size. The default holds two sysex messages of
   * `maxSysexBytes` and what comes after them.
   *
   * @default {2 * maxSysexBytes + 4, and at least 1048576}
   */
  maxUnreadBytes?: number;
}

/** What a {@linkcode RtpSession} has counted. */
export interface RtpSessionStats {
  /** RTP-MIDI packets received. */
  packetsReceived: number;
  /** RTP-MIDI packets sent (guard packets included). */
  packetsSent: number;
  /** Bytes of the packets sent, headers included. */
  bytesSent: number;
  /** Bytes of recovery journal in the packets sent. */
  journalBytes: number;
  /** Packets that never came, by their sequence numbers. */
  lost: number;
  /** Messages that the peer's recovery journal gave back after a loss. */
  recovered: number;
  /** Packets (RTP or control) that were malformed: counted and skipped. */
  badPackets: number;
  /** Messages dropped because the reader fell `maxUnreadBytes` behind. */
  overflowed: number;
  /**
   * Packets of which something was given up that was not their fault: a
   * sysex over `maxSysexBytes`, one cut by lost packets, or lost packets
   * that no journal covered.
   */
  dropped: number;
  /**
   * Packets that came twice, or after a later one: not delivered again
   * (the later packet's journal stood in for what they held), and counted.
   */
  late: number;
  /** The last round trip of a clock synchronization, in milliseconds. */
  rtt: number | undefined;
}

/** The events of a {@linkcode RtpSession}. */
export interface RtpSessionEventMap {
  /** The session ended: BY, a timeout, or close(). */
  end: RtpSessionEvent<RtpSession>;
  /** A malformed packet for this session, counted and skipped. */
  badpacket: RtpPacketEvent<RtpSession>;
  /** A packet's recovery journal repaired a loss. */
  recovery: RtpPacketEvent<RtpSession>;
  /** Messages dropped because the reader fell behind. */
  overflow: RtpPacketEvent<RtpSession>;
  /**
   * Something given up that was not the packet's fault (a sysex too long or
   * cut by loss, lost packets that no journal covered), with the reason.
   */
  dropped: RtpPacketEvent<RtpSession>;
}

/** The settings of a session, checked, with their defaults. */
export interface SessionSettings {
  name: string;
  journal: boolean;
  syncInterval: number;
  timeout: number;
  maxSysexBytes: number;
  maxUnreadBytes: number;
}

/**
 * Checks a session's options and fills in the defaults.
 *
 * @throws {RangeError} Naming the option, its range and the value.
 */
export function sessionSettings(options: RtpSessionOptions): SessionSettings {
  const check = (field: string, value: number, min: number, max: number) => {
    if (
      typeof value !== "number" || !Number.isFinite(value) || value < min ||
      value > max
    ) {
      throw new RangeError(
        `Invalid ${field} option: expected a number in ${min}..${max}, got ${value}`,
      );
    }
    return value;
  };
  const name = options.name ?? "midisock";
  if (typeof name !== "string") {
    throw new TypeError(
      `Invalid name option: expected a string, got ${typeof name}`,
    );
  }
  const maxSysexBytes = checkInteger(
    "maxSysexBytes option",
    options.maxSysexBytes ?? 1 << 20,
    0,
    Number.MAX_SAFE_INTEGER,
  );
  return {
    name,
    journal: options.journal ?? true,
    syncInterval: check(
      "syncInterval",
      options.syncInterval ?? 10_000,
      100,
      60_000,
    ),
    timeout: check("timeout", options.timeout ?? 70_000, 100, 3_600_000),
    maxSysexBytes,
    maxUnreadBytes: checkInteger(
      "maxUnreadBytes option",
      options.maxUnreadBytes ?? Math.max(1 << 20, 2 * maxSysexBytes + 4),
      1,
      Number.MAX_SAFE_INTEGER,
    ),
  };
}

/** How a session reaches its peer: its owner's sockets. */
export interface SessionLink {
  /** Sends a control packet to the peer's control port. */
  sendControl(bytes: Uint8Array): void;
  /** Sends a packet to the peer's data port. */
  sendData(bytes: Uint8Array): void;
  /** Sends a packet to where a packet came from, on the channel it came on. */
  reply(
    bytes: Uint8Array,
    channel: "control" | "data",
    to: { address: string; port: number },
  ): void;
  /**
   * The session ended: its owner forgets it, sends `bye` (if any) to the
   * peer's data port after the data packets sent so far, then to its
   * control port once those have left, and closes its own sockets, if it
   * has them of its own, once that has left too.
   */
  end(bye: Uint8Array | undefined): Promise<void>;
  /** This end's control address. */
  readonly localAddr: Deno.NetAddr;
  /** The peer's control address. */
  readonly remoteAddr: Deno.NetAddr;
}

/** Who the session is with, from the invitation. */
export interface SessionSetup {
  role: "initiator" | "responder";
  token: number;
  ssrc: number;
  peerSsrc: number;
  peerName: string;
  settings: SessionSettings;
}

/** What the owner of a session feeds it. */
export interface SessionInput {
  session: RtpSession;
  /** A control packet of the peer's (its SSRC matched). */
  control(
    packet: Control,
    channel: "control" | "data",
    from: { address: string; port: number },
  ): void;
  /** An RTP packet of the peer's. */
  data(packet: Uint8Array, from: { address: string; port: number }): void;
  /** A malformed packet from the peer. */
  bad(reason: string, from: { address: string; port: number }): void;
}

/** Makes a session (set by RtpSession, whose constructor is private). */
export let openSession: (
  link: SessionLink,
  setup: SessionSetup,
) => SessionInput;

// The session clock ticks at 10 kHz, as RTP-MIDI's and the CK packets' do.
const RATE = 10; // ticks a millisecond
const TICK_MS = 100; // the session's timer
const BURST = 6; // CK exchanges at the start
const FEEDBACK_MS = 1000; // an RS at most this often, when packets came
const GUARD_MAX = 4; // guard packets after the last MIDI, at most
const BYE_GRACE_MS = 50; // data still taken after the peer's BY
// A burst (a long sysex) is paced, so that the receiving socket's buffer
// (Linux's default: 208 KiB) keeps up: 32 packets at once, then 4,000 a
// second (some 5 MB/s of sysex; 1 MiB takes about 0.2 s), as
// Network MIDI 2.0's sessions pace theirs.
const PACE_BURST = 32;
const PACE_RATE = 4000;

function hostPort(from: { address: string; port: number }): string {
  return formatAddress(from.address, from.port);
}

/**
 * One AppleMIDI session with one remote participant: a
 * {@linkcode Transport} whose readable gives the MIDI bytes the peer sends
 * (the messages that its recovery journal gave back first, after a loss),
 * and whose writable takes MIDI bytes to send, each write's whole messages
 * in as few RTP-MIDI packets as fit, at once (a burst of more than 32
 * packets, a long sysex, goes out 4,000 a second, and later writes follow
 * it). Wrap it in a `SocketPort`, or hand it
 * to `PortServer.admit()`; {@linkcode connectRtp} and
 * {@linkcode RtpListener} make sessions.
 *
 * The session answers the peer's clock synchronization (CK0 with CK1, CK1
 * with CK2), sends receiver feedback (RS) once a second while packets
 * come, trims its journal on the peer's RS, and ends on the peer's BY or
 * after `timeout` ms of silence: then its readable ends, so a port over it
 * closes, and a bus releases its notes. No datagram throws or stalls it: a
 * malformed one is counted in `stats.badPackets` and reported by a
 * `badpacket` event.
 *
 * @example A session between two listeners on loopback
 * ```ts
 * import { SocketPort, message } from "@x/midisock";
 * import { connectRtp, RtpListener, type RtpSession } from "@x/midisock/rtp";
 * import assert from "node:assert/strict";
 *
 * const joined = Promise.withResolvers<RtpSession>();
 * await using listener = await RtpListener.listen({ hostname: "127.0.0.1", port: 0 }, (s) => joined.resolve(s));
 * const session = await connectRtp("127.0.0.1", listener.port, { name: "keys" });
 * await using keys = new SocketPort(session, { name: session.name });
 * await using synth = new SocketPort(await joined.promise, { name: "synth" });
 * assert.equal((await joined.promise).name, "rtp:keys");
 * await keys.send(message("note_on", { note: 60, velocity: 100 }));
 * assert.deepEqual(await synth.receive(), message("note_on", { note: 60, velocity: 100 }));
 * assert.ok(await session.ping() >= 0);
 * ```
 */
export class RtpSession extends TypedEventTarget<RtpSessionEventMap>
  implements Transport {
  /** `rtp:` and the peer's session name (or its address, if it gave none). */
  readonly name: string;
  /** The peer's session name, as it sent it. */
  readonly peerName: string;
  /** Who invited: this end (`initiator`) or the peer (`responder`). */
  readonly role: "initiator" | "responder";
  /** This end's SSRC. */
  readonly ssrc: number;
  /** The peer's SSRC. */
  readonly peerSsrc: number;
  /** This end's control address. */
  readonly localAddr: Deno.NetAddr;
  /** The peer's control address. */
  readonly remoteAddr: Deno.NetAddr;
  /** What the session has counted. */
  readonly stats: RtpSessionStats = {
    packetsReceived: 0,
    packetsSent: 0,
    bytesSent: 0,
    journalBytes: 0,
    lost: 0,
    recovered: 0,
    badPackets: 0,
    overflowed: 0,
    dropped: 0,
    late: 0,
    rtt: undefined,
  };

  #link: SessionLink;
  #token: number;
  #settings: SessionSettings;
  #sender: RtpMidiSender;
  #receiver: RtpMidiReceiver;
  #parser = new MidiParser({ maxSysexBytes: Number.MAX_SAFE_INTEGER });
  #epoch = performance.now();
  #timer: ReturnType<typeof setInterval>;
  #heard = performance.now(); // the last packet from the peer
  #synced = 0; // CK0s sent by the timer
  #nextSync = 0; // when the timer sends the next CK0
  #fedBack = -1; // the seq of the last RS sent
  #lastFeedback = 0;
  #lastMidi = -Infinity; // when the last packet with MIDI went out
  #guards = 0; // guard packets since then
  #nextGuard = Infinity;
  #pings = new Map<
    number,
    { at: number; done: (ms: number) => void; fail: (e: Error) => void }
  >();
  #chunks: Uint8Array[] = [];
  #unread = 0;
  // Reads waiting for the next packet, in the order they were made.
  #reading: { buf: Uint8Array; resolve: (n: number | null) => void }[] = [];
  #ended: RtpEndReason | undefined;
  #endedPromise = Promise.withResolvers<RtpEndReason>();
  #detached: Promise<void> | undefined;
  #byeTimer: ReturnType<typeof setTimeout> | undefined;
  #paced: Promise<void> | undefined; // a long write still going out
  #pacer = new Pacer(PACE_RATE, PACE_BURST);
  #stop = new AbortController(); // aborts when the session ends
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  private constructor(link: SessionLink, setup: SessionSetup) {
    super();
    this.#link = link;
    this.#token = setup.token;
    this.#settings = setup.settings;
    this.role = setup.role;
    this.ssrc = setup.ssrc;
    this.peerSsrc = setup.peerSsrc;
    this.peerName = setup.peerName;
    this.localAddr = link.localAddr;
    this.remoteAddr = link.remoteAddr;
    this.name = `rtp:${
      setup.peerName ||
      formatAddress(link.remoteAddr.hostname, link.remoteAddr.port)
    }`;
    this.#sender = new RtpMidiSender({
      ssrc: setup.ssrc,
      journal: setup.settings.journal,
    });
    this.#receiver = new RtpMidiReceiver({
      maxSysex: setup.settings.maxSysexBytes,
    });
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    if (this.role === "initiator") this.#sync();
  }

  static {
    openSession = (link, setup) => {
      const session = new RtpSession(link, setup);
      return {
        session,
        control: (packet, channel, from) =>
          session.#control(packet, channel, from),
        data: (packet, from) => session.#data(packet, from),
        bad: (reason, from) => session.#bad(reason, hostPort(from)),
      };
    };
  }

  /** Resolves with the reason once the session has ended. */
  get ended(): Promise<RtpEndReason> {
    return this.#endedPromise.promise;
  }

  /**
   * Measures the round trip to the peer with a clock synchronization
   * exchange (CK0, answered by CK1).
   *
   * @param signal Gives up when it aborts.
   * @returns The round trip, in milliseconds.
   * @throws {Deno.errors.NotConnected} If the session ended first.
   *
   * @example The round trip to a listener on loopback
   * ```ts
   * import { connectRtp, RtpListener } from "@x/midisock/rtp";
   * import assert from "node:assert/strict";
   *
   * await using listener = await RtpListener.listen({ hostname: "127.0.0.1", port: 0 }, () => {});
   * await using session = await connectRtp("127.0.0.1", listener.port);
   * const ms = await session.ping(AbortSignal.timeout(2000));
   * assert.ok(ms >= 0 && ms < 2000);
   * ```
   */
  ping(signal?: AbortSignal): Promise<number> {
    if (this.#ended) return Promise.reject(this.#endedError("ping"));
    signal?.throwIfAborted();
    let ts = this.#now();
    while (this.#pings.has(ts)) ts++;
    const { promise, resolve, reject } = Promise.withResolvers<number>();
    const abort = () => {
      this.#pings.delete(ts);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", abort, { once: true });
    this.#pings.set(ts, {
      at: performance.now(),
      done: (ms) => {
        signal?.removeEventListener("abort", abort);
        resolve(ms);
      },
      fail: (error) => {
        signal?.removeEventListener("abort", abort);
        reject(error);
      },
    });
    this.#sendClock(ts);
    return promise;
  }

  /** The MIDI bytes that the peer sends; it ends when the session ends. */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const buf = new Uint8Array(16 * 1024);
        const n = await this.read(buf);
        if (n === null) controller.close();
        else controller.enqueue(buf.slice(0, n));
      },
      cancel: () => this.close(),
    });
  }

  /** MIDI bytes to send: each write's whole messages go out at once. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: (bytes) => this.write(bytes),
      close: () => this.closeWrite(),
      abort: () => this.close(),
    });
  }

  /**
   * Reads the peer's next MIDI bytes into `buf`.
   *
   * @param buf Where to put them.
   * @returns How many, or null once the session has ended.
   */
  read(buf: Uint8Array): Promise<number | null> {
    if (this.#reading.length === 0) {
      if (this.#chunks.length > 0) return Promise.resolve(this.#take(buf));
      if (this.#ended) return Promise.resolve(null);
    }
    // The next packet's messages go straight into `buf`.
    const { promise, resolve } = Promise.withResolvers<number | null>();
    this.#reading.push({ buf, resolve });
    return promise;
  }

  // Moves what waits into `buf`.
  #take(buf: Uint8Array): number {
    let n = 0;
    while (n < buf.length && this.#chunks.length) {
      const chunk = this.#chunks[0];
      const take = Math.min(chunk.length, buf.length - n);
      buf.set(take === chunk.length ? chunk : chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    this.#unread -= n;
    return n;
  }

  /**
   * Sends MIDI bytes: the whole messages among them, in RTP-MIDI packets
   * (a message cut at the end waits for the rest in the next write).
   *
   * @param bytes MIDI bytes.
   * @throws {Deno.errors.NotConnected} If the session has ended.
   */
  write(bytes: Uint8Array): Promise<void> {
    if (this.#ended) return Promise.reject(this.#endedError("write"));
    // A write made while a long one is still going out waits its turn.
    if (!this.#paced) return this.#send(bytes) ?? Promise.resolve();
    const copy = bytes.slice();
    return this.#pace(
      this.#paced.catch(() => {}).then(() => {
        if (this.#ended) throw this.#endedError("write");
        return this.#send(copy);
      }),
    );
  }

  // Holds `sending` as the write that later ones wait for, until it is done.
  #pace(sending: Promise<void>): Promise<void> {
    this.#paced = sending;
    sending.catch(() => {}).finally(() => {
      if (this.#paced === sending) this.#paced = undefined;
    });
    return sending;
  }

  // Sends a write's messages: at once, but for a burst (a long sysex),
  // which the pacer spreads out so that no receiving socket's buffer
  // overflows with it.
  #send(bytes: Uint8Array): Promise<void> | undefined {
    const messages = this.#parser.feed(bytes);
    if (messages.length === 0) return;
    const packets = this.#sender.packets(
      messages.map(encode),
      this.#now() >>> 0,
    );
    const pacer = this.#pacer;
    let at = 0;
    // (A lone packet, a player's message, never waits.)
    while (at < packets.length && (pacer.ready || packets.length === 1)) {
      this.#sendPacket(packets[at++]);
      pacer.spend();
    }
    this.#sentMidi();
    if (at === packets.length) return;
    return this.#pace((async () => {
      for (; at < packets.length; at++) {
        await pacer.wait(() => this.#ended !== undefined, this.#stop.signal);
        // What was not sent is not dropped silently.
        if (this.#ended) throw this.#endedError("write");
        this.#sendPacket(packets[at]);
        pacer.spend();
        this.#sentMidi();
      }
    })());
  }

  #sentMidi(): void {
    this.#lastMidi = performance.now();
    this.#guards = 0;
    this.#nextGuard = this.#lastMidi + TICK_MS;
  }

  /**
   * Ends the session (BY), as close() does: RTP has no half close.
   *
   * @returns When the BY has left (and an initiator's sockets are closed).
   */
  async closeWrite(): Promise<void> {
    this.close();
    await this.#detached;
  }

  /** Ends the session: says BY to the peer, and ends the readable. */
  close(): void {
    this.#end("closed");
  }

  /**
   * Ends the session, as close() does, for `await using`, and resolves once
   * its sockets (an initiator's own) are closed.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#detached;
  }

  // The session clock, in units of 100 us.
  #now(): number {
    return Math.round((performance.now() - this.#epoch) * RATE);
  }

  #endedError(what: string): Error {
    return new Deno.errors.NotConnected(
      `Cannot ${what}: RTP session ${this.name} has ended (${this.#ended})`,
    );
  }

  #sendPacket(packet: Uint8Array): void {
    this.#link.sendData(packet);
    this.stats.packetsSent++;
    this.stats.bytesSent += packet.length;
    this.stats.journalBytes = this.#sender.stats.journalBytes;
  }

  #sendClock(ts: number): void {
    this.#link.sendData(clock(this.ssrc, 0, [ts, 0, 0]));
  }

  // The initiator's CK0s: a burst at the start, then one every interval.
  #sync(): void {
    this.#sendClock(this.#now());
    this.#synced++;
    this.#nextSync = performance.now() +
      (this.#synced < BURST ? TICK_MS : this.#settings.syncInterval);
  }

  #tick(): void {
    const now = performance.now();
    if (now - this.#heard > this.#settings.timeout) {
      this.#end("timeout");
      return;
    }
    if (this.role === "initiator" && now >= this.#nextSync) this.#sync();
    // Receiver feedback: the last packet that came, once a second.
    const last = this.#receiver.lastSeq;
    if (
      last !== undefined && last !== this.#fedBack &&
      now - this.#lastFeedback >= FEEDBACK_MS
    ) {
      this.#fedBack = last;
      this.#lastFeedback = now;
      this.#link.sendControl(feedback(this.ssrc, last & 0xffff));
    }
    // A guard packet after the last MIDI (RFC 4696 7.1): it carries the
    // journal, so a peer that lost the last packet repairs it now.
    if (now >= this.#nextGuard) {
      const guard = this.#guards < GUARD_MAX
        ? this.#sender.guard(this.#now() >>> 0)
        : undefined;
      if (guard) {
        this.#sendPacket(guard);
        this.#guards++;
        this.#nextGuard = now + FEEDBACK_MS;
      } else this.#nextGuard = Infinity;
    }
  }

  #control(
    packet: Control,
    channel: "control" | "data",
    from: { address: string; port: number },
  ): void {
    if (this.#ended) return;
    this.#heard = performance.now();
    switch (packet.command) {
      case "BY":
        // The two ports are read apart, so the peer's last MIDI, sent
        // before its BY, may be read just after it: take data for a
        // moment more.
        this.#byeTimer ??= setTimeout(() => this.#end("bye"), BYE_GRACE_MS);
        return;
      case "CK": {
        const [t1, t2] = packet.timestamps;
        if (packet.count === 0) {
          this.#link.reply(
            clock(this.ssrc, 1, [t1, this.#now(), 0]),
            channel,
            from,
          );
        } else if (packet.count === 1) {
          this.#link.reply(
            clock(this.ssrc, 2, [t1, t2, this.#now()]),
            channel,
            from,
          );
          const ping = this.#pings.get(t1);
          const rtt = (this.#now() - t1) / RATE;
          if (ping) {
            this.#pings.delete(t1);
            const ms = performance.now() - ping.at;
            this.stats.rtt = ms;
            ping.done(ms);
          } else if (rtt >= 0 && rtt < 60_000) this.stats.rtt = rtt;
        }
        return;
      }
      case "RS":
        this.#sender.acknowledge(packet.seq);
        return;
      default:
        return; // IN and OK again (retries), RL: nothing to do
    }
  }

  #data(packet: Uint8Array, from: { address: string; port: number }): void {
    if (this.#ended) return;
    this.#heard = performance.now();
    this.stats.packetsReceived++;
    const got = this.#receiver.receive(packet);
    if (got.malformed !== undefined) this.#bad(got.malformed, hostPort(from));
    if (got.dropped !== undefined) {
      this.stats.dropped++;
      this.dispatchEvent(
        new RtpPacketEvent("dropped", {
          address: hostPort(from),
          session: this,
          reason: got.dropped,
        }),
      );
    }
    this.stats.lost += got.lost;
    if (got.late) this.stats.late++;
    if (got.recovered > 0) {
      this.stats.recovered += got.recovered;
      this.dispatchEvent(
        new RtpPacketEvent("recovery", {
          address: hostPort(from),
          session: this,
          recovered: got.recovered,
          lost: got.lost,
        }),
      );
    }
    const messages = got.messages;
    if (messages.length === 0) return;
    let size = 0;
    for (const m of messages) size += m.length;
    // (A reader that has taken everything takes the next packet's messages
    // whatever their size: a sysex as long as maxSysexBytes.)
    if (
      this.#unread > 0 && this.#unread + size > this.#settings.maxUnreadBytes
    ) {
      this.stats.overflowed += messages.length;
      this.dispatchEvent(
        new RtpPacketEvent("overflow", {
          address: hostPort(from),
          session: this,
          reason: `${messages.length} message${
            messages.length === 1 ? "" : "s"
          } dropped: the reader is ${this.#unread} bytes behind`,
        }),
      );
      return;
    }
    // Each message waits as it is (a read takes several at once): no copy.
    for (const m of messages) this.#chunks.push(m);
    this.#unread += size;
    this.#wakeReader();
  }

  #bad(reason: string, address: string): void {
    this.stats.badPackets++;
    this.dispatchEvent(
      new RtpPacketEvent("badpacket", { address, session: this, reason }),
    );
  }

  #wakeReader(): void {
    while (
      this.#reading.length > 0 && (this.#chunks.length > 0 || this.#ended)
    ) {
      const reading = this.#reading.shift()!;
      reading.resolve(
        this.#chunks.length > 0 ? this.#take(reading.buf) : null,
      );
    }
  }

  #end(reason: RtpEndReason): void {
    if (this.#ended) return;
    this.#ended = reason;
    clearInterval(this.#timer);
    clearTimeout(this.#byeTimer);
    this.#stop.abort();
    this.#detached = this.#link.end(
      reason === "bye"
        ? undefined
        : exchange("BY", this.#token, this.ssrc, this.#settings.name),
    );
    for (const ping of this.#pings.values()) {
      ping.fail(this.#endedError("ping"));
    }
    this.#pings.clear();
    this.#wakeReader();
    this.#endedPromise.resolve(reason);
    this.dispatchEvent(new RtpSessionEvent("end", { session: this, reason }));
  }
}
