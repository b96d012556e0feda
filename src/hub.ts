// Copyright 2026 the midisock authors. MIT license.

import { WRITERS } from "./_conn.ts";
import { encode } from "./encode.ts";
import type { Message } from "./message.ts";
import { PortEvent } from "./port_event.ts";
import type { SocketPort } from "./socket_port.ts";

/** Options for {@linkcode BroadcastHub}. */
export interface BroadcastHubOptions {
  /**
   * The most bytes that may wait in one client's queue. A single message
   * larger than this still goes to a client whose queue is empty.
   *
   * @default {1048576}
   */
  maxQueuedBytes?: number;
  /**
   * What to do with a client whose queue is full: `"disconnect"` it (its
   * queue is dropped and counted, and a `slowclient` event fires), or
   * `"wait"` for it, which holds the sender back and loses nothing.
   *
   * @default {"disconnect"}
   */
  slowClient?: "disconnect" | "wait";
  /**
   * With `slowClient: "disconnect"`, how long in milliseconds a client's
   * queue may stay full before the client is disconnected. Meanwhile send()
   * waits, so a sender that bursts faster than the network drains is held
   * back rather than healthy clients cut off. A client that is not reading
   * at all holds the others back once, for this long.
   *
   * @default {1000}
   */
  slowClientTimeout?: number;
}

/** Counters of a {@linkcode BroadcastHub}. */
export interface BroadcastHubStats {
  /** Messages broadcast (each encoded once). */
  messages: number;
  /** Messages queued for a client, summed over clients. */
  deliveries: number;
  /** Clients disconnected because they fell behind. */
  slowClients: number;
  /** Bytes dropped with the slow clients. */
  droppedBytes: number;
}

/**
 * Sends each message to many ports: it encodes the message once and queues
 * the same bytes for every port. Each port has a bounded queue. A port whose
 * queue stays full for `slowClientTimeout` is disconnected (the default), or
 * with `slowClient: "wait"` it holds the sender back. A port that fails is dropped and never stops
 * delivery to the others. Nothing is dropped without a count and an event.
 *
 * A {@linkcode PortServer} has one for its clients, as `server.hub`.
 *
 * @example Broadcasting to two ports
 * ```ts
 * import { BroadcastHub, connect, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0);
 * await using a = await connect("127.0.0.1", server.port);
 * await using b = await connect("127.0.0.1", server.port);
 * await using peerA = await server.accept();
 * await using peerB = await server.accept();
 *
 * const hub = new BroadcastHub();
 * hub.add(peerA);
 * hub.add(peerB);
 * await hub.send(message("start"));
 * assert.deepEqual(await a.receive(), message("start"));
 * assert.deepEqual(await b.receive(), message("start"));
 * assert.equal(hub.stats.deliveries, 2);
 * ```
 */
export class BroadcastHub extends EventTarget {
  #ports = new Set<SocketPort>();
  #max: number;
  #wait: boolean;
  #timeout: number;
  #last: Promise<void> = Promise.resolve();
  #pending = 0; // sends in the slow path, not yet delivered
  #writable: WritableStream<Message> | undefined;
  #stats: BroadcastHubStats = {
    messages: 0,
    deliveries: 0,
    slowClients: 0,
    droppedBytes: 0,
  };

  /**
   * Makes a hub with no ports.
   *
   * @param options The queue bound and what to do with slow clients.
   * @throws {RangeError} For a bad option.
   */
  constructor(options: BroadcastHubOptions = {}) {
    super();
    const max = options.maxQueuedBytes ?? 1024 * 1024;
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(
        `Invalid maxQueuedBytes option: expected a positive integer, got ${max}`,
      );
    }
    const slow = options.slowClient ?? "disconnect";
    if (slow !== "disconnect" && slow !== "wait") {
      throw new RangeError(
        `Invalid slowClient option: expected "disconnect" or "wait", got ${
          JSON.stringify(slow)
        }`,
      );
    }
    const timeout = options.slowClientTimeout ?? 1000;
    if (typeof timeout !== "number" || !(timeout >= 0)) {
      throw new RangeError(
        `Invalid slowClientTimeout option: expected a number of milliseconds >= 0, got ${timeout}`,
      );
    }
    this.#max = max;
    this.#wait = slow === "wait";
    this.#timeout = timeout;
  }

  /** The ports that receive broadcasts. */
  get ports(): SocketPort[] {
    return [...this.#ports];
  }

  /** Counters of messages, deliveries and slow clients. */
  get stats(): BroadcastHubStats {
    return { ...this.#stats };
  }

  /**
   * Adds a port. It receives every message broadcast from now on.
   *
   * @param port An open port.
   */
  add(port: SocketPort): void {
    if (!WRITERS.has(port)) {
      throw new TypeError("Cannot add to the hub: expected a SocketPort");
    }
    this.#ports.add(port);
  }

  /**
   * Removes a port.
   *
   * @param port The port.
   * @returns Whether it was there.
   */
  delete(port: SocketPort): boolean {
    return this.#ports.delete(port);
  }

  /**
   * Broadcasts a message to every port. The message is checked and encoded
   * once. It resolves at once while every port's queue has room. When a
   * queue is full it waits: with `slowClient: "wait"` until the port has
   * room, and with `"disconnect"` for at most `slowClientTimeout`, after
   * which the port is disconnected. Calls that are not awaited still go out
   * in order.
   *
   * @param msg The message.
   * @throws {TypeError} For a bad message (nothing is sent).
   * @throws {RangeError} For a value out of range.
   */
  send(msg: Message): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = encode(msg);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#stats.messages++;
    // The fast path: no send is waiting, so the ports with room get the
    // message now; only full ones (if any) are waited for.
    if (this.#pending === 0) {
      const full = this.#deliverToRoomy(bytes);
      if (full.length === 0) return Promise.resolve();
      return this.#queue(() => this.#waitForFull(full, bytes));
    }
    // Otherwise it goes out after the sends that wait, in order.
    return this.#queue(() =>
      this.#waitForFull(this.#deliverToRoomy(bytes), bytes)
    );
  }

  #queue(deliver: () => Promise<void>): Promise<void> {
    this.#pending++;
    this.#last = this.#last.then(deliver).finally(() => this.#pending--);
    return this.#last;
  }

  /**
   * A stream that broadcasts each message written to it.
   *
   * @example Piping into the hub
   * ```ts
   * import { BroadcastHub, message } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * const hub = new BroadcastHub();
   * await ReadableStream.from([message("clock")]).pipeTo(hub.writable);
   * assert.equal(hub.stats.messages, 1);
   * ```
   */
  get writable(): WritableStream<Message> {
    // Once a pipe closes it, the next use gets a fresh stream.
    const writable: WritableStream<Message> = this.#writable ??
      new WritableStream<Message>({
        write: (msg) => this.send(msg),
        close: () => {
          if (this.#writable === writable) this.#writable = undefined;
        },
        abort: () => {
          if (this.#writable === writable) this.#writable = undefined;
        },
      });
    this.#writable = writable;
    return writable;
  }

  // Whether a queue of `queued` bytes can take `n` more. A message larger
  // than the bound still goes into an empty queue.
  #room(queued: number, n: number): boolean {
    return queued === 0 || queued + n <= this.#max;
  }

  // Queues the message for every port with room, and returns the full ones.
  #deliverToRoomy(bytes: Uint8Array): SocketPort[] {
    const full: SocketPort[] = [];
    for (const port of this.#ports) {
      const writer = WRITERS.get(port)!;
      if (writer.closed) {
        this.#ports.delete(port);
      } else if (this.#room(writer.queuedBytes, bytes.length)) {
        writer.enqueue(bytes);
        this.#stats.deliveries++;
      } else {
        full.push(port);
      }
    }
    return full;
  }

  // Waits for the full ports side by side, so several stalled clients cost
  // one timeout, not many, and queues the message for each as it has room.
  async #waitForFull(full: SocketPort[], bytes: Uint8Array): Promise<void> {
    const n = bytes.length;
    const below = Math.max(1, this.#max - n + 1);
    await Promise.all(full.map(async (port) => {
      const writer = WRITERS.get(port)!;
      try {
        if (this.#wait) {
          await writer.waitBelow(below);
        } else if (!await this.#waitFor(writer.waitBelow(below))) {
          // Its queue and this message are dropped, and counted.
          this.#disconnect(port, writer.queuedBytes + n);
          return;
        }
        writer.enqueue(bytes);
        this.#stats.deliveries++;
      } catch {
        // The port failed or closed: it leaves (its port says why, and the
        // server fires disconnect); the others carry on.
        this.#ports.delete(port);
      }
    }));
  }

  // Resolves true if `drained` settles within the slow-client timeout.
  async #waitFor(drained: Promise<void>): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#timeout);
    });
    try {
      return await Promise.race([drained.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #disconnect(port: SocketPort, dropped: number): void {
    this.#ports.delete(port);
    this.#stats.slowClients++;
    this.#stats.droppedBytes += dropped;
    port.abort();
    this.dispatchEvent(new PortEvent("slowclient", port, dropped));
  }
}
