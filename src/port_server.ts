// Copyright 2026 the midisock authors. MIT license.

import { PANIC_MESSAGES, RESET_MESSAGES } from "./_channel_mode.ts";
import { Inbox, wireSize } from "./_inbox.ts";
import { formatAddress } from "./address.ts";
import { PortClosedError } from "./errors.ts";
import { BroadcastHub, type BroadcastHubOptions } from "./hub.ts";
import type { Message } from "./message.ts";
import { PortEvent } from "./port_event.ts";
import { SocketPort, type SocketPortOptions } from "./socket_port.ts";

/** Options for {@linkcode PortServer}: for its clients and its hub. */
export interface PortServerOptions
  extends SocketPortOptions, BroadcastHubOptions {}

/** A message and the client it came from (mido's `yield_ports`). */
export interface ReceivedMessage {
  /** The client that sent it. */
  port: SocketPort;
  /** The message. */
  message: Message;
}

/** Counters of a {@linkcode PortServer}. */
export interface PortServerStats {
  /** Clients connected now (adopted by the server). */
  clients: number;
  /** Clients connected in all. */
  accepted: number;
  /** Messages received from all clients. */
  received: number;
  /** Bytes from clients that made no message, summed over all clients. */
  skippedBytes: number;
  /** Clients disconnected for falling behind. */
  slowClients: number;
  /** Bytes dropped with slow clients. */
  droppedBytes: number;
}

/** The events of a {@linkcode PortServer}. */
export interface PortServerEventMap {
  /** A client was adopted by the server. */
  connect: PortEvent;
  /** An adopted client went away. */
  disconnect: PortEvent;
  /** A client fell too far behind and was disconnected. */
  slowclient: PortEvent;
}

// Bytes of received messages held for the reader, summed over clients.
const INBOX_BYTES = 256 * 1024;

/** An IPv6 address without its brackets: `[::1]` is `::1`. */
function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function listen(host: string, port: number): Deno.TcpListener {
  if (host !== "") {
    return Deno.listen({ hostname: unbracket(host), port, transport: "tcp" });
  }
  // Every interface: IPv6 and IPv4 on one socket where the system has IPv6.
  try {
    return Deno.listen({ hostname: "::", port, transport: "tcp" });
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) throw error;
    return Deno.listen({ hostname: "0.0.0.0", port, transport: "tcp" });
  }
}

/**
 * A socket-port server: mido's PortServer. It listens as soon as it is made,
 * and it is a port itself: what clients send comes out of it, and what you
 * send to it goes to every client.
 *
 * Used as a port (receive, poll, iteration, readable, send, writable), it
 * adopts every client on its own, including those that connected before.
 * {@linkcode PortServer.accept} instead hands the next client to you.
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
 */
export class PortServer extends EventTarget
  implements AsyncIterable<Message>, AsyncDisposable {
  #listener: Deno.TcpListener;
  #host: string;
  #options: PortServerOptions;
  #hub: BroadcastHub;
  #ports = new Set<SocketPort>();
  #waiting: SocketPort[] = [];
  #acceptors: PromiseWithResolvers<SocketPort>[] = [];
  #adopting = false;
  #settling: Promise<void> | undefined;
  #mode: "stream" | "pull" | undefined;
  #inbox = new Inbox<ReceivedMessage>(
    INBOX_BYTES,
    (entry) => wireSize(entry.message),
  );
  #pumps = new Set<Promise<void>>();
  #acceptLoop: Promise<void>;
  #readable: ReadableStream<Message> | undefined;
  #writable: WritableStream<Message> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #accepted = 0;
  #received = 0;
  #skipped = 0;

  /**
   * Starts listening.
   *
   * @param host A DNS name, an IPv4 or IPv6 address, or `""` for every
   * interface.
   * @param port A TCP port, or 0 for a free one ({@linkcode PortServer.port}
   * tells which).
   * @param options Options for the clients' ports and for the hub.
   * @throws {Deno.errors.AddrInUse} If the port is taken. The message names
   * `host:port`.
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
    super();
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(
        `Invalid port for ${
          JSON.stringify(host)
        }: expected an integer in 0..65535, got ${port}`,
      );
    }
    this.#host = host;
    this.#options = options;
    this.#hub = new BroadcastHub(options);
    this.#hub.addEventListener("slowclient", (event) => {
      const e = event as PortEvent;
      this.dispatchEvent(new PortEvent("slowclient", e.port, e.droppedBytes));
    });
    try {
      this.#listener = listen(host, port);
    } catch (error) {
      if (error instanceof Error) {
        const Ctor = error.constructor as new (
          message: string,
          options: ErrorOptions,
        ) => Error;
        throw new Ctor(
          `Cannot listen on ${
            formatAddress(unbracket(host), port)
          }: ${error.message}`,
          { cause: error },
        );
      }
      throw error;
    }
    this.#acceptLoop = this.#runAccept();
  }

  /** The TCP port that the server listens on. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** The host that the server was given (`""` for every interface). */
  get host(): string {
    return this.#host;
  }

  /** The server's name: `host:port`, or `[v6]:port`. */
  get name(): string {
    return formatAddress(unbracket(this.#host), this.port);
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The clients that the server has adopted and that are still connected. */
  get ports(): SocketPort[] {
    return [...this.#ports];
  }

  /** The hub that broadcasts what the server sends. */
  get hub(): BroadcastHub {
    return this.#hub;
  }

  /** Counters of clients, messages and dropped bytes. */
  get stats(): PortServerStats {
    let skipped = this.#skipped;
    for (const port of this.#ports) skipped += port.stats.skippedBytes;
    const hub = this.#hub.stats;
    return {
      clients: this.#ports.size,
      accepted: this.#accepted,
      received: this.#received,
      skippedBytes: skipped,
      slowClients: hub.slowClients,
      droppedBytes: hub.droppedBytes,
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
    if (options.block === false) {
      if (this.#closed) throw new PortClosedError(this.name, "accept");
      return this.#waiting.shift() ?? null;
    }
    if (this.#closed) {
      return Promise.reject(new PortClosedError(this.name, "accept"));
    }
    const waiting = this.#waiting.shift();
    if (waiting) return Promise.resolve(waiting);
    const acceptor = Promise.withResolvers<SocketPort>();
    this.#acceptors.push(acceptor);
    const signal = options.signal;
    if (signal) {
      signal.throwIfAborted();
      const onAbort = () => {
        const i = this.#acceptors.indexOf(acceptor);
        if (i >= 0) this.#acceptors.splice(i, 1);
        acceptor.reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      acceptor.promise.finally(() =>
        signal.removeEventListener("abort", onAbort)
      ).catch(() => {});
    }
    return acceptor.promise;
  }

  /**
   * Broadcasts a message to every client, through the hub: it is encoded
   * once. Clients that connected before this call receive it too.
   *
   * @param msg The message.
   * @throws {PortClosedError} If the server is closed.
   * @throws {TypeError} For a bad message (nothing is sent).
   *
   * @example Sending to every client
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using a = await connect("127.0.0.1", server.port);
   * await using b = await connect("127.0.0.1", server.port);
   * while (server.stats.accepted < 2) await new Promise((r) => setTimeout(r, 1));
   * await server.send(message("start"));
   * assert.deepEqual(await a.receive(), message("start"));
   * assert.deepEqual(await b.receive(), message("start"));
   * ```
   */
  send(msg: Message): Promise<void> {
    if (this.#closed) {
      const type = (msg as { type?: unknown } | null)?.type;
      return Promise.reject(
        new PortClosedError(
          this.name,
          `send ${typeof type === "string" ? type : "message"}`,
        ),
      );
    }
    if (!this.#adopting) {
      // The first send: take in the clients whose connections the system
      // has already accepted but this process has not yet picked up.
      this.#adoptAll();
      this.#settling = this.#settleAccepts();
    }
    const settling = this.#settling;
    if (!settling) return this.#hub.send(msg);
    // Sends made while the server settles go out after it, in order.
    const sent = settling.then(() => this.#hub.send(msg));
    const tail = sent.then(() => {}, () => {});
    this.#settling = tail;
    tail.then(() => {
      if (this.#settling === tail) this.#settling = undefined;
    });
    return sent;
  }

  // Yields to the event loop until the accept loop has taken in every
  // connection that was waiting (two quiet turns in a row).
  async #settleAccepts(): Promise<void> {
    let quiet = 0;
    for (let turn = 0; turn < 1000 && quiet < 2 && !this.#closed; turn++) {
      const before = this.#accepted;
      await new Promise((resolve) => setTimeout(resolve, 0));
      quiet = this.#accepted === before ? quiet + 1 : 0;
    }
  }

  /**
   * A stream that broadcasts each message written to it to every client.
   * Closing it does not close the server, and the next use of `writable`
   * gives a fresh stream, so one pipe can follow another.
   *
   * @example Piping a client's messages to every other client
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using listener = await connect("127.0.0.1", server.port);
   * while (server.stats.accepted < 1) await new Promise((r) => setTimeout(r, 1));
   * await ReadableStream.from([message("clock")]).pipeTo(server.writable);
   * assert.deepEqual(await listener.receive(), message("clock"));
   * ```
   */
  get writable(): WritableStream<Message> {
    this.#adoptAll();
    const writable: WritableStream<Message> = this.#writable ??
      new WritableStream<Message>({
        write: (msg) => this.send(msg),
        close: () => this.#forgetWritable(writable),
        abort: () => this.#forgetWritable(writable),
      });
    this.#writable = writable;
    return writable;
  }

  /**
   * The messages of every client, merged, in order within each client. Use
   * it instead of receive(), poll() and iteration, not with them.
   *
   * @example Reading the merged stream
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * await client.send(message("stop"));
   * const reader = server.readable.getReader();
   * assert.deepEqual((await reader.read()).value, message("stop"));
   * reader.releaseLock();
   * ```
   */
  get readable(): ReadableStream<Message> {
    if (this.#mode === "pull") {
      throw new TypeError(
        `Cannot use the readable of server ${this.name}: it is being read with receive(), poll() or iteration`,
      );
    }
    if (this.#readable) return this.#readable;
    this.#mode = "stream";
    this.#adoptAll();
    const inbox = this.#inbox;
    this.#readable = new ReadableStream<Message>({
      async pull(controller) {
        const first = inbox.shift() ?? await inbox.next();
        if (first === undefined) {
          controller.close();
          return;
        }
        controller.enqueue(first.message);
        while (inbox.length > 0 && (controller.desiredSize ?? 0) > 0) {
          controller.enqueue(inbox.shift()!.message);
        }
      },
    }, { highWaterMark: 64 });
    return this.#readable;
  }

  /**
   * Waits for the next message from any client.
   *
   * @param options A signal to stop waiting.
   * @returns The message.
   * @throws {PortClosedError} If the server is closed and no message is left.
   *
   * @example Receiving from a client
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * await client.send(message("continue"));
   * assert.deepEqual(await server.receive(), message("continue"));
   * ```
   */
  async receive(options: { signal?: AbortSignal } = {}): Promise<Message> {
    return (await this.receiveWithPort(options)).message;
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
    options: { signal?: AbortSignal } = {},
  ): Promise<ReceivedMessage> {
    this.#pull("receive");
    const entry = this.#inbox.shift() ?? await this.#inbox.next(options.signal);
    if (entry === undefined) throw new PortClosedError(this.name, "receive");
    return entry;
  }

  /**
   * Returns a message that has arrived from any client, or undefined at
   * once.
   *
   * @returns The oldest pending message, or undefined.
   *
   * @example Polling
   * ```ts
   * import { PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * assert.equal(server.poll(), undefined);
   * ```
   */
  poll(): Message | undefined {
    this.#pull("poll");
    return this.#inbox.shift()?.message;
  }

  /**
   * Yields the messages that have arrived from any client, without waiting.
   *
   * @returns An iterator of the pending messages.
   *
   * @example Draining
   * ```ts
   * import { PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * assert.deepEqual([...server.iterPending()], []);
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
  async *withPorts(): AsyncIterableIterator<ReceivedMessage> {
    this.#pull("iterate");
    const inbox = this.#inbox;
    while (true) {
      const entry = inbox.shift() ?? await inbox.next();
      if (entry === undefined) return;
      yield entry;
    }
  }

  /**
   * Yields each message from any client, in order within each client, until
   * the server closes.
   *
   * @returns An async iterator of messages.
   *
   * @example A simple server
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using client = await connect("127.0.0.1", server.port);
   * await client.send(message("start"));
   * for await (const msg of server) {
   *   assert.equal(msg.type, "start");
   *   break;
   * }
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Message> {
    for await (const entry of this.withPorts()) yield entry.message;
  }

  /**
   * Sends mido's reset messages to every client: All Notes Off and Reset All
   * Controllers on every channel.
   *
   * @example Resetting every client
   * ```ts
   * import { PortServer } from "@x/midisock";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await server.reset();
   * ```
   */
  async reset(): Promise<void> {
    if (this.#closed) return;
    for (const msg of RESET_MESSAGES) await this.send(msg);
  }

  /**
   * Sends All Sounds Off on every channel to every client (mido's panic).
   *
   * @example Silencing every client
   * ```ts
   * import { PortServer } from "@x/midisock";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await server.panic();
   * ```
   */
  async panic(): Promise<void> {
    if (this.#closed) return;
    for (const msg of PANIC_MESSAGES) await this.send(msg);
  }

  /**
   * Closes the listener and every client (each flushes what is queued for
   * it first). Iteration over the server ends.
   *
   * @example Closing
   * ```ts
   * import { PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const server = new PortServer("127.0.0.1", 0);
   * await server.close();
   * assert.equal(server.closed, true);
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /**
   * Closes the server, for `await using`.
   *
   * @example Closing at the end of a block
   * ```ts
   * import { PortServer } from "@x/midisock";
   *
   * {
   *   await using server = new PortServer("127.0.0.1", 0);
   * } // closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Adds a listener, typed for the server's events.
   *
   * @param type `connect`, `disconnect` or `slowclient`.
   * @param listener The listener.
   * @param options Listener options.
   */
  override addEventListener<K extends keyof PortServerEventMap>(
    type: K,
    listener: (this: PortServer, event: PortServerEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Adds a listener for any event type.
   *
   * @param type The event type.
   * @param listener The listener.
   * @param options Listener options.
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener, options);
  }

  #forgetWritable(writable: WritableStream<Message>): void {
    if (this.#writable === writable) this.#writable = undefined;
  }

  #pull(action: string): void {
    if (this.#mode === "stream") {
      throw new TypeError(
        `Cannot ${action}: server ${this.name} is being read through its readable`,
      );
    }
    this.#mode = "pull";
    this.#adoptAll();
  }

  #adoptAll(): void {
    if (this.#adopting) return;
    this.#adopting = true;
    for (const port of this.#waiting.splice(0)) this.#adopt(port);
  }

  #adopt(port: SocketPort): void {
    this.#ports.add(port);
    this.#hub.add(port);
    this.dispatchEvent(new PortEvent("connect", port));
    const pump = this.#pumpClient(port);
    this.#pumps.add(pump);
    pump.finally(() => this.#pumps.delete(pump));
  }

  async #pumpClient(port: SocketPort): Promise<void> {
    const inbox = this.#inbox;
    try {
      for await (const message of port) {
        this.#received++;
        inbox.push({ port, message });
        // Once the server closes, its inbox has ended and always has room:
        // what the client's port still holds is drained into it.
        const space = inbox.space();
        if (space) await space;
      }
    } finally {
      await port.close();
      this.#ports.delete(port);
      this.#hub.delete(port);
      this.#skipped += port.stats.skippedBytes;
      this.dispatchEvent(new PortEvent("disconnect", port));
    }
  }

  async #runAccept(): Promise<void> {
    while (true) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        // The listener was closed (or failed): no more clients.
        return;
      }
      if (this.#closed) {
        conn.close();
        return;
      }
      this.#accepted++;
      const port = new SocketPort(conn, this.#options);
      const acceptor = this.#acceptors.shift();
      if (acceptor) acceptor.resolve(port);
      else if (this.#adopting) this.#adopt(port);
      else this.#waiting.push(port);
    }
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const acceptor of this.#acceptors.splice(0)) {
      acceptor.reject(new PortClosedError(this.name, "accept"));
    }
    await this.#acceptLoop;
    const ports = [...this.#ports, ...this.#waiting.splice(0)];
    await Promise.all(ports.map((port) => port.close()));
    this.#inbox.end(); // wakes pumps that wait for room
    await Promise.all([...this.#pumps]);
  }
}
