// Copyright 2026 the midisock authors. MIT license.

import { unbracket } from "../transport/hosts.ts";
import { PortIterator } from "../port/port_iterator.ts";
import { formatAddress } from "../transport/address.ts";
import { Admission } from "./_admission.ts";
import { BufferBudget } from "../port/buffer_budget.ts";
import type { DropEvent } from "../port/events.ts";
import {
  FilterEvent,
  PortEvent,
  type RejectEvent,
  ReleaseEvent,
} from "./events.ts";
import { NoteTracker } from "../midi/note_tracker.ts";
import { asksEcho, echoAnswer } from "../transport/echo.ts";
import { encode } from "../midi/encode.ts";
import { encodeAll } from "../midi/encode_into.ts";
import { PortClosedError } from "../port/errors.ts";
import { BroadcastHub } from "./hub.ts";
import type { Message } from "../midi/message.ts";
import { MidiPort, type ReceiveOptions } from "../port/midi_port.ts";
import {
  checkPortOptions,
  type SocketPort,
  type SocketPortOptions,
} from "../port/socket_port.ts";
import type { Transport } from "../transport/transport.ts";
import type { PortServerOptions } from "./port_server_options.ts";

/** A message and the client it came from (mido's `yield_ports`). */
export interface ReceivedMessage {
  /** The client that sent it. */
  port: SocketPort;
  /** The message. */
  message: Message;
  /**
   * When it arrived, in ms on the clock of `performance.now()` (see
   * {@linkcode MidiPort.lastTime}). A note_off or CC64 that the server emits
   * for a client that left has the time it was emitted.
   */
  time: number;
}

/** Counters of a {@linkcode PortServer}, over every client it has had. */
export interface PortServerStats {
  /** Clients connected now (adopted by the server). */
  clients: number;
  /** Clients taken in, in all: accepted connections and join()ed ports. */
  accepted: number;
  /** accept() failures about one connection (counted and skipped). */
  acceptErrors: number;
  /** Clients turned away (each a `reject` event, with the reason). */
  rejected: number;
  /** Connections waiting now before they are clients (`maxPending`). */
  pending: number;
  /** Messages from clients not delivered: sysex, or refused by filter. */
  filtered: number;
  /**
   * Echo requests answered (`midisock ping`, from clients whose hello line
   * asked for the echo): each went back to its sender alone, and was
   * neither relayed nor read, nor counted in `received`.
   */
  echoes: number;
  /** Bytes that clients hold now in messages still arriving. */
  bufferedBytes: number;
  /** Partial messages discarded to keep within maxBufferedBytes. */
  bufferDiscards: number;
  /** Messages received from all clients. */
  received: number;
  /** Messages relayed to the other clients (with `relay: true`). */
  relayed: number;
  /** Notes released for clients that left them on (`releaseNotes`). */
  releasedNotes: number;
  /** Bytes from clients that made no message. */
  skippedBytes: number;
  /** Messages from clients cut short, and so discarded. */
  discardedMessages: number;
  /** Sysex messages from clients over `maxSysexBytes`, and so discarded. */
  oversizedSysex: number;
  /** Clients disconnected for falling behind. */
  slowClients: number;
  /** Bytes queued for clients and never written. */
  droppedBytes: number;
  /**
   * Messages that clients sent and the server read but never delivered,
   * because a client's port was closing (`lostMessages` in its `stats`):
   * the server closed while it still sent, or a write to it failed and the
   * server's readers did not take the rest within `closeTimeout`.
   */
  lostMessages: number;
}

/** The events of a {@linkcode PortServer}. */
export interface PortServerEventMap {
  /** A client was adopted by the server. */
  connect: PortEvent;
  /**
   * An adopted client went away. `droppedBytes` is what it never got, and
   * `lostMessages` what it sent that was never delivered.
   */
  disconnect: PortEvent;
  /** A client fell too far behind and was disconnected. */
  slowclient: PortEvent;
  /** Bytes from a client made no message. */
  drop: DropEvent<SocketPort>;
  /**
   * accept() failed for one connection (such as a peer that reset before
   * it was accepted). The server counts it and goes on accepting.
   */
  accepterror: ErrorEvent;
  /** A client was turned away before anything of it was read. */
  reject: RejectEvent;
  /**
   * A client that was taken in said hello afterwards, and so has a name
   * (a server without a token takes clients in before their hello line).
   */
  hello: PortEvent;
  /** A message from a client was not delivered (acceptSysex, filter). */
  filtered: FilterEvent;
  /**
   * A client left with notes on or a pedal down, and the server released
   * them for it (`releaseNotes`).
   */
  release: ReleaseEvent;
}

// Bytes of received messages held for the reader, summed over clients.
const INBOX_BYTES = 256 * 1024;

// A client's counters that the server's stats sum, over every client.
type Counts = Pick<
  PortServerStats,
  | "skippedBytes"
  | "discardedMessages"
  | "oversizedSysex"
  | "droppedBytes"
  | "lostMessages"
>;

function addCounts(total: Counts, counts: Counts): void {
  total.skippedBytes += counts.skippedBytes;
  total.discardedMessages += counts.discardedMessages;
  total.oversizedSysex += counts.oversizedSysex;
  total.droppedBytes += counts.droppedBytes;
  total.lostMessages += counts.lostMessages;
}

/**
 * A socket-port server: mido's PortServer. It listens as soon as it is made,
 * and it is a port itself (a {@linkcode MidiPort}): what clients send comes
 * out of it, and what you send to it goes to every client.
 *
 * Used as a port (receive, poll, iteration, readable, send, writable), it
 * adopts every client on its own, including those that connected before.
 * {@linkcode PortServer.accept} instead hands the next client to you. With
 * `relay: true` it is a bus, and adopts every client from the start.
 *
 * @example A simple server
 * ```ts
 * import { connect, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("localhost", 0);
 * const output = await connect("localhost", server.port);
 * await output.send(message("note_on", { note: 60 }));
 * await output.close();
 * for await (const msg of server) {
 *   assert.deepEqual(msg, message("note_on", { note: 60 }));
 *   break;
 * }
 * ```
 *
 * @example A bus: every client hears every other
 * ```ts
 * import { connect, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using bus = new PortServer("127.0.0.1", 0, { relay: true });
 * await using keys = await connect("127.0.0.1", bus.port);
 * await using synth = await connect("127.0.0.1", bus.port);
 * while (bus.ports.length < 2) await new Promise((r) => setTimeout(r, 1));
 * await keys.send(message("note_on", { note: 60 }));
 * assert.deepEqual(await synth.receive(), message("note_on", { note: 60 }));
 * assert.equal(keys.poll(), undefined); // never back to the sender
 * ```
 */
export class PortServer extends MidiPort<PortServerEventMap> {
  #host: string;
  #name: string | undefined;
  #clientOptions: SocketPortOptions;
  #relay: boolean;
  #hub: BroadcastHub;
  #ports = new Set<SocketPort>();
  #reading = false;
  #settled = false;
  #settling: Promise<void> | undefined;
  #pumps = new Set<Promise<void>>();
  #admission: Admission;
  #budget: BufferBudget;
  #filtered = 0;
  #echoes = 0;
  #relayed = 0;
  #releaseNotes: boolean;
  #busState: NoteTracker | undefined; // with snapshot
  #noSnapshot = new WeakSet<SocketPort>(); // joined with snapshot: false
  #released = 0;
  // Counters of the clients that have left, so that totals outlive them.
  #gone: Counts = {
    skippedBytes: 0,
    discardedMessages: 0,
    oversizedSysex: 0,
    droppedBytes: 0,
    lostMessages: 0,
  };
  #received = 0;

  /**
   * Starts listening.
   *
   * @param host A DNS name, an IPv4 or IPv6 address, or `""` for every
   * interface. `localhost` listens on both loopbacks, 127.0.0.1 and ::1.
   * @param port A TCP port, or 0 for a free one ({@linkcode PortServer.port}
   * tells which).
   * @param options Options for the server, its hub and its clients' ports.
   * @throws {Deno.errors.AddrInUse} If the port is taken. The message names
   * `host:port`.
   * @throws {RangeError} For a port out of range.
   *
   * @example Every interface, a free port
   * ```ts
   * import { PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("", 0);
   * assert.ok(server.port > 0);
   * assert.equal(server.name, `:${server.port}`);
   * ```
   */
  constructor(host: string, port: number, options: PortServerOptions = {}) {
    super("server", INBOX_BYTES);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(
        `Invalid port for ${
          JSON.stringify(host)
        }: expected an integer in 0..65535, got ${port}`,
      );
    }
    const {
      name,
      relay,
      allow,
      maxClients,
      acceptSysex,
      filter,
      tls,
      token,
      helloTimeout,
      maxPending,
      maxBufferedBytes,
      releaseNotes,
      snapshot,
      partialTimeout,
      ...rest
    } = options;
    this.#releaseNotes = releaseNotes ?? true;
    if (snapshot) this.#busState = new NoteTracker();
    this.#budget = new BufferBudget(maxBufferedBytes ?? 64 * 1024 * 1024);
    this.#clientOptions = {
      runningStatus: rest.runningStatus,
      maxSysexBytes: rest.maxSysexBytes,
      noDelay: rest.noDelay,
      closeTimeout: rest.closeTimeout,
      partialTimeout,
      readHello: true,
      budget: this.#budget,
    };
    this.#admission = new Admission(
      {
        allow,
        maxClients,
        tls: tls !== undefined,
        token,
        helloTimeout,
        maxPending,
        acceptSysex,
        filter,
      },
      this.#clientOptions,
      {
        name: () => this.name,
        closed: () => this.closed,
        adopt: (port) => this.#adopt(port),
        dispatchEvent: (event) => this.dispatchEvent(event),
      },
    );
    this.#host = host;
    this.#name = name;
    this.#relay = relay ?? false;
    checkPortOptions(this.#clientOptions); // now, not at the first client
    this.#hub = new BroadcastHub(rest);
    this.#hub.addEventListener("slowclient", (event) => {
      this.dispatchEvent(
        new PortEvent("slowclient", {
          port: event.port,
          droppedBytes: event.droppedBytes,
        }),
      );
    });
    this.#admission.listen(host, port, tls);
    if (this.#relay) this.#admission.adoptAll();
  }

  /** The TCP port that the server listens on. */
  get port(): number {
    return this.#admission.addrs[0].port;
  }

  /** The host that the server was given (`""` for every interface). */
  get host(): string {
    return this.#host;
  }

  /**
   * The addresses that the server listens on: one, or two for `localhost`
   * (127.0.0.1 and ::1).
   *
   * @example Both loopbacks for localhost
   * ```ts
   * import { PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("localhost", 0);
   * assert.ok(server.addrs.some((a) => a.hostname === "127.0.0.1"));
   * ```
   */
  get addrs(): Deno.NetAddr[] {
    return this.#admission.addrs;
  }

  /** The server's name: `host:port`, or `[v6]:port`, or the name it was given. */
  get name(): string {
    return this.#name ?? formatAddress(unbracket(this.#host), this.port);
  }

  /** The clients that the server has adopted and that are still connected. */
  get ports(): SocketPort[] {
    return [...this.#ports];
  }

  /** Whether the server relays each client's messages to the others. */
  get relay(): boolean {
    return this.#relay;
  }

  /** The hub that broadcasts what the server sends (and relays). */
  get hub(): BroadcastHub {
    return this.#hub;
  }

  /** Counters of clients, messages and drops, over every client it has had. */
  get stats(): PortServerStats {
    const total = { ...this.#gone };
    for (const port of [...this.#ports, ...this.#admission.waiting]) {
      addCounts(total, port.stats);
    }
    return {
      clients: this.#ports.size,
      accepted: this.#admission.accepted,
      acceptErrors: this.#admission.acceptErrors,
      rejected: this.#admission.rejected,
      pending: this.#admission.pending,
      filtered: this.#filtered,
      echoes: this.#echoes,
      bufferedBytes: this.#budget.heldBytes,
      bufferDiscards: this.#budget.discards,
      received: this.#received,
      relayed: this.#relayed,
      releasedNotes: this.#released,
      ...total,
      slowClients: this.#hub.stats.slowClients,
    };
  }

  /**
   * Waits for the next client and returns its port, which the server does
   * not adopt: you read and write it yourself. With `{ block: false }` it
   * returns a client that is waiting, or null, at once.
   *
   * @param options `block: false` not to wait; a signal to stop waiting.
   * @returns The client's port (or null, without blocking).
   * @throws {PortClosedError} If the server is closed.
   *
   * @example Accepting a client
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * assert.equal(server.accept({ block: false }), null);
   * await using client = await connect("127.0.0.1", server.port);
   * await using peer = await server.accept();
   * await peer.send(message("start"));
   * assert.deepEqual(await client.receive(), message("start"));
   * ```
   */
  accept(options?: { block?: true; signal?: AbortSignal }): Promise<SocketPort>;
  /**
   * Returns a client that is waiting, or null, at once.
   *
   * @param options `{ block: false }`.
   * @returns The client's port, or null.
   */
  accept(options: { block: false }): SocketPort | null;
  accept(
    options: { block?: boolean; signal?: AbortSignal } = {},
  ): Promise<SocketPort> | SocketPort | null {
    return this.#admission.accept(options);
  }

  /**
   * Waits for the next message from any client, and says which client sent
   * it (mido's `yield_ports`).
   *
   * @param options A signal to stop waiting.
   * @returns The message and the client's port.
   * @throws {PortClosedError} If the server is closed and no message is left.
   *
   * @example Knowing the sender
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * await client.send(message("stop"));
   * const { port, message: msg } = await server.receiveWithPort();
   * assert.equal(port.remoteAddr.port, client.localAddr.port);
   * assert.equal(msg.type, "stop");
   * ```
   */
  async receiveWithPort(
    options: ReceiveOptions = {},
  ): Promise<ReceivedMessage> {
    this._pull("receive");
    const entry = await this._inbox.nextTagged(options.signal);
    if (entry === undefined) throw new PortClosedError(this.name, "receive");
    return { message: entry[0], port: entry[1] as SocketPort, time: entry[2] };
  }

  /**
   * Yields each message from any client with the client that sent it, until
   * the server closes.
   *
   * @returns An async iterator of messages and ports.
   *
   * @example Iterating with ports
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * await client.send(message("start"));
   * for await (const { port, message: msg } of server.withPorts()) {
   *   assert.equal(msg.type, "start");
   *   assert.ok(server.ports.includes(port));
   *   break;
   * }
   * ```
   */
  withPorts(): AsyncIterableIterator<ReceivedMessage> {
    this._pull("iterate");
    return new PortIterator(
      this._inbox,
      (message, port, time) => ({ message, port: port as SocketPort, time }),
      () => this._readerGone(),
    );
  }

  /**
   * Adopts the clients when the server is first used as a port.
   *
   * @param reading Whether the use reads the server.
   */
  protected _start(reading: boolean): void {
    if (reading) this.#reading = true;
    this.#admission.adoptAll();
  }

  /**
   * With relay, a server whose reader stopped keeps relaying, and keeps
   * nothing more for its readers until it is read again.
   */
  protected override _readerGone(): void {
    if (this.#relay) this.#reading = false;
  }

  /**
   * Broadcasts a message through the hub. The first send waits until the
   * server has taken in every client that had connected before it.
   *
   * @param msg The message.
   * @returns A promise while the hub waits for a full client.
   */
  protected _put(msg: Message): Promise<void> | undefined {
    const bytes = encode(msg); // a bad message throws here, before anything
    if (this.#settling === undefined) {
      if (this.#settled) return this.#broadcast(msg, bytes);
      this.#settled = true;
      this.#settling = this.#admission.settled();
    }
    // Sends made while the server settles go out after it, in order, and
    // so does any send made before the last of them has gone.
    const sent = this.#settling.then(() => this.#broadcast(msg, bytes));
    const tail = sent.then(() => {}, () => {});
    this.#settling = tail;
    tail.then(() => {
      if (this.#settling === tail) this.#settling = undefined;
    });
    return sent;
  }

  /**
   * Closing a server's writable leaves the server open.
   *
   * @returns At once.
   */
  protected override _closeWritable(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Closes the listeners and every client (each sends what is queued for
   * it first).
   *
   * @returns When everything is closed.
   */
  protected async _shutdown(): Promise<void> {
    const waiting = await this.#admission.close();
    const ports = [...this.#ports, ...waiting];
    await Promise.all(ports.map((port) => port.close()));
    this._inbox.end(); // wakes pumps that wait for room
    await Promise.all([...this.#pumps]);
  }

  /**
   * Takes in a client that came by another way than the server's listener:
   * a port over any {@linkcode Transport} (a WebSocket, a pipe in memory, a
   * connection that you accepted yourself). It is treated as every client
   * is: adopted (or handed to accept()), relayed, counted, and limited by
   * the same queues and by `maxClients`. It is not checked against `allow`
   * or `token`, and keeps the name it is given: the program that joins it
   * vouches for it. {@linkcode PortServer.admit} checks it as a client of
   * the listener is checked.
   *
   * @param transport The client's transport. The server owns it from now on.
   * @param options The client's name (by default, its address), and
   * `snapshot: false` to skip the late joiners' snapshot for it (a bridge to
   * other hubs, which must not send the bus's state back out as its own).
   * @returns The client's port.
   * @throws {PortClosedError} If the server is closed.
   *
   * @example A client over a pipe in memory joins a bus
   * ```ts
   * import { connect, message, PortServer, SocketPort, type Transport } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const ab = new TransformStream<Uint8Array, Uint8Array>();
   * const ba = new TransformStream<Uint8Array, Uint8Array>();
   * const end = (readable: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array>): Transport => ({
   *   readable,
   *   writable,
   *   close() {
   *     readable.cancel().catch(() => {});
   *     writable.abort().catch(() => {});
   *   },
   * });
   *
   * await using bus = new PortServer("127.0.0.1", 0, { relay: true });
   * bus.join(end(ab.readable, ba.writable), { name: "memory" });
   * await using local = new SocketPort(end(ba.readable, ab.writable));
   * await using tcp = await connect("127.0.0.1", bus.port);
   * while (bus.ports.length < 2) await new Promise((r) => setTimeout(r, 1));
   * await tcp.send(message("start"));
   * assert.deepEqual(await local.receive(), message("start"));
   * ```
   */
  join(
    transport: Transport,
    options: { name?: string; snapshot?: boolean } = {},
  ): SocketPort {
    if (this.closed) throw new PortClosedError(this.name, "join");
    const reason = this.#admission.full();
    if (reason) {
      transport.close();
      this.#admission.reject(options.name ?? "a joined transport", reason);
      throw new RangeError(`Cannot join ${this.name}: ${reason}`);
    }
    const port = this.#admission.port(transport, {
      ...this.#clientOptions,
      name: options.name,
      readHello: false, // the name it was given stays
    });
    if (options.snapshot === false) this.#noSnapshot.add(port);
    this.#admission.place(port);
    return port;
  }

  /**
   * Takes in a client that came by another way than the server's listener,
   * as if it had come through it: a transport that is checked against
   * `allow` (by its `remoteAddr`; one without an address is not on any
   * list), `maxClients` and `token` (its hello line, within
   * `helloTimeout`), and named by its hello line or its address. A client
   * turned away is closed, with the reason where its transport can carry
   * one, counted in `stats.rejected` and reported with a `reject` event, as
   * any client is. The browser gateway ({@linkcode WebGateway}) takes its
   * WebSockets in this way. Use {@linkcode PortServer.join} for a client
   * that your program vouches for.
   *
   * A transport that has no hello line (a session of RTP-MIDI, or of
   * Network MIDI 2.0, which have their own handshakes) is admitted with
   * `{ name }`: it is checked against `allow` and `maxClients` alone, never
   * against `token`, and keeps that name.
   *
   * @param transport The client's transport. The server owns it from now on.
   * @param options `name`, for a transport with no hello line.
   * @throws {PortClosedError} If the server is closed.
   *
   * @example A client that must say the token
   * ```ts
   * import { message, PortServer, SocketPort, type Transport } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const ab = new TransformStream<Uint8Array, Uint8Array>();
   * const ba = new TransformStream<Uint8Array, Uint8Array>();
   * const end = (readable: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array>): Transport => ({
   *   readable,
   *   writable,
   *   close() {
   *     readable.cancel().catch(() => {});
   *     writable.abort().catch(() => {});
   *   },
   * });
   *
   * await using server = new PortServer("127.0.0.1", 0, { token: "s3cret" });
   * server.admit(end(ab.readable, ba.writable));
   * await using client = new SocketPort(end(ba.readable, ab.writable), {
   *   hello: { name: "pipe", token: "s3cret" },
   * });
   * await client.send(message("start"));
   * const { port, message: msg } = await server.receiveWithPort();
   * assert.deepEqual([port.name, msg], ["pipe", message("start")]);
   * ```
   */
  admit(transport: Transport, options?: { name: string }): void {
    if (this.closed) throw new PortClosedError(this.name, "admit");
    this.#admission.take(transport, options);
  }

  /**
   * Why a client from `hostname` would be turned away now, if it would: not
   * on `allow`, or the server at `maxClients`. A transport with a handshake
   * of its own asks before it says yes, so that a peer it cannot bring in
   * is refused in its own protocol (an RTP-MIDI invitation is answered NO)
   * rather than taken in and closed. {@linkcode PortServer.admit} checks
   * again, as a client may have come meanwhile.
   *
   * @param hostname The client's address (IPv4 or IPv6, no brackets).
   * @returns The reason, or undefined if it would be taken in.
   *
   * @example Asking before an invitation is answered
   * ```ts
   * import { PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0, { allow: ["10.0.0.0/8"] });
   * assert.equal(server.refusal("10.1.2.3"), undefined);
   * assert.equal(server.refusal("192.0.2.1"), "not on the allow-list");
   * ```
   */
  refusal(hostname: string): string | undefined {
    return this.#admission.refusal(hostname);
  }

  // Sends a message to the clients of the bus (all but `from`), and keeps
  // the bus's controller state, for snapshots.
  #broadcast(
    msg: Message,
    bytes: Uint8Array,
    from?: { from: SocketPort },
  ): Promise<void> | undefined {
    const state = this.#busState;
    if (state === undefined) return this.#hub.sendBytes(bytes, from);
    // The bus's state follows what the hub hands its clients, in order.
    return this.#hub.sendBytes(bytes, {
      from: from?.from,
      delivered: () => state.track(msg),
    });
  }

  #adopt(port: SocketPort): void {
    // A late joiner hears the bus's controller state before anything else.
    const snapshot = this.#noSnapshot.has(port)
      ? undefined
      : this.#busState?.snapshot();
    if (snapshot?.length && !port.closed) {
      port.enqueue(encodeAll(snapshot)); // the server's own
    }
    this.#ports.add(port);
    this.#hub.add(port);
    this.dispatchEvent(new PortEvent("connect", { port }));
    const pump = this.#pump(port);
    this.#pumps.add(pump);
    pump.finally(() => this.#pumps.delete(pump));
  }

  // Takes a client's messages as they arrive, as many at a time as it has:
  // relays each (with relay), then hands it to the server's readers.
  async #pump(port: SocketPort): Promise<void> {
    const from = { from: port };
    const held = this.#releaseNotes ? new NoteTracker() : undefined;
    let taken = 0; // the client's messages, delivered or filtered
    try {
      while (true) {
        let msg = port.poll();
        if (msg === undefined) {
          try {
            msg = await port.receive();
          } catch {
            break; // the client has gone, and everything it sent is taken
          }
        }
        if (msg.type === "sysex" && this.#echo(msg, port)) continue;
        const time = port.lastTime;
        this.#received++;
        taken++;
        const refused = this.#admission.refuse(msg, port);
        if (refused) {
          this.#filtered++;
          this.dispatchEvent(
            new FilterEvent("filtered", {
              port,
              message: msg,
              reason: refused,
            }),
          );
          continue;
        }
        held?.track(msg);
        const waiting = this.#deliver(msg, port, from, time);
        if (waiting) await waiting;
      }
    } finally {
      await port.close();
      this.#ports.delete(port);
      this.#hub.delete(port);
      if (held && !this.closed) taken += await this.#release(port, held, from);
      const s = port.stats;
      addCounts(this.#gone, s);
      this.dispatchEvent(
        new PortEvent("disconnect", {
          port,
          droppedBytes: s.droppedBytes,
          messages: taken,
          lostMessages: s.lostMessages,
        }),
      );
    }
  }

  // Answers an echo request of a client that asked for the echo in its
  // hello line, to that client alone; says whether `msg` was one.
  #echo(msg: Message, port: SocketPort): boolean {
    const answer = asksEcho(port.hello) ? echoAnswer(msg) : undefined;
    if (answer === undefined) return false;
    this.#echoes++;
    try {
      port.enqueue(encode(answer));
    } catch {
      // It is closing: it asks no more.
    }
    return true;
  }

  // Hands a client's message to the relay and to the server's readers.
  // No async function: a message that waits for nothing costs no promise
  // (and the pump no promise turn); a promise while it waits.
  #deliver(
    msg: Message,
    port: SocketPort,
    from: { from: SocketPort },
    time: number,
  ): Promise<void> | undefined {
    if (this.#relay) {
      this.#relayed++;
      const waiting = this.#broadcast(msg, encode(msg), from);
      if (waiting) return waiting.then(() => this.#hand(msg, port, time));
    }
    return this.#hand(msg, port, time);
  }

  // Hands a client's message to the server's readers (unless a relay's
  // reader has stopped), and returns a promise while their inbox is full.
  #hand(
    msg: Message,
    port: SocketPort,
    time: number,
  ): Promise<void> | undefined {
    if (this.#reading || !this.#relay) {
      const inbox = this._inbox;
      inbox.push(msg, port, time);
      // Once the server closes, its inbox has ended and always has
      // room: what the client's port still holds is drained into it.
      return inbox.space();
    }
    return undefined;
  }

  // Emits what a client that left had left sounding, as if it sent it.
  // Releases what a client left on, and says how many messages that took.
  async #release(
    port: SocketPort,
    held: NoteTracker,
    from: { from: SocketPort },
  ): Promise<number> {
    const messages = held.release();
    if (messages.length === 0) return 0;
    const time = performance.now();
    for (const msg of messages) {
      const waiting = this.#deliver(msg, port, from, time);
      if (waiting) await waiting;
    }
    const event = new ReleaseEvent("release", { port, messages });
    this.#released += event.notes;
    this.dispatchEvent(event);
    return messages.length;
  }
}
