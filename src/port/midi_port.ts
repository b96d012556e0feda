// Copyright 2026 the midisock authors. MIT license.

import { PANIC_MESSAGES, RESET_MESSAGES } from "../midi/channel_mode.ts";
import { Inbox, type Taker, wireSize } from "./_inbox.ts";
import { describe, PortIterator } from "./port_iterator.ts";
import { PortClosedError } from "./errors.ts";
import type { Message } from "../midi/message.ts";
import { TypedEventTarget } from "../util/typed_event_target.ts";

/** Options for {@linkcode MidiPort.receive}. */
export interface ReceiveOptions {
  /** A signal to stop waiting. */
  signal?: AbortSignal;
  /**
   * Whether to resolve to a {@linkcode TimedMessage} (the message and its
   * arrival time) rather than the message alone.
   *
   * @default {false}
   */
  timestamps?: boolean;
}

/**
 * A message and when it arrived: `time` is in milliseconds on the clock of
 * `performance.now()` (monotonic, from the start of the process, with
 * sub-millisecond resolution), taken when the message's bytes were read.
 * The messages of one read share one time.
 */
export interface TimedMessage {
  /** The message, as receive() gives it. */
  message: Message;
  /** When its bytes were read, in ms on performance.now()'s clock. */
  time: number;
}

// What send() returns for a message that is queued: one promise for all,
// as a settled promise cannot change (no new promise a message).
const SENT: Promise<void> = Promise.resolve();

// The error that closed a port (MidiPort's #error), for settle().
let errorOf: (port: MidiPort) => Error | undefined;

// Settles a waiting receive() with what the inbox handed it: the message
// (with its time, if `timed`), or, at the inbox's end, PortClosedError.
function settle(
  port: MidiPort,
  resolve: (value: Message | TimedMessage) => void,
  reject: (reason: unknown) => void,
  timed: boolean,
  msg: Message | undefined,
  time: number,
): void {
  if (msg === undefined) {
    reject(new PortClosedError(port.name, "receive", { cause: errorOf(port) }));
  } else {
    resolve(timed ? { message: msg, time } : msg);
  }
}

/**
 * A receive() that waits: the inbox hands it the next message (or the
 * end) straight, with no promise between the inbox and the caller's.
 */
class Receipt implements Taker<Message, unknown> {
  readonly promise: Promise<Message | TimedMessage>;
  #resolve!: (value: Message | TimedMessage) => void;
  #reject!: (reason: unknown) => void;
  #port: MidiPort;
  #timed: boolean;

  constructor(port: MidiPort, timed: boolean) {
    this.#port = port;
    this.#timed = timed;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  take(msg: Message | undefined, _tag: unknown, time: number): void {
    settle(this.#port, this.#resolve, this.#reject, this.#timed, msg, time);
  }

  fail(reason: unknown): void {
    this.#reject(reason);
  }
}

/**
 * The surface that every port has, written once: {@linkcode SocketPort}
 * (one connection, over any transport) and {@linkcode PortServer} (all of
 * its clients) are MidiPorts. It is mido's port: send, receive, poll,
 * iterPending, iteration, reset, panic and close, plus `readable` and
 * `writable` for Web Stream pipes, and `await using`.
 *
 * A port is read either through {@linkcode MidiPort.readable} or through
 * receive(), poll(), iterPending() and iteration, not both at once (like
 * Deno.Conn). Whichever comes first decides; the other throws TypeError.
 *
 * @typeParam M The port's events (see {@linkcode TypedEventTarget}).
 *
 * @example Any port, the same way
 * ```ts
 * import { connect, message, type MidiPort, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * async function playChord(port: MidiPort) {
 *   for (const note of [60, 64, 67]) await port.send(message("note_on", { note }));
 * }
 * await using server = new PortServer("127.0.0.1", 0);
 * await using client = await connect("127.0.0.1", server.port);
 * await playChord(client);
 * assert.deepEqual((await server.receive()).type, "note_on");
 * ```
 */
export abstract class MidiPort<
  // deno-lint-ignore ban-types
  M extends { [K in keyof M]: Event } = {},
> extends TypedEventTarget<M>
  implements AsyncIterable<Message>, AsyncDisposable {
  #inbox: Inbox<Message, unknown>;
  #kind: string;
  #mode: "stream" | "pull" | undefined;
  #readable: ReadableStream<Message> | undefined;
  #writable: WritableStream<Message> | undefined;
  #closed = false;
  #byPeer = false;
  #closing: Promise<void> | undefined;
  #error: Error | undefined;
  // The lone receive() that waits through #receiver, while one does.
  #resolve: ((value: Message | TimedMessage) => void) | undefined;
  #reject: ((reason: unknown) => void) | undefined;
  #timed = false;
  #executor = (
    resolve: (value: Message | TimedMessage) => void,
    reject: (reason: unknown) => void,
  ) => {
    this.#resolve = resolve;
    this.#reject = reject;
  };
  #receiver: Taker<Message, unknown> = {
    take: (msg, _tag, time) => {
      const resolve = this.#resolve!;
      const reject = this.#reject!;
      this.#resolve = this.#reject = undefined;
      settle(this, resolve, reject, this.#timed, msg, time);
    },
    fail: () => {}, // it waits with no signal
  };

  static {
    errorOf = (port) => port.#error;
  }

  /**
   * For subclasses: makes the surface.
   *
   * @param kind `"port"` or `"server"`, for error messages.
   * @param inboxBytes How many bytes of received messages the port holds
   * for its reader before it stops reading.
   */
  protected constructor(kind: string, inboxBytes: number) {
    super();
    this.#kind = kind;
    this.#inbox = new Inbox<Message, unknown>(inboxBytes, wireSize);
  }

  /** The port's name. */
  abstract get name(): string;

  /**
   * True once the port is closed: by close(), or because the peer went
   * away. Messages that arrived before can still be read.
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
    if (this.#byPeer && this.#mode === "pull") {
      return this.#inbox.ended && this.#inbox.length === 0;
    }
    return this.#closed;
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
        `Cannot use the readable of ${this.#kind} ${this.name}: it is being read with receive(), poll() or iteration`,
      );
    }
    if (this.#readable) return this.#readable;
    this.#mode = "stream";
    this._start(true);
    const inbox = this.#inbox;
    this.#readable = new ReadableStream<Message>({
      async pull(controller) {
        const first = inbox.shift() ?? await inbox.next();
        if (first === undefined) {
          controller.close();
          return;
        }
        controller.enqueue(first);
        while (inbox.length > 0 && (controller.desiredSize ?? 0) > 0) {
          controller.enqueue(inbox.shift()!);
        }
      },
      cancel: () => this._readerGone(),
    }, { highWaterMark: 64 });
    return this.#readable;
  }

  /**
   * A stream to send messages through: each message written is sent as by
   * send(), in order. A bad message errors this stream and is not sent; the
   * messages before it are sent. What closing it does depends on the port:
   * a {@linkcode SocketPort} closes once what was written is sent, and a
   * {@linkcode PortServer} stays open (the next use of `writable` gives a
   * fresh stream, so one pipe can follow another).
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
    this._start(false);
    const writable: WritableStream<Message> = this.#writable ??
      new WritableStream<Message>({
        write: (msg) => this.#put(msg),
        close: () => this.#endWritable(writable),
        abort: () => this.#endWritable(writable),
      });
    this.#writable = writable;
    return writable;
  }

  /**
   * Sends a message. It is checked first: a bad message throws and sends
   * nothing. The promise resolves once the message is queued, and waits
   * while the queue is full.
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
      return this.#put(msg) ?? SENT;
    } catch (error) {
      return Promise.reject(error);
    }
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
  receive(
    options?: ReceiveOptions & { timestamps?: false },
  ): Promise<Message>;
  /**
   * Waits for the next message, and says when it arrived.
   *
   * @param options `timestamps: true`, and a signal to stop waiting.
   * @returns The next message and its arrival time.
   * @throws {PortClosedError} If the port is closed (or closes while waiting)
   * and no message is left.
   *
   * @example Receiving with the arrival time
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * const before = performance.now();
   * await client.send(message("stop"));
   * const { message: msg, time } = await server.receive({ timestamps: true });
   * assert.equal(msg.type, "stop");
   * assert.ok(time >= before && time <= performance.now());
   * ```
   */
  receive(
    options: ReceiveOptions & { timestamps: true },
  ): Promise<TimedMessage>;
  receive(options?: ReceiveOptions): Promise<Message | TimedMessage> {
    try {
      this._pull("receive");
    } catch (error) {
      return Promise.reject(error);
    }
    const inbox = this.#inbox;
    const timed = options?.timestamps === true;
    // No async function: a message that is there, or that comes, is handed
    // on with as few promise turns as can be.
    const msg = inbox.shift();
    if (msg !== undefined) {
      return Promise.resolve(
        timed ? { message: msg, time: inbox.lastTime } : msg,
      );
    }
    const signal = options?.signal;
    if (signal === undefined && this.#resolve === undefined) {
      // A lone receive() with no signal: the port takes the message itself
      // (no Receipt, no closure: one promise a message).
      this.#timed = timed;
      const promise = new Promise(this.#executor);
      inbox.wait(this.#receiver);
      return promise;
    }
    const receipt = new Receipt(this, timed);
    inbox.wait(receipt, signal);
    return receipt.promise;
  }

  /**
   * When the message that receive(), poll() or iteration handed out last
   * arrived, in ms on the clock of `performance.now()` (see
   * {@linkcode TimedMessage}); 0 before the first. It costs nothing to
   * keep, and is meant for one reader: with two readers at once, it is the
   * time of whichever took a message last.
   *
   * @example The time of what poll() gave
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * await client.send(message("start"));
   * await server.receive();
   * assert.ok(server.lastTime > 0);
   * ```
   */
  get lastTime(): number {
    return this.#inbox.lastTime;
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
    this._pull("poll");
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
    this._pull("iterate");
    return new PortIterator(
      this.#inbox,
      (msg) => msg,
      () => this._readerGone(),
    );
  }

  /**
   * Yields each message as it arrives with its arrival time, until the peer
   * goes away or the port is closed; then it ends quietly. It reads the
   * port as iteration does (not with its readable).
   *
   * @returns An async iterator of {@linkcode TimedMessage}s.
   *
   * @example Iterating with times
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * const client = await connect("127.0.0.1", server.port);
   * await using peer = await server.accept();
   * await client.send(message("start"));
   * await client.close();
   * for await (const { message: msg, time } of peer.withTimes()) {
   *   assert.equal(msg.type, "start");
   *   assert.ok(time > 0 && time <= performance.now());
   * }
   * ```
   */
  withTimes(): AsyncIterableIterator<TimedMessage> {
    this._pull("iterate");
    return new PortIterator(
      this.#inbox,
      (message, _tag, time) => ({ message, time }),
      () => this._readerGone(),
    );
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
   * Closes the port: sends what is queued, then ends the connection (or,
   * for a server, every connection), so the peer sees end of stream.
   * Messages that arrived before can still be read. Closing twice is
   * harmless.
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
    this.#byPeer = false;
    this.#closed = true;
    this.#closing ??= this._shutdown();
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

  /**
   * For subclasses: queues a message to send (it is checked first). Returns
   * a promise only to make the sender wait.
   *
   * @param msg The message.
   * @returns A promise to wait for, or undefined.
   */
  protected abstract _put(msg: Message): Promise<void> | undefined;

  /**
   * For subclasses: called on the first use that reads the port, and on
   * each use that writes it.
   *
   * @param reading Whether the use reads the port.
   */
  protected abstract _start(reading: boolean): void;

  /**
   * For subclasses: a reader stopped reading (an iteration ended with break
   * or return(), or the readable was cancelled).
   */
  protected _readerGone(): void {}

  /**
   * For subclasses: closes what the port holds. Called once.
   *
   * @returns When everything is closed.
   */
  protected abstract _shutdown(): Promise<void>;

  /**
   * For subclasses: what closing the writable does.
   *
   * @returns When it is done.
   */
  protected _closeWritable(): Promise<void> {
    return this.close();
  }

  /**
   * For subclasses: the inbox that received messages go into. It holds
   * messages, each tagged with the port it came from.
   *
   * @returns The inbox.
   * @ignore
   */
  protected get _inbox(): Inbox<Message, unknown> {
    return this.#inbox;
  }

  /**
   * For subclasses: the port was closed from the far side (the peer went
   * away or the connection failed). Closes it, and keeps the error, if any,
   * as the cause of later PortClosedErrors.
   *
   * @param error Why, if it failed.
   * @returns When it is closed.
   */
  protected _lost(error?: Error): Promise<void> {
    if (!this.#closing) this.#byPeer = true;
    this.#error ??= error;
    this.#closed = true;
    this.#closing ??= this._shutdown();
    return this.#closing;
  }

  /**
   * For subclasses: the error that closed the port, if any.
   *
   * @returns The error, or undefined.
   */
  protected get _error(): Error | undefined {
    return this.#error;
  }

  /**
   * For subclasses: the port is about to be read with receive(), poll() or
   * iteration. Throws TypeError if it is read through its readable.
   *
   * @param action What the caller does, for the error message.
   */
  protected _pull(action: string): void {
    if (this.#mode === "pull") {
      this._start(true);
      return;
    }
    if (this.#mode === "stream") {
      throw new TypeError(
        `Cannot ${action}: ${this.#kind} ${this.name} is being read through its readable`,
      );
    }
    this.#mode = "pull";
    this._start(true);
  }

  #put(msg: Message): Promise<void> | undefined {
    if (this.#closed) {
      throw new PortClosedError(this.name, `send ${describe(msg)}`, {
        cause: this.#error,
      });
    }
    this._start(false);
    return this._put(msg);
  }

  #endWritable(writable: WritableStream<Message>): Promise<void> {
    if (this.#writable === writable) this.#writable = undefined;
    return this._closeWritable();
  }
}
