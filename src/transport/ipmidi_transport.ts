// Copyright 2026 the midisock authors. MIT license.
// ipMIDI multicast (qmidinet compatible): plain MIDI bytes in UDP datagrams
// to the group 225.0.0.37, on port 21928 + N - 1 for ipMIDI port N.

import dgram from "node:dgram";
import { encode } from "../midi/encode.ts";
import { encodeAll } from "../midi/encode_into.ts";
import { MidiParser } from "../midi/parser.ts";
import { errorText } from "../util/error_text.ts";
import { TypedEventTarget } from "../util/typed_event_target.ts";
import type { Transport } from "./transport.ts";

/** The multicast group of ipMIDI and qmidinet. */
export const IPMIDI_GROUP = "225.0.0.37";
/** The UDP port of ipMIDI port 1; port N is this + N - 1. */
export const IPMIDI_BASE_PORT = 21928;
/** The highest ipMIDI port number (ipMIDI offers 20). */
export const IPMIDI_MAX_PORT = 20;

/** The most senders whose unfinished messages are kept at once. */
const MAX_SENDERS = 256;

/** Options for {@linkcode IpMidiTransport.open}. */
export interface IpMidiTransportOptions {
  /**
   * The ipMIDI port number, 1 to 20: UDP port 21928 + N - 1.
   *
   * @default {1}
   */
  port?: number;
  /**
   * The IPv4 address of the network interface to join the group on and to
   * send from (`127.0.0.1` for loopback). By default the system picks, by
   * its routes.
   */
  interface?: string;
  /**
   * The most MIDI bytes in one datagram. Each message goes in a datagram of
   * its own (qmidinet hands each datagram to JACK as one event); a sysex
   * longer than this goes in pieces of this size, one after another, which
   * a receiver joins (as qmidinet's ALSA backend, and this transport, do).
   *
   * @default {1024}
   */
  maxDatagramBytes?: number;
  /**
   * The largest sysex kept from a sender, in data bytes; a longer one is
   * dropped and counted.
   *
   * @default {1048576}
   */
  maxSysexBytes?: number;
  /**
   * The most received bytes that may wait unread. UDP cannot tell a sender
   * to pause, so a datagram beyond this is dropped and counted.
   *
   * @default {1048576}
   */
  maxUnreadBytes?: number;
}

/** Counters of an {@linkcode IpMidiTransport}, since it opened. */
export interface IpMidiStats {
  /** Datagrams received from other senders. */
  receivedDatagrams: number;
  /** Their bytes. */
  receivedBytes: number;
  /** Datagrams of this transport's own that came back, and were ignored. */
  ownDatagrams: number;
  /** Datagrams sent. */
  sentDatagrams: number;
  /** Their bytes. */
  sentBytes: number;
  /**
   * Received bytes that made no message (malformed, a message cut short, a
   * sysex over `maxSysexBytes`, or a sender forgotten mid-message).
   */
  malformedBytes: number;
  /** Received messages dropped because readers were `maxUnreadBytes` behind. */
  overflowedMessages: number;
}

/** The fields of an {@linkcode IpMidiDropEvent}. */
export interface IpMidiDropEventInit extends EventInit {
  /** Why: bytes that made no message, or readers too far behind. */
  reason: "malformed" | "overflow";
  /** The sender, as `address:port`. */
  sender: string;
  /** Bytes dropped. */
  bytes: number;
  /**
   * Whole messages dropped (for `overflow`).
   *
   * @default {0}
   */
  messages?: number;
}

/**
 * Received bytes that the transport dropped: the `drop` event of an
 * {@linkcode IpMidiTransport}, once for each datagram that dropped anything.
 *
 * @example A drop event made by hand
 * ```ts
 * import { IpMidiDropEvent } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const event = new IpMidiDropEvent("drop", {
 *   reason: "malformed",
 *   sender: "192.168.1.20:21928",
 *   bytes: 2,
 * });
 * assert.deepEqual([event.reason, event.bytes, event.messages], ["malformed", 2, 0]);
 * ```
 */
export class IpMidiDropEvent extends Event {
  /** Why the bytes were dropped. */
  readonly reason: "malformed" | "overflow";
  /** The sender, as `address:port`. */
  readonly sender: string;
  /** Bytes dropped. */
  readonly bytes: number;
  /** Whole messages dropped. */
  readonly messages: number;

  /**
   * Makes the event.
   *
   * @param type `drop`.
   * @param init Its fields.
   */
  constructor(type: string, init: IpMidiDropEventInit) {
    super(type, init);
    this.reason = init.reason;
    this.sender = init.sender;
    this.bytes = init.bytes;
    this.messages = init.messages ?? 0;
  }
}

/** The events of an {@linkcode IpMidiTransport}. */
export interface IpMidiTransportEventMap {
  /** Received bytes were dropped. */
  drop: IpMidiDropEvent;
}

/**
 * Checks an ipMIDI port number: an integer from 1 to 20.
 *
 * @param port The number.
 * @returns The UDP port: 21928 + port - 1.
 * @throws {RangeError} Naming the range, for anything else.
 *
 * @example Port 2 is UDP port 21929
 * ```ts
 * import { ipMidiUdpPort } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ipMidiUdpPort(2), 21929);
 * assert.throws(() => ipMidiUdpPort(21), RangeError);
 * ```
 */
export function ipMidiUdpPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > IPMIDI_MAX_PORT) {
    throw new RangeError(
      `Invalid ipMIDI port ${port}: expected 1 to ${IPMIDI_MAX_PORT}`,
    );
  }
  return IPMIDI_BASE_PORT + port - 1;
}

/**
 * ipMIDI multicast as a {@linkcode Transport}: the MIDI bytes that every
 * ipMIDI, qmidinet and multimidicast peer on the LAN sends to one port
 * (group 225.0.0.37, UDP port 21928 + N - 1), and the bytes to send them. A
 * datagram holds plain MIDI bytes, with no header and no session.
 *
 * - **Receiving**: it joins the group on a socket bound to 0.0.0.0 (on
 *   Linux a socket bound to the interface's address hears no multicast),
 *   shared with every other program on the port. Each sender has its own
 *   parser, so a sysex in pieces and running status carry across that
 *   sender's datagrams and never mix with another's; `readable` gives whole
 *   messages only. What makes no message is counted and reported (`drop`).
 * - **Sending**: from a socket of its own (not the group's port), one
 *   datagram for each message (a long sysex in pieces of
 *   `maxDatagramBytes`), with a TTL of 1, so it stays on the LAN.
 * - **Its own datagrams**: multicast loopback stays on (a peer on the same
 *   machine, such as qmidinet, needs it, and on `lo` turning it off does
 *   not stop local delivery anyway), so its own datagrams come back. It
 *   knows them by their source, its sending socket's port (and address),
 *   and drops them: it never hears itself as a new sender. Two of them on
 *   one group hear each other, once.
 *
 * A failed send (no route to the group, say) errors the writable, with the
 * reason: a port over it closes, and says why. A group has no end of
 * stream, so closing the writable closes the transport, both ways (a port
 * that closes does not wait for the group to end).
 *
 * @example Two transports on one group hear each other, not themselves
 * ```ts ignore
 * import { IpMidiTransport, message, SocketPort } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * // Multicast: on a LAN, or (as the tests do) in a network namespace.
 * await using a = new SocketPort(await IpMidiTransport.open({ port: 1 }));
 * await using b = new SocketPort(await IpMidiTransport.open({ port: 1 }));
 * await a.send(message("note_on", { note: 60 }));
 * assert.deepEqual(await b.receive(), message("note_on", { note: 60 }));
 * ```
 */
export class IpMidiTransport extends TypedEventTarget<IpMidiTransportEventMap>
  implements Transport {
  /** The ipMIDI port number, 1 to 20. */
  readonly port: number;
  /** The UDP port of the group: 21928 + port - 1. */
  readonly udpPort: number;
  /** The address of the sending socket. */
  readonly localAddr: Deno.NetAddr;
  /** The group, as an address. */
  readonly remoteAddr: Deno.NetAddr;
  /** The received messages' bytes, each chunk whole messages. */
  readonly readable: ReadableStream<Uint8Array>;
  /** MIDI bytes to send to the group. */
  readonly writable: WritableStream<Uint8Array>;

  #rx: dgram.Socket;
  #tx: dgram.Socket;
  #own: (address: string, port: number) => boolean;
  #maxDatagram: number;
  #maxSysex: number;
  #senders = new Map<string, MidiParser>();
  #out = new MidiParser();
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #closed = false;
  #done: Promise<void>;
  #stats: IpMidiStats = {
    receivedDatagrams: 0,
    receivedBytes: 0,
    ownDatagrams: 0,
    sentDatagrams: 0,
    sentBytes: 0,
    malformedBytes: 0,
    overflowedMessages: 0,
  };

  /**
   * Opens the two sockets and joins the group.
   *
   * @param options The port number, the interface, and the bounds.
   * @returns The transport, receiving.
   * @throws {RangeError} For a port outside 1 to 20, or a bound out of range.
   * @throws {SyntaxError} For an interface that is not an IPv4 address.
   * @throws {Error} If a socket cannot be bound or the group joined, naming
   * the group, the port and the interface.
   *
   * @example Port 21 is refused
   * ```ts
   * import { IpMidiTransport } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await assert.rejects(IpMidiTransport.open({ port: 21 }), /expected 1 to 20/);
   * ```
   */
  static async open(
    options: IpMidiTransportOptions = {},
  ): Promise<IpMidiTransport> {
    const port = options.port ?? 1;
    const udpPort = ipMidiUdpPort(port);
    const iface = options.interface;
    if (iface !== undefined && !isIPv4(iface)) {
      throw new SyntaxError(
        `Invalid ipMIDI interface ${
          JSON.stringify(iface)
        }: expected the IPv4 address of a network interface, such as 192.168.1.10`,
      );
    }
    const maxDatagram = bound(
      "maxDatagramBytes",
      options.maxDatagramBytes ?? 1024,
      16,
      65507,
    );
    const maxSysex = bound(
      "maxSysexBytes",
      options.maxSysexBytes ?? 1024 * 1024,
      0,
      Number.MAX_SAFE_INTEGER,
    );
    const maxUnread = bound(
      "maxUnreadBytes",
      options.maxUnreadBytes ?? 1024 * 1024,
      1,
      Number.MAX_SAFE_INTEGER,
    );
    const where = `ipMIDI port ${port} (${IPMIDI_GROUP}:${udpPort}${
      iface ? ` on ${iface}` : ""
    })`;
    const rx = dgram.createSocket({ type: "udp4", reuseAddr: true });
    const tx = dgram.createSocket({ type: "udp4" });
    try {
      await bind(rx, udpPort, "0.0.0.0");
      rx.addMembership(IPMIDI_GROUP, iface);
      await bind(tx, 0, iface ?? "0.0.0.0");
      if (iface) tx.setMulticastInterface(iface);
      tx.setMulticastTTL(1);
      tx.setMulticastLoopback(true);
    } catch (error) {
      await Promise.all([closeSocket(rx), closeSocket(tx)]);
      throw new Error(`Cannot join ${where}: ${errorText(error)}`, {
        cause: error,
      });
    }
    return new IpMidiTransport(
      rx,
      tx,
      port,
      udpPort,
      where,
      { maxDatagram, maxSysex, maxUnread },
    );
  }

  private constructor(
    rx: dgram.Socket,
    tx: dgram.Socket,
    port: number,
    udpPort: number,
    where: string,
    limits: { maxDatagram: number; maxSysex: number; maxUnread: number },
  ) {
    super();
    this.#rx = rx;
    this.#tx = tx;
    this.port = port;
    this.udpPort = udpPort;
    this.#maxDatagram = limits.maxDatagram;
    this.#maxSysex = limits.maxSysex;
    const local = tx.address();
    this.localAddr = {
      transport: "udp",
      hostname: local.address,
      port: local.port,
    };
    this.remoteAddr = {
      transport: "udp",
      hostname: IPMIDI_GROUP,
      port: udpPort,
    };
    this.#own = ownSource(local.address, local.port);
    this.#done = Promise.all([
      new Promise((resolve) => rx.once("close", resolve)),
      new Promise((resolve) => tx.once("close", resolve)),
    ]).then(() => {});
    this.readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
      },
      cancel: () => this.close(),
    }, { highWaterMark: limits.maxUnread, size: (chunk) => chunk.length });
    this.writable = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        for (const msg of this.#out.feed(chunk)) {
          const bytes = encode(msg);
          for (let at = 0; at < bytes.length; at += this.#maxDatagram) {
            const piece = bytes.subarray(at, at + this.#maxDatagram);
            await this.#send(piece, where);
          }
        }
      },
      // A group has no end of stream to wait for: once this end is done
      // sending, it is done (a port would wait for the peer's end).
      close: () => this.close(),
      abort: () => this.close(),
    });
    rx.on("message", (data: Uint8Array, from: dgram.RemoteInfo) => {
      this.#receive(data, from);
    });
    // A socket error after opening (rare for UDP) ends the transport.
    const fail = (error: Error) => {
      if (this.#closed) return;
      try {
        this.#controller.error(
          new Error(`${where} failed: ${errorText(error)}`, { cause: error }),
        );
      } catch { /* already closed */ }
      this.close();
    };
    rx.on("error", fail);
    tx.on("error", () => {}); // a send's error is its callback's
  }

  /** Counters of datagrams and bytes, and of what was dropped (a snapshot). */
  get stats(): IpMidiStats {
    return { ...this.#stats };
  }

  /** Resolves once both sockets are closed (after {@linkcode close}). */
  get closed(): Promise<void> {
    return this.#done;
  }

  /**
   * Leaves the group and closes both sockets. It may be called more than
   * once.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#controller.close();
    } catch { /* errored or cancelled */ }
    this.#rx.close();
    this.#tx.close();
  }

  #send(bytes: Uint8Array, where: string): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new Error(`Cannot send to ${where}: it is closed`));
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#tx.send(bytes, this.udpPort, IPMIDI_GROUP, (error) => {
      if (error) {
        reject(
          new Error(`Cannot send to ${where}: ${errorText(error)}`, {
            cause: error,
          }),
        );
        return;
      }
      this.#stats.sentDatagrams++;
      this.#stats.sentBytes += bytes.length;
      resolve();
    });
    return promise;
  }

  #receive(data: Uint8Array, from: dgram.RemoteInfo): void {
    if (this.#closed) return;
    if (this.#own(from.address, from.port)) {
      this.#stats.ownDatagrams++;
      return;
    }
    const stats = this.#stats;
    stats.receivedDatagrams++;
    stats.receivedBytes += data.length;
    const sender = `${from.address}:${from.port}`;
    const parser = this.#parser(sender);
    const before = parser.stats.skippedBytes;
    const messages = parser.feed(data);
    const skipped = parser.stats.skippedBytes - before;
    if (skipped > 0) this.#malformed(sender, skipped);
    if (messages.length === 0) return;
    const bytes = encodeAll(messages);
    if ((this.#controller.desiredSize ?? 0) < bytes.length) {
      stats.overflowedMessages += messages.length;
      this.dispatchEvent(
        new IpMidiDropEvent("drop", {
          reason: "overflow",
          sender,
          bytes: bytes.length,
          messages: messages.length,
        }),
      );
      return;
    }
    this.#controller.enqueue(bytes);
  }

  // The sender's parser, the most recently heard last; the longest silent
  // is forgotten beyond MAX_SENDERS (and what it left unfinished counted).
  #parser(sender: string): MidiParser {
    let parser = this.#senders.get(sender);
    if (parser) {
      this.#senders.delete(sender);
    } else {
      parser = new MidiParser({ maxSysexBytes: this.#maxSysex });
      if (this.#senders.size >= MAX_SENDERS) {
        const [oldest, old] = this.#senders.entries().next().value!;
        this.#senders.delete(oldest);
        const left = old.pendingBytes;
        if (left > 0) this.#malformed(oldest, left);
      }
    }
    this.#senders.set(sender, parser);
    return parser;
  }

  #malformed(sender: string, bytes: number): void {
    this.#stats.malformedBytes += bytes;
    this.dispatchEvent(
      new IpMidiDropEvent("drop", { reason: "malformed", sender, bytes }),
    );
  }
}

/**
 * Whether a datagram's source is the sending socket. Bound to one address,
 * that address and port; bound to every interface, the port from one of
 * this machine's addresses (all of them, where Deno may not list them).
 */
function ownSource(
  bound: string,
  port: number,
): (address: string, port: number) => boolean {
  if (bound !== "0.0.0.0") {
    return (a, p) => p === port && a === bound;
  }
  let local: Set<string> | undefined;
  try {
    local = new Set(
      Deno.networkInterfaces().filter((i) => i.family === "IPv4").map((i) =>
        i.address
      ),
    );
  } catch {
    local = undefined; // no --allow-sys=networkInterfaces
  }
  return (a, p) =>
    p === port &&
    (local === undefined || local.has(a) || a === "0.0.0.0" ||
      a.startsWith("127."));
}

function isIPv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 &&
    parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

function bound(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Invalid ${name} ${value}: expected an integer from ${min} to ${max}`,
    );
  }
  return value;
}

function bind(socket: dgram.Socket, port: number, address: string) {
  return new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, address, () => {
      socket.off("error", reject);
      resolve();
    });
  });
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // never bound
    }
  });
}
