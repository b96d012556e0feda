// Copyright 2026 the midisock authors. MIT license.
// One established Network MIDI 2.0 session with one remote endpoint, as a
// Transport of MIDI 1.0 bytes: the UMP Data that comes in is delivered once
// and in order, and translated to MIDI 1.0; the MIDI 1.0 bytes written are
// translated to UMP and sent as UMP Data with FEC. Pings, Bye, Session Reset,
// Retransmit and NAK are handled here; the invitation is the listener's (the
// host) or dialMidi2()'s (the client).

import { TypedEventTarget } from "../../util/typed_event_target.ts";
import { concat } from "../../util/grow.ts";
import { MidiParser } from "../../midi/parser.ts";
import { encode } from "../../midi/encode.ts";
import { Midi1ToUmp, UmpToMidi1 } from "../../midi/ump.ts";
import {
  encodeUmpStream,
  type UmpStreamMessage,
} from "../../midi/ump_stream.ts";
import type { Transport } from "../transport.ts";
import {
  ByeReason,
  decodeDatagram,
  type DecodedCommand,
  encodeDatagram,
  type Midi2Command,
  NakReason,
} from "./_packets.ts";
import { UmpSender } from "./_sender.ts";
import {
  type Midi2SessionOptions,
  sessionOptions,
} from "./midi2_session_options.ts";
import { type Gap, UmpReceiver } from "./_receiver.ts";
import { byeFor, byeText } from "./_reasons.ts";
import { streamAnswer } from "./_stream_answer.ts";
import { DropGate } from "./_drops.ts";
import { Midi2Event, type Midi2EventMap } from "./events.ts";
import { Pacer } from "../pacer.ts";

/** What a session was made with: its peer and how to reach it. */
export interface Midi2SessionInit extends Midi2SessionOptions {
  /** `host` for a listener's session, `client` for a dialed one. */
  role: "host" | "client";
  /** Sends one datagram to the peer. */
  send(bytes: Uint8Array): void;
  /** The peer's address. */
  remoteAddr: Deno.NetAddr;
  /** This end's address. */
  localAddr: Deno.NetAddr;
  /** The peer's UMP endpoint name and Product Instance Id. */
  peer: { name: string; productInstanceId: string };
  /** This end's UMP endpoint name and Product Instance Id. */
  self: { name: string; productInstanceId: string };
  /** Called once, when the session ends; `ended` waits for it. */
  onEnd?: () => void | Promise<void>;
}

/** The counters of a session. */
export interface Midi2SessionStats {
  /** UMP Data commands delivered, each once. */
  delivered: number;
  /** Copies dropped: FEC repeats and duplicated datagrams. */
  duplicates: number;
  /** Commands whose first copy came as another datagram's FEC. */
  fecRecovered: number;
  /** Commands that came after later ones (reordered), and were held. */
  reordered: number;
  /** Commands that came in answer to a Retransmit Request. */
  retransmitRecovered: number;
  /** Commands given up: they never came, or the peer had them no more. */
  lost: number;
  /** Datagrams received from the peer. */
  datagramsIn: number;
  /** Datagrams sent to the peer. */
  datagramsOut: number;
  /** Bytes of datagrams sent (signatures, FEC and retransmits included). */
  bytesOut: number;
  /** UMP Data commands sent, each counted once. */
  commandsOut: number;
  /** Datagrams or commands from the peer that were malformed. */
  malformed: number;
  /** NAKs sent, for unknown or malformed commands. */
  naksSent: number;
  /** NAKs received. */
  naksReceived: number;
  /** Retransmit Requests sent. */
  retransmitRequests: number;
  /** UMP Data commands sent again, on the peer's request. */
  retransmitted: number;
  /** Retransmit Errors received. */
  retransmitErrors: number;
  /** UMP messages with no MIDI 1.0 form (or malformed), dropped. */
  untranslated: number;
  /** Pings sent. */
  pings: number;
  /** Ping Replies received to them. */
  pingReplies: number;
}

// The datagrams a session may send at once before maxDatagramRate paces it:
// a burst (a long sysex) must not overrun the peer's socket buffer, which
// nothing in the protocol paces; a player's stream never comes near.
const BURST = 32;

// The most UMP words that wait in a session's send queue before a write
// waits: 1 MiB of them, some 3 MiB of sysex.
const MAX_QUEUED_WORDS = 256 * 1024;

// Commands held after a missing one at which it is asked for at once,
// rather than after retransmitWait (amidi2net's tolerance, 8).
const TOLERANCE = 8;

/**
 * An established Network MIDI 2.0 session with one remote UMP endpoint. It
 * is a {@linkcode Transport} of MIDI 1.0 bytes, so a `SocketPort` runs over
 * it, and a `PortServer` takes it in with `admit(session, { name })`: the UMP
 * that the peer sends comes out of `readable` as MIDI 1.0 bytes (MT 0x1 and
 * 0x2 1:1, SysEx7 joined, MT 0x4 scaled down), each UMP Data command once and
 * in order, whatever FEC, retransmits, duplicates and reordering bring; the
 * bytes written to `writable` go out as UMP Data (MT 0x2, or MT 0x4 once the
 * peer selects the MIDI 2.0 protocol), with FEC. What has no MIDI 1.0 form is
 * counted in {@linkcode Midi2Session.stats} and reported with a `drop` event.
 *
 * It pings the peer every `pingInterval` ms, and ends itself (a Bye with
 * reason Timeout) after `timeout` ms with nothing from it. You get sessions
 * from a {@linkcode Midi2Listener} (the host) or from
 * {@linkcode dialMidi2} (the client).
 *
 * @example A client session to a listener, round trip
 * ```ts
 * import { dialMidi2, listenMidi2, type Midi2Session } from "@x/midisock/midi2";
 * import assert from "node:assert/strict";
 *
 * const hosted = Promise.withResolvers<Midi2Session>();
 * await using listener = await listenMidi2(
 *   { hostname: "127.0.0.1", port: 0 },
 *   (session) => hosted.resolve(session),
 * );
 * await using client = await dialMidi2("127.0.0.1", listener.port);
 * const host = await hosted.promise;
 * const writer = client.writable.getWriter();
 * await writer.write(new Uint8Array([0x90, 60, 100]));
 * const reader = host.readable.getReader();
 * assert.deepEqual((await reader.read()).value, new Uint8Array([0x90, 60, 100]));
 * assert.equal(typeof await client.ping(), "number");
 * reader.releaseLock();
 * writer.releaseLock();
 * ```
 */
export class Midi2Session extends TypedEventTarget<Midi2EventMap>
  implements Transport {
  /** The bytes of MIDI 1.0 that the peer sends. */
  readonly readable: ReadableStream<Uint8Array>;
  /** MIDI 1.0 bytes to send to the peer. */
  readonly writable: WritableStream<Uint8Array>;
  /** The peer's address. */
  readonly remoteAddr: Deno.NetAddr;
  /** This end's address. */
  readonly localAddr: Deno.NetAddr;
  /** `host` (the listener's end) or `client` (dialed). */
  readonly role: "host" | "client";
  /** The peer's UMP endpoint name, as its invitation or reply gave it. */
  readonly peerName: string;
  /** The peer's Product Instance Id. */
  readonly peerProductInstanceId: string;
  /** The session's name: `ENDPOINT@HOST:PORT` of the peer. */
  readonly name: string;

  #init: Midi2SessionInit;
  #o: ReturnType<typeof sessionOptions>;
  // What came, for read() or the readable: chunks, and how far into the
  // first one has been read.
  #incoming: Uint8Array[] = [];
  #readAt = 0;
  #readWaiter: (() => void) | undefined;
  #sender: UmpSender;
  #receiver = new UmpReceiver();
  #toMidi1: UmpToMidi1;
  #toUmp: Midi1ToUmp;
  #parser: MidiParser;
  #closed = false;
  #endReason = "";
  #ended = Promise.withResolvers<void>();
  #lastHeard = performance.now();
  #pingTimer: ReturnType<typeof setInterval>;
  #gapTimer: ReturnType<typeof setTimeout> | undefined;
  #gapAttempts = 0;
  #tailTimer: ReturnType<typeof setTimeout> | undefined;
  #tailDue = 0;
  #tailPending = false;
  #drops = new DropGate((reason, count) =>
    this.dispatchEvent(
      new Midi2Event("drop", { name: this.name, reason, count }),
    )
  );
  #writing = false;
  #queue: number[][] = [];
  #queuedWords = 0;
  #drain: PromiseWithResolvers<void> | undefined;
  #pacer: Pacer;
  #pings = new Map<
    number,
    {
      resolve(rtt: number): void;
      reject(error: unknown): void;
      deadline: number;
    }
  >();
  #pingId = crypto.getRandomValues(new Uint32Array(1))[0];
  #pingSent = new Map<number, number>();
  #resetWaiters: (() => void)[] = [];
  #stats = {
    datagramsIn: 0,
    datagramsOut: 0,
    bytesOut: 0,
    malformed: 0,
    naksSent: 0,
    naksReceived: 0,
    retransmitRequests: 0,
    retransmitErrors: 0,
    untranslated: 0,
    pings: 0,
    pingReplies: 0,
  };

  /**
   * Makes a session that is established: a listener or dialMidi2() makes
   * it, once the invitation is accepted.
   *
   * @param init The peer, how to send to it, and the options.
   * @throws {RangeError} An option out of range.
   */
  constructor(init: Midi2SessionInit) {
    super();
    this.#init = init;
    this.#o = sessionOptions(init);
    this.#pacer = new Pacer(this.#o.maxDatagramRate, BURST);
    this.role = init.role;
    this.remoteAddr = init.remoteAddr;
    this.localAddr = init.localAddr;
    this.peerName = init.peer.name;
    this.peerProductInstanceId = init.peer.productInstanceId;
    const host = init.remoteAddr.hostname.includes(":")
      ? `[${init.remoteAddr.hostname}]`
      : init.remoteAddr.hostname;
    this.name = `${init.peer.name || "?"}@${host}:${init.remoteAddr.port}`;
    this.#sender = new UmpSender(this.#o.fec, this.#o.retransmitBuffer);
    this.#toMidi1 = new UmpToMidi1({
      group: this.#o.group,
      maxSysex: this.#o.maxSysexBytes + 2, // F0 and F7 too
    });
    this.#toUmp = new Midi1ToUmp({
      group: this.#o.group,
      protocol: this.#o.protocol ?? 1,
    });
    this.#parser = new MidiParser({ maxSysexBytes: this.#o.maxSysexBytes });
    this.readable = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const chunk = await this.#nextChunk();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel: () => this.close(),
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => this.#write(chunk),
      // UDP has no half close: the end of what this end sends is a Bye.
      // Resolves once the Bye is handed to the system.
      close: async () => {
        await this.#flush();
        this.close();
        await this.ended;
      },
    });
    this.#pingTimer = setInterval(() => this.#tick(), this.#o.pingInterval);
  }

  /** The counters of the session. */
  get stats(): Readonly<Midi2SessionStats> {
    return {
      ...this.#stats,
      ...this.#receiver.stats,
      commandsOut: this.#sender.commands,
      retransmitted: this.#sender.retransmitted,
    };
  }

  /** The protocol of the channel voice messages sent now: 1 or 2. */
  get protocol(): 1 | 2 {
    return this.#toUmp.protocol;
  }

  /** The FEC commands that each datagram repeats. */
  get fec(): number {
    return this.#o.fec;
  }

  /** Whether the session has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Why the session ended (a Bye's reason, a timeout); empty while open. */
  get endReason(): string {
    return this.#endReason;
  }

  /** Resolves once the session has ended. */
  get ended(): Promise<void> {
    return this.#ended.promise;
  }

  /**
   * Reads the peer's next MIDI 1.0 bytes into `buf`, as `Deno.Conn.read()`
   * does (the fast path that a port takes rather than `readable`).
   *
   * @param buf Where to put them.
   * @returns How many, or null once the session has ended and all is read.
   */
  async read(buf: Uint8Array): Promise<number | null> {
    for (;;) {
      const first = this.#incoming[0];
      if (first !== undefined) {
        const n = Math.min(buf.length, first.length - this.#readAt);
        buf.set(first.subarray(this.#readAt, this.#readAt + n));
        this.#readAt += n;
        if (this.#readAt === first.length) {
          this.#incoming.shift();
          this.#readAt = 0;
        }
        return n;
      }
      if (this.#closed) return null;
      await new Promise<void>((resolve) => (this.#readWaiter = resolve));
    }
  }

  /**
   * Sends MIDI 1.0 bytes to the peer, as writing to `writable` does (the
   * fast path that a port takes); done with `bytes` once it resolves.
   *
   * @param bytes Whole messages, or parts of them.
   */
  write(bytes: Uint8Array): Promise<void> {
    return this.#write(bytes);
  }

  /** Ends what this end sends, as closing `writable` does: a Bye, once all is out. */
  async closeWrite(): Promise<void> {
    await this.#flush();
    this.close();
    await this.ended;
  }

  // The next chunk that came (whole, or what read() left of it), or null at
  // the end.
  async #nextChunk(): Promise<Uint8Array | null> {
    for (;;) {
      const first = this.#incoming.shift();
      if (first !== undefined) {
        const rest = this.#readAt ? first.subarray(this.#readAt) : first;
        this.#readAt = 0;
        return rest;
      }
      if (this.#closed) return null;
      await new Promise<void>((resolve) => (this.#readWaiter = resolve));
    }
  }

  #wakeReader(): void {
    const wake = this.#readWaiter;
    this.#readWaiter = undefined;
    wake?.();
  }

  /**
   * Measures the round trip to the peer: a Ping, and its Ping Reply.
   *
   * @param signal Gives up (the promise rejects) when it aborts.
   * @returns The round trip in milliseconds.
   * @throws {Error} If the session ends first, or after `timeout` ms with no
   * reply (checked at each ping tick, every `pingInterval` ms).
   */
  ping(signal?: AbortSignal): Promise<number> {
    if (this.#closed) {
      return Promise.reject(
        new Error(`Cannot ping ${this.name}: the session has ended`),
      );
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = this.#newPingId();
    const done = Promise.withResolvers<number>();
    // No timer of its own: the ping tick times it out (see #tick).
    this.#pings.set(id, {
      resolve: done.resolve,
      reject: done.reject,
      deadline: performance.now() + this.#o.timeout,
    });
    this.#sendPing(id);
    if (signal === undefined) return done.promise;
    const abort = () => {
      this.#pings.delete(id);
      done.reject(signal.reason);
    };
    signal.addEventListener("abort", abort, { once: true });
    return done.promise.finally(() =>
      signal.removeEventListener("abort", abort)
    );
  }

  /**
   * Starts the session's sequence numbers again from 0, both ways: sends a
   * Session Reset, and resolves on its reply (or after `timeout` ms).
   */
  async reset(): Promise<void> {
    if (this.#closed) return;
    this.#sender.reset();
    this.#receiver.reset();
    this.#resetTranslation();
    this.#clearGap();
    const replied = Promise.withResolvers<void>();
    this.#resetWaiters.push(replied.resolve);
    this.#sendCommands([{ type: "session_reset" }]);
    const timer = setTimeout(replied.resolve, this.#o.timeout);
    await Promise.race([replied.promise, this.#ended.promise]);
    clearTimeout(timer);
  }

  /**
   * Ends the session: a Bye to the peer (reason User Terminated, or, when
   * the bus turns the session away, Too Many Open Sessions or Invitation
   * Rejected, with `reason` as its text), and the end of `readable`.
   *
   * @param reason Why, for the peer.
   */
  close(reason?: string): void {
    this.end(byeFor(reason), reason ?? "closed");
  }

  /** Ends the session, and waits until its socket (a client's) is closed. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return this.ended;
  }

  /**
   * Ends the session with a Bye of reason `code` (none if undefined, for a
   * session that the peer ended), and the text `why`.
   *
   * @param code The Bye reason to send, or undefined to send none.
   * @param why Why, for the peer and for the `end` event.
   */
  end(code: number | undefined, why: string): void {
    if (this.#closed) return;
    if (this.#tailPending) {
      // The last data's FEC goes before the Bye.
      const tail = this.#sender.tail();
      if (tail) this.#sendCommands(tail);
    }
    if (code !== undefined) {
      this.#sendCommands([{ type: "bye", reason: code, text: why }]);
    }
    this.#closed = true;
    this.#endReason = why;
    clearInterval(this.#pingTimer);
    this.#clearGap();
    clearTimeout(this.#tailTimer);
    this.#wakeReader(); // the end of the readable
    for (const wake of this.#resetWaiters) wake();
    this.#resetWaiters = [];
    for (const waiter of this.#pings.values()) {
      waiter.reject(new Error(`No Ping Reply from ${this.name}: ${why}`));
    }
    this.#pings.clear();
    this.#drops.flush();
    this.#queue = [];
    this.#queuedWords = 0;
    this.#wakeWriters();
    Promise.resolve(this.#init.onEnd?.()).finally(() => this.#ended.resolve());
    this.dispatchEvent(
      new Midi2Event("end", { name: this.name, reason: why, code }),
    );
  }

  /**
   * Takes one datagram from the peer (the listener or the dialer hands it
   * on). It never throws: what is malformed is counted and reported, an
   * unknown command is answered with a NAK, and the rest is read.
   *
   * @param datagram The UDP payload, from the "MIDI" signature on.
   */
  receive(datagram: Uint8Array): void {
    if (this.#closed) return;
    const { commands, errors } = decodeDatagram(datagram);
    if (errors.length > 0) {
      this.#stats.malformed += errors.length;
      this.#drop(`malformed datagram: ${errors.join("; ")}`, errors.length);
    }
    this.#commands(commands);
  }

  #commands(commands: readonly DecodedCommand[]): void {
    this.#stats.datagramsIn++;
    this.#lastHeard = performance.now();
    let lastData = -1;
    for (let i = 0; i < commands.length; i++) {
      if (commands[i].type === "ump_data") lastData = i;
    }
    for (let i = 0; i < commands.length && !this.#closed; i++) {
      const command = commands[i];
      switch (command.type) {
        case "ump_data":
          this.#data(command.sequence, command.words, i < lastData);
          break;
        case "ping":
          this.#sendCommands([{ type: "ping_reply", id: command.id }]);
          break;
        case "ping_reply":
          this.#pingReply(command.id);
          break;
        case "retransmit_request":
          this.#retransmit(command.sequence, command.count);
          break;
        case "retransmit_error":
          this.#stats.retransmitErrors++;
          this.#giveUpGap(`the peer has them no more (Retransmit Error)`);
          break;
        case "session_reset":
          this.#sender.reset();
          this.#receiver.reset();
          this.#resetTranslation();
          this.#clearGap();
          this.#sendCommands([{ type: "session_reset_reply" }]);
          break;
        case "session_reset_reply":
          for (const wake of this.#resetWaiters) wake();
          this.#resetWaiters = [];
          break;
        case "nak":
          this.#stats.naksReceived++;
          break;
        case "bye":
          this.#sendCommands([{ type: "bye_reply" }]);
          this.end(
            undefined,
            `the peer said bye: ${byeText(command.reason, command.text)}`,
          );
          break;
        case "bye_reply":
          break;
        case "invitation_accepted":
        case "invitation_pending":
        case "authentication_required":
        case "user_authentication_required":
          // Late replies to an invitation sent more than once.
          break;
        case "unknown":
          this.#nak(NakReason.CommandNotSupported, command.header);
          break;
        case "malformed":
          this.#stats.malformed++;
          this.#nak(NakReason.CommandMalformed, command.header, command.error);
          break;
        default:
          // An invitation in a session (the listener handles an
          // Invitation), or an answer to a challenge that was not sent.
          this.#nak(NakReason.CommandNotExpected, command.header);
      }
    }
    this.#checkGap();
  }

  #nak(reason: number, header: number, text = ""): void {
    this.#stats.naksSent++;
    this.#sendCommands([{
      type: "nak",
      reason,
      refusedHeader: header,
      text: text.slice(0, 200),
    }]);
  }

  #drop(reason: string, count = 1): void {
    this.#drops.add(reason, count);
  }

  // One UMP Data command: delivered in order through the receiver.
  #data(sequence: number, words: readonly number[], fec: boolean): void {
    for (const delivered of this.#receiver.accept(sequence, words, fec)) {
      this.#deliver(delivered);
    }
  }

  #deliver(words: readonly number[]): void {
    const { messages, dropped, stream } = this.#toMidi1.push(words);
    if (messages.length === 1) this.#enqueue(messages[0]);
    else if (messages.length > 1) this.#enqueue(concat(messages));
    for (const drop of dropped) {
      this.#stats.untranslated++;
      this.#drop(drop.reason);
    }
    for (const message of stream) this.#stream(message);
  }

  #enqueue(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#incoming.push(bytes);
    this.#wakeReader();
  }

  // A UMP Stream message from the peer: its protocol, or its questions.
  #stream(message: UmpStreamMessage): void {
    const { answer, protocol } = streamAnswer(message, {
      self: this.#init.self,
      protocol: this.#toUmp.protocol,
      forced: this.#o.protocol !== undefined,
    });
    this.#toUmp.protocol = protocol;
    if (answer.length > 0) this.#sendWords(answer.flatMap(encodeUmpStream));
  }

  // MIDI 1.0 bytes from the port: whole messages, as UMP Data. They wait
  // in the session's send queue (as a socket's send buffer), paced out by
  // maxDatagramRate; a write waits only while the queue is over its bound.
  async #write(chunk: Uint8Array): Promise<void> {
    if (this.#closed) return;
    const words: number[] = [];
    for (const msg of this.#parser.feed(chunk)) {
      for (const word of this.#toUmp.push(encode(msg))) words.push(word);
    }
    if (words.length === 0) return;
    for (const piece of this.#sender.split(words)) {
      this.#queue.push(piece);
      this.#queuedWords += piece.length;
    }
    if (!this.#writing) this.#pump();
    while (this.#queuedWords > MAX_QUEUED_WORDS && !this.#closed) {
      await this.#drained();
    }
  }

  // Resolves when the queue has shrunk (or emptied, or the session ended).
  #drained(): Promise<void> {
    this.#drain ??= Promise.withResolvers<void>();
    return this.#drain.promise;
  }

  // Sends what is queued: each command takes its sequence number as it
  // goes out, so that what goes out meanwhile (a stream answer) keeps the
  // order; no tail while a burst is paced.
  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        // A burst is paced; a lone datagram (a player's message) never
        // waits, though it takes its token.
        if (!this.#pacer.ready && this.#queue.length > 1) {
          await this.#pacer.wait(() => this.#closed);
        }
        if (this.#closed) break;
        const piece = this.#queue.shift()!;
        this.#queuedWords -= piece.length;
        this.#pacer.spend();
        this.#sendCommands(this.#sender.push(piece));
        if (this.#queue.length % 64 === 0) this.#wakeWriters();
      }
    } finally {
      this.#writing = false;
      this.#wakeWriters();
    }
    this.#scheduleTail();
  }

  #wakeWriters(): void {
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.resolve();
  }

  // Resolves once everything queued has gone out (or the session ended).
  async #flush(): Promise<void> {
    while ((this.#writing || this.#queue.length > 0) && !this.#closed) {
      await this.#drained();
    }
  }

  // Sends UMP words now (the session's own UMP Stream answers).
  #sendWords(words: number[]): void {
    for (const datagram of this.#sender.send(words)) {
      this.#sendCommands(datagram);
    }
    this.#scheduleTail();
  }

  // After the last datagram, the FEC commands alone, once: so that the
  // last one, too, can be recovered without a retransmit.
  // One timer at a time, moved on by each send rather than made anew.
  #scheduleTail(): void {
    if (this.#o.fec === 0 || this.#writing) return;
    const delay = Math.max(1, Math.floor(this.#o.retransmitWait / 5));
    this.#tailDue = performance.now() + delay;
    this.#tailPending = true;
    this.#tailTimer ??= setTimeout(() => this.#onTail(), delay);
  }

  #onTail(): void {
    this.#tailTimer = undefined;
    if (this.#closed || !this.#tailPending || this.#writing) return;
    const left = this.#tailDue - performance.now();
    if (left > 0.5) {
      this.#tailTimer = setTimeout(() => this.#onTail(), left);
      return;
    }
    this.#tailPending = false;
    const tail = this.#sender.tail();
    if (tail) this.#sendCommands(tail);
  }

  #sendCommands(commands: Midi2Command[]): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeDatagram(commands);
    } catch {
      return; // a text too long: nothing of ours is over the limit
    }
    this.#stats.datagramsOut++;
    this.#stats.bytesOut += bytes.length;
    try {
      this.#init.send(bytes);
    } catch {
      // the socket has closed; the session ends with it
    }
  }

  #retransmit(sequence: number, count: number): void {
    const { datagrams, error } = this.#sender.retransmit(sequence, count);
    for (const datagram of datagrams) this.#sendCommands(datagram);
    if (error) this.#sendCommands([error]);
  }

  // Asks for what is missing, after a short wait for FEC and reordering to
  // bring it; gives it up after retransmitAttempts requests.
  #checkGap(): void {
    if (this.#receiver.gap === undefined) return this.#clearGap();
    if (this.#gapAttempts === 0 && this.#receiver.held >= TOLERANCE) {
      // Far behind already: ask now, before the sender's buffer moves on.
      clearTimeout(this.#gapTimer);
      this.#gapTimer = undefined;
      return this.#onGapTimer();
    }
    if (this.#gapTimer !== undefined) return;
    this.#gapTimer = setTimeout(
      () => this.#onGapTimer(),
      this.#o.retransmitWait,
    );
  }

  #onGapTimer(): void {
    this.#gapTimer = undefined;
    const gap = this.#receiver.gap;
    if (gap === undefined || this.#closed) return this.#clearGap();
    if (this.#gapAttempts >= this.#o.retransmitAttempts) {
      return this.#giveUpGap(
        `no answer to ${this.#gapAttempts} Retransmit Requests`,
      );
    }
    this.#gapAttempts++;
    this.#request(gap);
    this.#gapTimer = setTimeout(
      () => this.#onGapTimer(),
      this.#o.retransmitWait * 2 ** this.#gapAttempts,
    );
  }

  #request(gap: Gap): void {
    this.#stats.retransmitRequests++;
    this.#receiver.requested(gap);
    this.#sendCommands([{
      type: "retransmit_request",
      sequence: gap.from,
      count: gap.count,
    }]);
  }

  #giveUpGap(why: string): void {
    const gap = this.#receiver.gap;
    if (gap === undefined) return;
    // A sysex that ran through the lost commands is not delivered cut.
    for (const drop of this.#toMidi1.reset()) {
      this.#stats.untranslated++;
      this.#drop(`${drop.reason}: commands were lost`);
    }
    for (const words of this.#receiver.skip()) this.#deliver(words);
    this.#drop(
      `${gap.count} UMP Data command${
        gap.count === 1 ? "" : "s"
      } lost from sequence number ${gap.from}: ${why}`,
      gap.count,
    );
    this.#clearGap();
    this.#checkGap();
  }

  #resetTranslation(): void {
    for (const drop of this.#toMidi1.reset()) {
      this.#stats.untranslated++;
      this.#drop(drop.reason);
    }
  }

  #clearGap(): void {
    clearTimeout(this.#gapTimer);
    this.#gapTimer = undefined;
    this.#gapAttempts = 0;
  }

  #tick(): void {
    if (this.#closed) return;
    const now = performance.now();
    for (const [id, waiter] of this.#pings) {
      if (now < waiter.deadline) continue;
      this.#pings.delete(id);
      waiter.reject(
        new Error(
          `No Ping Reply from ${this.name} within ${this.#o.timeout} ms`,
        ),
      );
    }
    const silent = performance.now() - this.#lastHeard;
    if (silent >= this.#o.timeout) {
      this.end(
        ByeReason.Timeout,
        `nothing from the peer for ${Math.round(silent)} ms`,
      );
      return;
    }
    this.#sendPing(this.#newPingId());
  }

  #newPingId(): number {
    this.#pingId = (this.#pingId + 1) >>> 0;
    return this.#pingId;
  }

  #sendPing(id: number): void {
    this.#stats.pings++;
    this.#pingSent.set(id, performance.now());
    if (this.#pingSent.size > 64) {
      this.#pingSent.delete(this.#pingSent.keys().next().value!);
    }
    this.#sendCommands([{ type: "ping", id }]);
  }

  #pingReply(id: number): void {
    const sent = this.#pingSent.get(id);
    if (sent === undefined) return;
    this.#stats.pingReplies++;
    this.#pingSent.delete(id);
    const waiter = this.#pings.get(id);
    if (waiter === undefined) return;
    this.#pings.delete(id);
    waiter.resolve(performance.now() - sent);
  }
}
