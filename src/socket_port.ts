// Copyright 2026 the midisock authors. MIT license.

import { ConnReader, ConnWriter, type EndReason, WRITERS } from "./_conn.ts";
import { PANIC_MESSAGES, RESET_MESSAGES } from "./_channel_mode.ts";
import { DECODER_TAPS } from "./_decoder_tap.ts";
import { Inbox, wireSize } from "./_inbox.ts";
import { MidiDecoderStream } from "./codec.ts";
import { formatAddress } from "./address.ts";
import { PortClosedError } from "./errors.ts";
import type { Message } from "./message.ts";
import type { MidiParserOptions, MidiParserStats } from "./parser.ts";

/** Options for {@linkcode SocketPort}. */
export interface SocketPortOptions extends MidiParserOptions {
  /**
   * Turn on TCP_NODELAY, so that each message goes out at once.
   *
   * @default {true}
   */
  noDelay?: boolean;
  /**
   * How long {@linkcode SocketPort.close} waits for queued messages to be
   * written, in milliseconds, before it drops them (and counts them in
   * `stats.droppedBytes`).
   *
   * @default {2000}
   */
  closeTimeout?: number;
  /**
   * The port's name. By default it is the peer's address, `host:port`.
   */
  name?: string;
}

/** Counters of a {@linkcode SocketPort}. */
export interface SocketPortStats extends MidiParserStats {
  /** Messages given to send() or the writable. */
  sent: number;
  /** Bytes written to the socket. */
  writtenBytes: number;
  /** Bytes waiting to be written. */
  queuedBytes: number;
  /** Bytes that were never written because the port closed first. */
  droppedBytes: number;
}

// Bytes of received messages held for the reader before reading pauses.
const INBOX_BYTES = 64 * 1024;

// send() waits while this many bytes wait to be written.
const SEND_HIGH_WATER = 128 * 1024;

function describe(msg: unknown): string {
  const type = (msg as { type?: unknown } | null)?.type;
  return typeof type === "string" ? type : "message";
}

/**
 * A MIDI port over a TCP connection: mido's SocketPort. Both ends of a
 * connection are SocketPorts: the one that {@linkcode connect} returns and
 * the one that {@linkcode PortServer.accept} returns.
 *
 * Read it either through {@linkcode SocketPort.readable} or through
 * receive(), poll(), iterPending() and iteration, not both (like Deno.Conn).
 * Write it with send() or through {@linkcode SocketPort.writable}.
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
export class SocketPort implements AsyncIterable<Message>, AsyncDisposable {
  #conn: Deno.Conn;
  #name: string;
  #closeTimeout: number;
  #writer: ConnWriter;
  #reader: ConnReader;
  #decoder: MidiDecoderStream;
  #messages: ReadableStream<Message>;
  #mode: "stream" | "pull" | undefined;
  #inbox = new Inbox<Message>(INBOX_BYTES, wireSize);
  #pump: Promise<void> | undefined;
  #writable: WritableStream<Message> | undefined;
  #closed = false;
  #closedByPeer = false;
  #closing: Promise<void> | undefined;
  #error: Error | undefined;
  #sent = 0;

  /**
   * Wraps a connection as a port. {@linkcode connect} and
   * {@linkcode PortServer} do this for you; use it to make a port of a
   * connection that you opened yourself.
   *
   * @param conn An open TCP connection. The port owns it from now on.
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
  constructor(conn: Deno.Conn, options: SocketPortOptions = {}) {
    this.#conn = conn;
    const remote = conn.remoteAddr as Deno.NetAddr;
    // An IPv4 peer of a dual-stack listener is named by its IPv4 address.
    const host = remote.hostname.replace(
      /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i,
      "$1",
    );
    this.#name = options.name ?? formatAddress(host, remote.port);
    this.#closeTimeout = options.closeTimeout ?? 2000;
    if ((options.noDelay ?? true) && "setNoDelay" in conn) {
      try {
        (conn as Deno.TcpConn).setNoDelay(true);
      } catch {
        // The connection is already gone; the first read or write says so.
      }
    }
    this.#writer = new ConnWriter(conn, (error) => this.#fail(error));
    WRITERS.set(this, this.#writer);
    this.#decoder = new MidiDecoderStream(options);
    this.#reader = new ConnReader(conn, (reason) => this.#ended(reason));
    this.#messages = this.#reader.readable.pipeThrough(this.#decoder);
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

  /**
   * True once the port is closed: by close(), or because the peer went away
   * or the connection failed. Messages that arrived before can still be read.
   *
   * When the peer goes away from a port that is read with receive(), poll()
   * or iteration, the port says it is closed only once every message that
   * arrived has been read, as mido's does. So mido's loop, which drops the
   * ports that are closed and drains the others with iterPending(), loses
   * nothing. (send() fails from the moment the peer is gone.)
   *
   * @example Closing
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * const client = await connect("127.0.0.1", server.port);
   * assert.equal(client.closed, false);
   * await client.close();
   * assert.equal(client.closed, true);
   * ```
   */
  get closed(): boolean {
    if (this.#closedByPeer && this.#mode === "pull") {
      return this.#inbox.ended && this.#inbox.length === 0;
    }
    return this.#closed;
  }

  /** The local address of the connection. */
  get localAddr(): Deno.NetAddr {
    return this.#conn.localAddr as Deno.NetAddr;
  }

  /** The peer's address. */
  get remoteAddr(): Deno.NetAddr {
    return this.#conn.remoteAddr as Deno.NetAddr;
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
    return {
      ...this.#decoder.stats,
      sent: this.#sent,
      writtenBytes: this.#writer.writtenBytes,
      queuedBytes: this.#writer.queuedBytes,
      droppedBytes: this.#writer.droppedBytes,
    };
  }

  /**
   * The messages that arrive, as a stream. Use it instead of receive(),
   * poll() and iteration, not with them. It ends when the peer goes away or
   * the port is closed.
   *
   * @example Piping a client into a server
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * const client = await connect("127.0.0.1", server.port);
   * const peer = await server.accept();
   * await client.send(message("note_on", { note: 60 }));
   * await client.close();
   * const received = await Array.fromAsync(peer.readable);
   * assert.deepEqual(received, [message("note_on", { note: 60 })]);
   * ```
   */
  get readable(): ReadableStream<Message> {
    if (this.#mode === "pull") {
      throw new TypeError(
        `Cannot use the readable of port ${this.#name}: it is being read with receive(), poll() or iteration`,
      );
    }
    this.#mode = "stream";
    return this.#messages;
  }

  /**
   * A stream to send messages through. It shares one queue with send(), so
   * what is written and what is sent go out in the order they were given,
   * and a burst goes out as one write (the encoding and coalescing of
   * {@linkcode MidiEncoderStream}, without a second queue). Closing it closes
   * the port once what was written is sent, and so does aborting it. A bad
   * message errors this stream and is not sent; the messages before it are
   * sent, and the port stays open for send().
   *
   * @example Piping messages to a port
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * const client = await connect("127.0.0.1", server.port);
   * await using peer = await server.accept();
   * await ReadableStream.from([message("start"), message("stop")])
   *   .pipeTo(client.writable); // closes the client when done
   * assert.deepEqual(await Array.fromAsync(peer), [message("start"), message("stop")]);
   * ```
   */
  get writable(): WritableStream<Message> {
    this.#writable ??= new WritableStream<Message>({
      write: (msg) => this.#put(msg),
      close: () => this.close(),
      abort: () => this.close(),
    });
    return this.#writable;
  }

  /**
   * Sends a message. It is checked first: a bad message throws and sends
   * nothing. The promise resolves once the message is queued for the socket,
   * and waits while the queue is full.
   *
   * @param msg The message.
   * @throws {PortClosedError} If the port is closed.
   * @throws {TypeError} For a bad type, field or value (see
   * {@linkcode message}).
   * @throws {RangeError} For a value out of range.
   *
   * @example Sending
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using output = await connect("127.0.0.1", server.port);
   * await output.send(message("note_on", { note: 60, velocity: 100 }));
   * ```
   */
  send(msg: Message): Promise<void> {
    try {
      return this.#put(msg) ?? Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  // send(), without the promise when there is room: it throws at once for a
  // bad message or a closed port, and returns a promise only to wait.
  #put(msg: Message): Promise<void> | undefined {
    if (this.#closed) {
      throw new PortClosedError(this.#name, `send ${describe(msg)}`, {
        cause: this.#error,
      });
    }
    const writer = this.#writer;
    // Checks the message, and encodes it into the writer's queue: no stream
    // and no copy between the message and the socket.
    writer.encode(msg);
    this.#sent++;
    if (writer.queuedBytes < SEND_HIGH_WATER) return undefined;
    const dropped = writer.droppedBytes;
    return writer.waitBelow(SEND_HIGH_WATER).then(() => {
      // The port was shut while this waited, and its queue dropped.
      if (writer.droppedBytes > dropped) throw this.#error;
    }).catch((cause) => {
      throw new PortClosedError(this.#name, `send ${describe(msg)}`, {
        cause: this.#error ?? cause,
      });
    });
  }

  /**
   * Waits for the next message.
   *
   * @param options A signal to stop waiting.
   * @returns The next message.
   * @throws {PortClosedError} If the port is closed (or closes while waiting)
   * and no message is left.
   *
   * @example Receiving with a time limit
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * await client.send(message("stop"));
   * const msg = await server.receive({ signal: AbortSignal.timeout(5000) });
   * assert.equal(msg.type, "stop");
   * ```
   */
  async receive(options: { signal?: AbortSignal } = {}): Promise<Message> {
    this.#pull("receive");
    const msg = this.#inbox.shift() ?? await this.#inbox.next(options.signal);
    if (msg === undefined) {
      throw new PortClosedError(this.#name, "receive", { cause: this.#error });
    }
    return msg;
  }

  /**
   * Returns a message that has arrived, or undefined at once if there is
   * none.
   *
   * @returns The oldest pending message, or undefined.
   *
   * @example Polling
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * assert.equal(client.poll(), undefined);
   * ```
   */
  poll(): Message | undefined {
    this.#pull("poll");
    return this.#inbox.shift();
  }

  /**
   * Yields the messages that have arrived, without waiting.
   *
   * @returns An iterator of the pending messages.
   *
   * @example Draining what has arrived
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * await using peer = await server.accept();
   * await client.send(message("start"));
   * await peer.receive();
   * assert.deepEqual([...peer.iterPending()], []);
   * ```
   */
  *iterPending(): IterableIterator<Message> {
    while (true) {
      const msg = this.poll();
      if (msg === undefined) return;
      yield msg;
    }
  }

  /**
   * Yields each message as it arrives, until the peer goes away or the port
   * is closed; then it ends quietly.
   *
   * @returns An async iterator of messages.
   *
   * @example Iterating
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * const client = await connect("127.0.0.1", server.port);
   * await using peer = await server.accept();
   * await client.send(message("start"));
   * await client.close();
   * const seen = [];
   * for await (const msg of peer) seen.push(msg.type);
   * assert.deepEqual(seen, ["start"]);
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    this.#pull("iterate");
    return new _PortIterator(this.#inbox);
  }

  /**
   * Sends All Notes Off and Reset All Controllers on every channel, as mido's
   * reset() does. Does nothing on a closed port.
   *
   * @example Resetting a synth
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * await client.reset();
   * assert.equal(client.stats.sent, 32);
   * ```
   */
  async reset(): Promise<void> {
    if (this.#closed) return;
    for (const msg of RESET_MESSAGES) await this.send(msg);
  }

  /**
   * Sends All Sounds Off on every channel, as mido's panic() does, for notes
   * that hang. Does nothing on a closed port.
   *
   * @example Silencing everything
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * await client.panic();
   * assert.equal(client.stats.sent, 16);
   * ```
   */
  async panic(): Promise<void> {
    if (this.#closed) return;
    for (const msg of PANIC_MESSAGES) await this.send(msg);
  }

  /**
   * Closes the port: writes what is queued (waiting up to `closeTimeout`),
   * then closes the TCP connection, so the peer sees end of stream. Messages
   * that arrived before can still be read. Closing twice is harmless.
   *
   * @example Closing
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * const client = await connect("127.0.0.1", server.port);
   * await client.close();
   * await assert.rejects(client.send({ type: "start" }), { name: "PortClosedError" });
   * ```
   */
  close(): Promise<void> {
    this.#closedByPeer = false;
    this.#closing ??= this.#shutdown(true);
    return this.#closing;
  }

  /**
   * Closes the port at once: drops what is queued (counted in
   * `stats.droppedBytes`) and closes the TCP connection. The broadcast hub
   * does this to a client that falls too far behind.
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
  abort(): Promise<void> {
    this.#closedByPeer = false;
    if (this.#closing) {
      // Cut a close that is still flushing short.
      this.#writer.close(false);
      try {
        this.#conn.close();
      } catch {
        // Already closed.
      }
      return this.#closing;
    }
    this.#closing = this.#shutdown(false);
    return this.#closing;
  }

  /**
   * Closes the port, for `await using`.
   *
   * @example Closing at the end of a block
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * {
   *   await using client = await connect("127.0.0.1", server.port);
   * } // closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #pull(action: string): void {
    if (this.#mode === "pull") return;
    if (this.#mode === "stream") {
      throw new TypeError(
        `Cannot ${action}: port ${this.#name} is being read through its readable`,
      );
    }
    this.#mode = "pull";
    // The decoder hands each chunk's messages to the inbox at once, and
    // reading pauses while the inbox is full.
    const inbox = this.#inbox;
    DECODER_TAPS.get(this.#decoder)!.tap = (messages) => {
      for (let i = 0; i < messages.length; i++) {
        inbox.push(messages[i] as Message);
      }
      return inbox.space();
    };
    this.#pump = this.#runPump();
  }

  // In pull mode the decoder fills the inbox itself. The pump's pending read
  // is what lets the decoder run, and it ends the inbox when the stream ends.
  async #runPump(): Promise<void> {
    const reader = this.#messages.getReader();
    const inbox = this.#inbox;
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        inbox.push(value); // decoded before the tap was set
      }
    } catch {
      // The decoder never errors; a cancel ends the pump like an end.
    } finally {
      inbox.end();
    }
  }

  #ended(reason: EndReason): void {
    if (reason === "local") return;
    if (!this.#closing) this.#closedByPeer = true;
    if (reason !== "eof") {
      this.#error = reason;
      this.#closing ??= this.#shutdown(false);
    } else {
      // The peer has gone: send what is queued, then close, as mido does.
      this.#closing ??= this.#shutdown(true);
    }
  }

  #fail(error: Error): void {
    this.#error ??= error;
    if (!this.#closing) this.#closedByPeer = true;
    this.#closing ??= this.#shutdown(false);
  }

  async #shutdown(flush: boolean): Promise<void> {
    this.#closed = true;
    if (flush) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.#closeTimeout);
      });
      const flushed = this.#writer.close(true).then(() => true);
      const done = await Promise.race([flushed, timeout]);
      clearTimeout(timer);
      if (!done) await this.#writer.close(false);
    } else {
      await this.#writer.close(false);
    }
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    await this.#reader.settled();
    await this.#writer.drain();
  }
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
});

/**
 * The iterator of a port: an async generator's behaviour, written out,
 * because a generator's machinery costs more than the rest of receiving a
 * message. It hands out what the inbox holds, in order, to each next() call,
 * even to calls that overlap, and ends at the inbox's end or at return().
 */
class _PortIterator implements AsyncIterableIterator<Message> {
  #inbox: Inbox<Message>;
  #finished = false;

  constructor(inbox: Inbox<Message>) {
    this.#inbox = inbox;
  }

  next(): Promise<IteratorResult<Message, undefined>> {
    if (this.#finished) return Promise.resolve(DONE);
    const msg = this.#inbox.shift();
    if (msg !== undefined) return Promise.resolve({ done: false, value: msg });
    return this.#inbox.next().then((msg) => {
      if (msg === undefined) {
        this.#finished = true;
        return DONE;
      }
      // Taken from the inbox: it is delivered, even after a return().
      return { done: false, value: msg };
    });
  }

  return(): Promise<IteratorResult<Message, undefined>> {
    this.#finished = true;
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return this;
  }
}
