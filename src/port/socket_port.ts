// Copyright 2026 the midisock authors. MIT license.

import { asError } from "../util/error_text.ts";
import { timeoutSignal, whenAborted } from "../util/abort.ts";
import { type ByteSource, sinkOf, sourceOf } from "../transport/byte_io.ts";
import {
  encodeHello,
  type HelloFields,
  HelloReader,
  sameToken,
  senderLine,
} from "../transport/hello.ts";
import { Outbox } from "./_outbox.ts";
import {
  checkPortOptions,
  type SocketPortOptions,
  type SocketPortStats,
} from "./socket_port_options.ts";

export {
  checkPortOptions,
  type SocketPortOptions,
  type SocketPortStats,
} from "./socket_port_options.ts";
import { PartialWatch } from "./_partial.ts";
import { Sensing } from "./_sensing.ts";
import type { BufferBudget } from "./buffer_budget.ts";
import { addressName } from "../transport/address.ts";
import { DropTally } from "./drop_tally.ts";
import { DropEvent } from "./events.ts";
import { PortClosedError } from "./errors.ts";
import { encode } from "../midi/encode.ts";
import type { Message } from "../midi/message.ts";
import { MidiPort } from "./midi_port.ts";
import { feedInto, MidiParser } from "../midi/parser.ts";
import { TcpTransport } from "../transport/tcp_transport.ts";
import type { Transport } from "../transport/transport.ts";

/** The events of a {@linkcode SocketPort}. */
export interface SocketPortEventMap {
  /** Input bytes made no message (garbage, a cut or oversized message). */
  drop: DropEvent<SocketPort>;
  /**
   * With `readHello`: the port knows whether the stream opened with a
   * hello line (see {@linkcode SocketPort.hello}).
   */
  hello: Event;
  /** The port is closed, and its connection with it. */
  close: Event;
}

// What a slot of #messages holds once its message is handed on.
const NONE = undefined as unknown as Message;

// Bytes of received messages held for the reader before reading pauses.
const INBOX_BYTES = 64 * 1024;

// send() waits while this many bytes wait to be written.
const SEND_HIGH_WATER = 128 * 1024;

function isConn(x: Transport | Deno.Conn): x is Deno.Conn {
  return typeof (x as Deno.Conn).closeWrite === "function" &&
    typeof (x as Deno.Conn).read === "function";
}

/**
 * A MIDI port over one connection: mido's SocketPort. Both ends of a
 * connection are SocketPorts: the one that {@linkcode connect} returns and
 * the one that {@linkcode PortServer.accept} returns. Under it is a
 * {@linkcode Transport}: a TCP or TLS connection, or any other byte duplex.
 *
 * It has the surface of every {@linkcode MidiPort} (send, receive, poll,
 * iteration, readable, writable, reset, panic, close), and it reads what
 * the peer sends from the moment it is made, up to 64 KiB of messages that
 * no one has read; then it stops reading until they are.
 *
 * @example Sending and receiving
 * ```ts
 * import { connect, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0);
 * await using client = await connect("127.0.0.1", server.port);
 * await using peer = await server.accept();
 *
 * await client.send(message("note_on", { note: 60 }));
 * assert.deepEqual(await peer.receive(), message("note_on", { note: 60 }));
 * await peer.send(message("clock"));
 * assert.deepEqual(await client.receive(), message("clock"));
 * ```
 */
export class SocketPort extends MidiPort<SocketPortEventMap> {
  #transport: Transport;
  #name: string;
  #closeTimeout: number;
  #outbox: Outbox;
  #parser: MidiParser;
  #source: ByteSource;
  #helloReader: HelloReader | undefined;
  #budget: BufferBudget | undefined;
  #hello: HelloFields | null | undefined;
  #helloError: string | undefined;
  #token: string | undefined;
  #pump: Promise<void>; // resolves when the reading has ended
  #pumped: () => void;
  // The messages of the chunk just read (no new array a chunk).
  #messages: Message[] = [];
  #sent = 0;
  #cut = false;
  #closeReason: string | undefined;
  #sensing: Sensing;
  // The peer asked for sender names (and the transport can carry them):
  // a line names the sender each time it changes. Whose messages the peer
  // was last told of: undefined for this end's own; null before the first.
  #senders = false;
  #lastSender: string | undefined | null = null;
  #draining = false; // closing: bytes from the peer are read and dropped
  #lost = 0; // messages read while draining, and so never delivered
  #readToEnd = false; // a write failed: what the peer sent is still read
  #readDone = false; // the reading has ended
  #waitingForRoom = false; // not reading: the reader is behind
  #partial: PartialWatch;
  #drops: DropTally;

  /**
   * Makes a port of a transport. {@linkcode connect} and
   * {@linkcode PortServer} do this for you; use it for a connection that you
   * opened yourself, or for a transport of your own.
   *
   * @param transport A {@linkcode Transport}, or an open `Deno.Conn` (TCP
   * or TLS), which is wrapped in a {@linkcode TcpTransport}. The port owns
   * it from now on.
   * @param options Parser options, TCP_NODELAY, the close timeout and name.
   *
   * @example Wrapping a connection
   * ```ts
   * import { SocketPort } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
   * await using port = new SocketPort(conn, { name: "synth" });
   * const accepted = await listener.accept();
   * accepted.close();
   * assert.equal(port.name, "synth");
   * ```
   */
  constructor(
    transport: Transport | Deno.Conn,
    options: SocketPortOptions = {},
  ) {
    super("port", INBOX_BYTES);
    const closeTimeout = checkPortOptions(options);
    this.#transport = isConn(transport)
      ? new TcpTransport(transport, { noDelay: options.noDelay })
      : transport;
    this.#name = options.name ?? addressName(this.#transport.remoteAddr) ??
      "port";
    this.#closeTimeout = closeTimeout;
    this.#parser = new MidiParser(options);
    this.#drops = new DropTally(this.#parser);
    this.#outbox = new Outbox(
      sinkOf(this.#transport),
      (error) => this.#writeFailed(error),
    );
    this.#source = sourceOf(this.#transport, this.#got, this.#readFailed);
    // A peer that shows who sent each message (a browser page).
    this.#senders = this.#transport.senders === true &&
      this.#outbox.carriesText;
    this.#sensing = new Sensing(options.activeSensing ?? 0, this.#outbox, {
      name: () => this.#name,
      waiting: () => this.#waitingForRoom,
      lost: (error) => this._lost(error),
    });
    this.#partial = new PartialWatch(options.partialTimeout ?? 10_000, {
      name: () => this.#name,
      pending: () => this.#parser.pendingBytes,
      closed: () => this.closed,
      waiting: () => this.#waitingForRoom,
      lost: (error) => this._lost(error),
    });
    // The hello line goes first, before any MIDI byte.
    const sensing = this.#sensing.helloField;
    if (options.hello || sensing) {
      this.#outbox.enqueue(encodeHello({ ...options.hello, sensing }));
    }
    if (options.readHello) this.#helloReader = new HelloReader();
    if (options.expectSensing) this.#sensing.expect();
    this.#budget = options.budget;
    const pump = Promise.withResolvers<void>();
    this.#pump = pump.promise;
    this.#pumped = pump.resolve;
    this.#source.read();
  }

  /**
   * The port's name: the peer's `host:port` (`[v6]:port` for IPv6), or the
   * name it was given.
   *
   * @example The name of a connected port
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * assert.equal(client.name, `127.0.0.1:${server.port}`);
   * ```
   */
  get name(): string {
    return this.#name;
  }

  /** The address of this end of the connection. */
  get localAddr(): Deno.NetAddr {
    return this.#transport.localAddr as Deno.NetAddr;
  }

  /** The peer's address. */
  get remoteAddr(): Deno.NetAddr {
    return this.#transport.remoteAddr as Deno.NetAddr;
  }

  /**
   * Counters: messages sent and received, bytes written, queued and dropped,
   * and the parser's counts of skipped bytes and discarded messages.
   *
   * @example Reading the counters
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * await client.send(message("start"));
   * assert.equal(client.stats.sent, 1);
   * ```
   */
  get stats(): SocketPortStats {
    const outbox = this.#outbox;
    return {
      ...this.#parser.stats,
      sent: this.#sent,
      writtenBytes: outbox.writtenBytes,
      queuedBytes: outbox.queuedBytes,
      droppedBytes: outbox.droppedBytes,
      activeSensing: this.#sensing.sensed,
      lostMessages: this.#lost,
    };
  }

  /**
   * The silence, in ms, after which the peer counts as dead, once active
   * sensing is on for this link (see {@linkcode SocketPortOptions.activeSensing}),
   * else 0.
   *
   * @example A server's client that asked for active sensing
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port, {
   *   activeSensing: 1000,
   * });
   * const peer = await server.accept();
   * if (peer.hello === undefined) {
   *   await new Promise((resolve) => peer.addEventListener("hello", resolve));
   * }
   * assert.equal(peer.sensing, 0); // not until the server reads it
   * peer.poll();
   * assert.equal(peer.sensing, 1000);
   * ```
   */
  get sensing(): number {
    return this.#sensing.silence;
  }

  /**
   * Why the port closed, if it failed: the connection broke, the peer went
   * silent under active sensing, or left a message half sent. Undefined
   * while it is open, or if it closed cleanly.
   *
   * @example A port whose peer closed cleanly
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * assert.equal(client.error, undefined);
   * ```
   */
  get error(): Error | undefined {
    return this._error;
  }

  /**
   * Bytes waiting to be written: what {@linkcode BroadcastHub} measures a
   * client's queue by.
   *
   * @example An idle port has nothing queued
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * assert.equal(client.queuedBytes, 0);
   * ```
   */
  get queuedBytes(): number {
    return this.#outbox.queuedBytes;
  }

  /**
   * Bytes that were queued and never written, because the port closed
   * first: `stats.droppedBytes`.
   *
   * @example Nothing dropped
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * const client = await connect("127.0.0.1", server.port);
   * await client.close();
   * assert.equal(client.droppedBytes, 0);
   * ```
   */
  get droppedBytes(): number {
    return this.#outbox.droppedBytes;
  }

  /**
   * Queues bytes that are already encoded, whole messages, as they are:
   * how {@linkcode BroadcastHub} sends one encoding to many ports. Nothing
   * checks them; use send() for messages.
   *
   * A peer that asked for the senders' names when it connected (see
   * {@linkcode Transport.senders}: the browser page does) is told the
   * sender's name before the bytes, each time it changes; any other peer
   * gets the bytes alone.
   *
   * @param bytes Whole MIDI messages.
   * @param sender The name of the client that sent them; none for the
   * server's own.
   * @throws {PortClosedError} If the port takes no more bytes.
   *
   * @example Queuing the bytes of a note
   * ```ts
   * import { connect, encode, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * client.enqueue(encode(message("note_on", { note: 60 })));
   * assert.deepEqual(await server.receive(), message("note_on", { note: 60 }));
   * ```
   */
  enqueue(bytes: Uint8Array, sender?: string): void {
    if (this.#outbox.closed) {
      throw new PortClosedError(this.#name, "queue bytes", {
        cause: this._error,
      });
    }
    if (bytes.length === 0) return;
    if (this.#senders) this.#from(sender);
    this.#outbox.enqueue(bytes);
  }

  // Tells a peer that asked for sender names whose messages come next,
  // when that changes. (Active sensing goes out with no line, so a peer
  // that shows senders and asked for sensing would see it under the last
  // sender's name; the page asks for no sensing.)
  #from(sender: string | undefined): void {
    if (sender === this.#lastSender) return;
    this.#lastSender = sender;
    const line = senderLine(sender); // ASCII
    this.#outbox.line(line, line.length);
  }

  /**
   * Waits until fewer than `bytes` bytes are queued (or the port closes).
   *
   * @param bytes The queue size to wait for.
   * @param signal A signal to stop waiting: the promise rejects with its
   * reason.
   * @returns When there is room.
   *
   * @example Waiting for the queue to drain
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * await client.waitForRoom(1, AbortSignal.timeout(1000));
   * ```
   */
  waitForRoom(bytes: number, signal?: AbortSignal): Promise<void> {
    return this.#outbox.waitBelow(bytes, signal);
  }

  /**
   * Closes the port at once: drops what is queued (counted in
   * `stats.droppedBytes`), lets the write in flight finish so that the peer
   * gets whole messages only (waiting for it at most `closeTimeout`), and
   * closes the connection. The broadcast hub does this to a client that
   * falls too far behind.
   *
   * @param reason Why, for the peer, where the transport can carry it (a
   * WebSocket's close frame).
   * @returns When the port is closed.
   *
   * @example Aborting
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * const client = await connect("127.0.0.1", server.port);
   * await client.abort();
   * assert.equal(client.closed, true);
   * ```
   */
  abort(reason?: string): Promise<void> {
    this.#cut = true;
    this.#closeReason ??= reason;
    this.#outbox.cut();
    return this.close();
  }

  /**
   * A SocketPort reads from the moment it is made. When its owner starts
   * reading it, it answers a peer that asked for active sensing: so a
   * server answers a client only once it has taken it in (after its token
   * is checked), not while it waits.
   *
   * @param reading Whether the use reads the port.
   */
  protected _start(reading: boolean): void {
    if (reading) this.#sensing.answer();
  }

  /**
   * Checks and queues a message.
   *
   * @param msg The message.
   * @returns A promise while the queue is full.
   */
  protected _put(msg: Message): Promise<void> | undefined {
    const outbox = this.#outbox;
    if (this.#senders && this.#lastSender !== undefined) {
      // A line says the port's own messages follow: once the message is
      // checked, so that a bad one sends nothing.
      const bytes = encode(msg);
      this.#from(undefined);
      outbox.enqueue(bytes);
    } else {
      // Checks the message, and encodes it into the queue: no stream and
      // no copy between the message and the transport.
      outbox.encode(msg);
    }
    this.#sent++;
    if (outbox.queuedBytes < SEND_HIGH_WATER) return undefined;
    const dropped = outbox.droppedBytes;
    return outbox.waitBelow(SEND_HIGH_WATER).then(() => {
      // The port was shut while this waited, and its queue dropped.
      if (outbox.droppedBytes > dropped) throw this._error;
    }).catch((cause) => {
      throw new PortClosedError(this.#name, `send ${msg.type}`, {
        cause: this._error ?? cause,
      });
    });
  }

  /**
   * Sends what is queued (unless the port failed or was cut), then closes
   * the transport and waits for the reading and writing to end.
   *
   * @returns When it is all closed.
   */
  protected async _shutdown(): Promise<void> {
    this.#sensing.stop();
    this.#partial.stop();
    const outbox = this.#outbox;
    {
      using timeout = timeoutSignal(this.#closeTimeout);
      const deadline = timeout.signal;
      if (this._error || this.#cut) {
        outbox.cut();
        await Promise.race([outbox.settled(), whenAborted(deadline)]);
        if (this.#readToEnd) await this.#readRest(deadline);
      } else {
        await outbox.close(deadline);
        // Our end is sent: read and drop what the peer still sends until it
        // ends too. Closing with unread bytes would reset the connection,
        // and a reset can destroy what the peer has not read yet.
        this.#draining = true;
        this._inbox.end(); // wakes the reading if it waits for room
        await Promise.race([this.#pump, whenAborted(deadline)]);
      }
    }
    this.#transport.close(this.#closeReason);
    // The port holds its transport's streams: let them go too, so that a
    // read or write in flight ends whatever the transport's close() does.
    this.#source.cancel();
    outbox.abort();
    this._inbox.end(); // wakes a pump that waits for room
    await this.#pump;
    await outbox.settled();
    this.dispatchEvent(new Event("close"));
  }

  // A write failed: the peer's end is gone, but what it sent before may
  // still wait to be read (a reset leaves it readable, and read() returns
  // it before the error). The port reads it before it closes.
  #writeFailed(error: Error): void {
    this.#readToEnd = true;
    this._lost(error);
  }

  // After a failed write: the reading goes on to the peer's end, and
  // delivers what it reads until the deadline; from then on (the reader
  // is behind) it reads the rest without delivering it, and counts its
  // messages as lost, for closeTimeout more. The peer sends nothing new
  // once its connection failed, so the rest is what the system holds.
  async #readRest(deadline: AbortSignal): Promise<void> {
    await Promise.race([this.#pump, whenAborted(deadline)]);
    if (this.#readDone) return;
    this.#draining = true;
    this._inbox.end(); // wakes the reading if it waits for room
    using more = timeoutSignal(this.#closeTimeout);
    await Promise.race([this.#pump, whenAborted(more.signal)]);
  }

  // Closing: a chunk is read and dropped, and its messages counted (#take
  // has taken any hello line off it).
  #drop(chunk: Uint8Array): void {
    const parser = this.#parser;
    const messages = this.#messages;
    const count = feedInto(parser, chunk, messages);
    this.#lost += this.#sensing.take(messages, count);
    messages.fill(NONE, 0, count);
    this.#budget?.hold(this, parser.partialBytes);
  }

  // The port reads its transport into the inbox, until it ends: a read at a
  // time, each chunk handed to #got in the promise turn of the read itself
  // (no async function, no await: each would be a promise turn more from
  // the read to the reader, and garbage, a message).
  #got = (chunk: Uint8Array | null): void => {
    if (chunk === null) {
      this.#readEnd(undefined);
      return;
    }
    let more: boolean;
    try {
      more = this.#take(chunk);
    } catch (error) {
      this.#readEnd(asError(error));
      return;
    }
    if (more) this.#source.read();
  };

  #readFailed = (error: unknown): void => {
    this.#readEnd(asError(error));
  };

  // Takes a chunk in: returns whether to read on at once (else the inbox
  // is full, and the reading goes on once its reader has made room).
  #take(chunk: Uint8Array): boolean {
    const now = performance.now();
    this.#sensing.heard(now);
    // Read even while closing: a server's reply to a client's hello
    // line comes after what the client sent.
    if (this.#helloReader) {
      const rest = this.#readHello(chunk);
      if (rest === undefined) return true; // more of a hello line to come
      chunk = rest;
    }
    if (this.#draining) {
      this.#drop(chunk);
      return true;
    }
    const parser = this.#parser;
    const inbox = this._inbox;
    // Done with the chunk here; active sensing is no message.
    const messages = this.#messages;
    const count = this.#sensing.take(
      messages,
      feedInto(parser, chunk, messages),
    );
    for (let i = 0; i < count; i++) inbox.push(messages[i], undefined, now);
    this.#budget?.hold(this, parser.partialBytes);
    this.#reportDrops();
    this.#partial.read(now, parser.pendingBytes, messages, count);
    if (count > 0) messages.fill(NONE, 0, count); // no message kept here
    const space = inbox.space();
    if (space === undefined) return true;
    this.#waitingForRoom = true;
    space.then(this.#roomMade);
    return false;
  }

  #roomMade = (): void => {
    this.#waitingForRoom = false;
    // The peer was not to blame for the wait.
    const after = performance.now();
    this.#partial.resumed(after);
    this.#sensing.heard(after);
    this.#source.read();
  };

  // The reading has ended: at the peer's end, or with a failure.
  #readEnd(failure: Error | undefined): void {
    if (this.#readDone) return;
    this.#readDone = true;
    try {
      this.#partial.stop(); // a close may have read on after its own stop
      if (this.#helloReader) this.#settleHello(null);
      this.#parser.end();
      this.#budget?.release(this);
      this.#reportDrops();
      this._inbox.end();
      // The peer has gone: send what is queued, then close, as mido does.
      if (!this.closed) this._lost(failure);
    } finally {
      this.#pumped();
    }
  }

  /**
   * Bytes that the port's parser holds for a message still arriving (a
   * sysex in progress), at most `maxSysexBytes`.
   *
   * @example Nothing held between messages
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * assert.equal(client.bufferedBytes, 0);
   * ```
   */
  get bufferedBytes(): number {
    return this.#parser.partialBytes;
  }

  /**
   * Discards the message still arriving, if any, and lets go of its
   * memory: it is counted (`stats.discardedMessages`) and reported with a
   * `drop` event. A {@linkcode BufferBudget} calls this.
   *
   * @returns The bytes of memory let go.
   *
   * @example Nothing to discard
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * assert.equal(client.discardPartial(), 0);
   * ```
   */
  discardPartial(): number {
    const bytes = this.#parser.discardPartial();
    this.#reportDrops();
    return bytes;
  }

  // Takes a hello line off the start of the stream: returns the bytes that
  // are MIDI, or undefined while a hello line may still be coming.
  #readHello(chunk: Uint8Array): Uint8Array | undefined {
    const result = this.#helloReader!.feed(chunk);
    switch (result.state) {
      case "more":
        return undefined;
      case "hello": {
        // The token is kept apart, for matchesToken() alone: it is no
        // field that code could log.
        const { token, ...fields } = result.fields;
        this.#token = token;
        if (fields.name) this.#name = fields.name;
        // A client that asks for active sensing gets it, from now on.
        this.#sensing.askedFor(fields.sensing);
        this.#settleHello(Object.freeze(fields));
        return result.rest;
      }
      case "bad":
        // Not a hello line after all: its bytes go to the parser, which
        // skips them as data with no status, and counts them.
        this.#helloError = result.reason;
        this.#settleHello(null);
        return result.rest;
      case "none":
        this.#settleHello(null);
        return result.rest;
    }
  }

  #settleHello(fields: HelloFields | null): void {
    if (this.#hello !== undefined) return;
    this.#helloReader = undefined;
    this.#hello = fields;
    this.dispatchEvent(new Event("hello"));
  }

  /**
   * With `readHello`: the fields of the hello line that opened the stream
   * (`name`, `token`, and any others), null if it opened with none (or
   * with a bad one: see {@linkcode SocketPort.helloError}), and undefined
   * while that is not yet known. A `hello` event fires once it is.
   *
   * @example A client that says hello
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * const accepted = server.accept();
   * await using client = await connect("127.0.0.1", server.port, {
   *   hello: { name: "keys" },
   * });
   * await using peer = await accepted;
   * if (peer.hello === undefined) {
   *   await new Promise((r) => peer.addEventListener("hello", r, { once: true }));
   * }
   * assert.equal(peer.name, "keys");
   * // connect() also asks for the server's verdict on its hello line.
   * assert.deepEqual(peer.hello, { name: "keys", verdict: "1" });
   * ```
   */
  get hello(): Readonly<Record<string, string>> | null | undefined {
    return this.#hello;
  }

  /**
   * Whether the token in the hello line that opened the stream is
   * `expected`, compared in constant time (by their SHA-256 digests); or
   * undefined if the line had no token (or there was no line). The token
   * itself is never kept where code could read it: not in
   * {@linkcode SocketPort.hello}, nor in a name or an event.
   *
   * @param expected The token to match.
   * @returns Whether it matches, or undefined.
   *
   * @example Checking a client's token
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * const accepted = server.accept();
   * await using client = await connect("127.0.0.1", server.port, {
   *   hello: { name: "keys", token: "s3cret" },
   * });
   * await using peer = await accepted;
   * if (peer.hello === undefined) {
   *   await new Promise((r) => peer.addEventListener("hello", r, { once: true }));
   * }
   * assert.equal(await peer.matchesToken("s3cret"), true);
   * assert.equal(await peer.matchesToken("guess"), false);
   * assert.equal(peer.hello?.token, undefined); // never kept where code reads
   * ```
   */
  matchesToken(expected: string): Promise<boolean | undefined> {
    const token = this.#token;
    if (token === undefined) return Promise.resolve(undefined);
    return sameToken(token, expected);
  }

  /**
   * Why the stream's opening line was not a good hello line, if it was not.
   *
   * @example No hello line, no error
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * assert.equal(client.helloError, undefined);
   * ```
   */
  get helloError(): string | undefined {
    return this.#helloError;
  }

  // Fires a drop event for what the parser dropped since the last one.
  #reportDrops(): void {
    const counts = this.#drops.take();
    if (counts) {
      this.dispatchEvent(new DropEvent("drop", { port: this, ...counts }));
    }
  }
}
