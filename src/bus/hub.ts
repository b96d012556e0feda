// Copyright 2026 the midisock authors. MIT license.

import { timeoutSignal } from "../util/abort.ts";
import { encode } from "../midi/encode.ts";
import type { Message } from "../midi/message.ts";
import { PortEvent } from "./events.ts";
import type { SocketPort } from "../port/socket_port.ts";
import { TypedEventTarget } from "../util/typed_event_target.ts";

/**
 * What the hub needs of a client: a queue of encoded bytes. A
 * {@linkcode SocketPort} over any transport is one, so every kind of client
 * joins the same hub, with the same queues, limits and counters.
 */
export interface HubClient {
  /** The client's name, for events. */
  readonly name: string;
  /** Bytes queued for the client and not yet written. */
  readonly queuedBytes: number;
  /** Bytes that were queued for the client and never written. */
  readonly droppedBytes: number;
  /**
   * Queues the bytes of whole messages; throws if the client is closed.
   * `sender` names who sent them (none: the server itself), for a client
   * that shows it (a browser page); others ignore it.
   */
  enqueue(bytes: Uint8Array, sender?: string): void;
  /** Resolves when fewer than `bytes` are queued; rejects on `signal`. */
  waitForRoom(bytes: number, signal?: AbortSignal): Promise<void>;
  /** Drops what is queued (counting it) and closes the client. */
  abort(): Promise<void>;
}

/** Options for {@linkcode BroadcastHub}. */
export interface BroadcastHubOptions {
  /**
   * The most bytes that may wait in one client's queue. A single message
   * larger than this still goes to a client whose queue is empty. For a
   * client that shows who sent what (a browser page), the line that names
   * a message's sender (at most 80 bytes) may come on top of it.
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
   * With `slowClient: "disconnect"`, how long in milliseconds a client may
   * hold senders back. A send that finds a client's queue full waits for
   * it, so a sender that bursts faster than the network drains is held
   * back rather than healthy clients cut off. A client is disconnected when
   * one such wait lasts this long, or when it has kept senders waiting this
   * long in total, beyond the quickest client that was waited for with it,
   * since its queue was last empty: so a client that reads, but slowly,
   * cannot hold the other clients back for long. A client that is the only
   * one a send waits for holds back no other client; it paces the sender,
   * and is cut off only when one wait lasts this long.
   *
   * @default {1000}
   */
  slowClientTimeout?: number;
}

/** Counters of a {@linkcode BroadcastHub}. */
export interface BroadcastHubStats {
  /** Messages broadcast (each encoded once). */
  messages: number;
  /** Bytes encoded: the sum of the messages' sizes, one encoding each. */
  encodedBytes: number;
  /** Messages queued for a client, summed over clients. */
  deliveries: number;
  /** Clients disconnected because they fell behind. */
  slowClients: number;
  /** Bytes dropped with the slow clients. */
  droppedBytes: number;
}

/** Options for {@linkcode BroadcastHub.send}. */
export interface BroadcastOptions {
  /**
   * Where the message came from: it goes to every client but this one.
   * A {@linkcode PortServer} with `relay: true` gives the client that sent
   * the message, so that it never comes back to its sender.
   */
  from?: HubClient;
  /**
   * Called when the message is handed to the clients: at once, or once the
   * sends before it that wait for a full client are done. A client added
   * before that call gets the message; one added after it does not. (A
   * PortServer with `snapshot` keeps the bus's state this way, so that a
   * late joiner's snapshot and the messages it gets next never overlap.)
   */
  delivered?: () => void;
}

/** The events of a {@linkcode BroadcastHub}. */
export interface BroadcastHubEventMap {
  /** A client fell too far behind and was disconnected. */
  slowclient: PortEvent;
}

/**
 * Sends each message to many clients: it encodes the message once and
 * queues the same bytes for every client ({@linkcode HubClient}: any
 * {@linkcode SocketPort}). Each client has a bounded queue. A client that
 * holds senders back for `slowClientTimeout` is disconnected (the default),
 * or with `slowClient: "wait"` it holds the sender back. A client that
 * fails is dropped and never stops delivery to the others. Nothing is
 * dropped without a count and an event.
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
export class BroadcastHub extends TypedEventTarget<BroadcastHubEventMap> {
  #clients = new Set<HubClient>();
  #max: number;
  #wait: boolean;
  #timeout: number;
  // How long each client has held senders back beyond the quickest, in ms,
  // since its queue was last empty.
  #blame = new Map<HubClient, number>();
  #last: Promise<void> = Promise.resolve();
  #pending = 0; // sends in the slow path, not yet delivered
  #writable: WritableStream<Message> | undefined;
  #stats: BroadcastHubStats = {
    messages: 0,
    encodedBytes: 0,
    deliveries: 0,
    slowClients: 0,
    droppedBytes: 0,
  };

  /**
   * Makes a hub with no clients.
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

  /** The clients that receive broadcasts. */
  get ports(): HubClient[] {
    return [...this.#clients];
  }

  /** Counters of messages, deliveries and slow clients. */
  get stats(): BroadcastHubStats {
    return { ...this.#stats };
  }

  /**
   * Adds a client. It receives every message broadcast from now on.
   *
   * @param client An open port, or any {@linkcode HubClient}.
   * @throws {TypeError} If it is not a HubClient.
   */
  add(client: HubClient): void {
    const c = client as Partial<HubClient> | null;
    if (
      typeof c?.enqueue !== "function" ||
      typeof c.waitForRoom !== "function" || typeof c.abort !== "function"
    ) {
      throw new TypeError(
        "Cannot add to the hub: expected a port (a HubClient, such as a SocketPort)",
      );
    }
    this.#clients.add(client);
  }

  /**
   * Removes a client.
   *
   * @param client The client.
   * @returns Whether it was there.
   */
  delete(client: HubClient): boolean {
    this.#blame.delete(client);
    return this.#clients.delete(client);
  }

  /**
   * Broadcasts a message to every client (but the one it came from). The
   * message is checked and encoded once. It resolves at once while every
   * client's queue has room. When a queue is full it waits: with
   * `slowClient: "wait"` until the client has room, and with `"disconnect"`
   * until the client has room or has held senders back too long (see
   * `slowClientTimeout`), and then it is disconnected. Calls that are not
   * awaited still go out in order.
   *
   * @param msg The message.
   * @param options Where the message came from.
   * @returns When every client has it queued (or was disconnected).
   * @throws {TypeError} For a bad message (nothing is sent).
   * @throws {RangeError} For a value out of range.
   */
  send(msg: Message, options: BroadcastOptions = {}): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = encode(msg);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.sendBytes(bytes, options) ?? Promise.resolve();
  }

  /**
   * Broadcasts bytes that are already encoded, whole messages, as
   * {@linkcode BroadcastHub.send} does, and counts them as one message.
   * Returns a promise only when it has to wait for a full queue.
   *
   * @param bytes One encoded message.
   * @param options Where it came from.
   * @returns A promise to wait for, or undefined.
   */
  sendBytes(
    bytes: Uint8Array,
    options: BroadcastOptions = {},
  ): Promise<void> | undefined {
    this.#stats.messages++;
    this.#stats.encodedBytes += bytes.length;
    const from = options.from;
    // For a client that shows who sent what (a browser page): none for the
    // server's own.
    const sender = from?.name;
    // The fast path: no send is waiting, so the clients with room get the
    // message now; only full ones (if any) are waited for.
    if (this.#pending === 0) {
      options.delivered?.();
      const full = this.#deliverToRoomy(bytes, from, sender);
      if (full === undefined) return undefined;
      return this.#queue(() => this.#waitForFull(full, bytes, sender));
    }
    // Otherwise it goes out after the sends that wait, in order.
    return this.#queue(() => {
      options.delivered?.();
      const full = this.#deliverToRoomy(bytes, from, sender);
      return full ? this.#waitForFull(full, bytes, sender) : Promise.resolve();
    });
  }

  /**
   * A stream that broadcasts each message written to it. Once a pipe closes
   * it, the next use gives a fresh stream.
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
    const forget = () => {
      if (this.#writable === writable) this.#writable = undefined;
    };
    const writable: WritableStream<Message> = this.#writable ??
      new WritableStream<Message>({
        write: (msg) => this.send(msg),
        close: forget,
        abort: forget,
      });
    this.#writable = writable;
    return writable;
  }

  #queue(deliver: () => Promise<void>): Promise<void> {
    this.#pending++;
    this.#last = this.#last.then(deliver).finally(() => this.#pending--);
    return this.#last;
  }

  // Whether a queue of `queued` bytes can take `n` more. A message larger
  // than the bound still goes into an empty queue.
  #room(queued: number, n: number): boolean {
    return queued === 0 || queued + n <= this.#max;
  }

  // Queues the message for every client with room, and returns the full
  // ones with the number of clients it was for, or undefined if none is
  // full.
  #deliverToRoomy(
    bytes: Uint8Array,
    from: HubClient | undefined,
    sender: string | undefined,
  ): Full | undefined {
    let full: HubClient[] | undefined;
    let targets = 0;
    for (const client of this.#clients) {
      if (client === from) continue;
      targets++;
      try {
        const queued = client.queuedBytes;
        if (queued === 0) this.#blame.delete(client);
        if (this.#room(queued, bytes.length)) {
          client.enqueue(bytes, sender);
          this.#stats.deliveries++;
        } else {
          (full ??= []).push(client);
        }
      } catch {
        // Closed: it leaves (its port says why); the others carry on.
        this.delete(client);
      }
    }
    return full && { clients: full, everyone: full.length === targets };
  }

  // Waits for the full clients side by side, so several stalled clients
  // cost one wait, not many, and queues the message for each as it has
  // room. With "disconnect", a wait ends at slowClientTimeout, or sooner
  // for a client whose blame would reach it.
  async #waitForFull(
    full: Full,
    bytes: Uint8Array,
    sender: string | undefined,
  ): Promise<void> {
    const n = bytes.length;
    const below = Math.max(1, this.#max - n + 1);
    const start = performance.now();
    // When the quickest full client had room; if some client was not full,
    // the quickest had room at once.
    let quickest = full.everyone ? undefined : start;
    await Promise.all(full.clients.map(async (client) => {
      const blame = this.#blame.get(client) ?? 0;
      const limit = full.everyone
        ? this.#timeout
        : Math.max(0, this.#timeout - blame);
      using timeout = this.#wait ? undefined : timeoutSignal(limit);
      const signal = timeout?.signal;
      try {
        await client.waitForRoom(below, signal);
      } catch (error) {
        if (signal?.aborted && error === signal.reason) {
          this.#disconnect(client, bytes, sender);
        } else {
          // It failed or closed: it leaves; the others carry on.
          this.delete(client);
        }
        return;
      }
      const now = performance.now();
      quickest ??= now;
      try {
        client.enqueue(bytes, sender);
        this.#stats.deliveries++;
      } catch {
        this.delete(client);
        return;
      }
      if (this.#wait) return;
      const total = blame + (now - quickest);
      if (total >= this.#timeout && !full.everyone) {
        this.#disconnect(client);
      } else {
        this.#blame.set(client, total);
      }
    }));
  }

  // Cuts a client off: what is queued for it (and `bytes`, the message
  // that found no room, if given) is dropped and counted by the client.
  // The event fires once the client is closed, with every byte it dropped.
  #disconnect(
    client: HubClient,
    bytes?: Uint8Array,
    sender?: string,
  ): void {
    this.delete(client);
    this.#stats.slowClients++;
    const before = client.droppedBytes;
    try {
      if (bytes) client.enqueue(bytes, sender);
    } catch {
      // Closed meanwhile: it dropped its queue already.
    }
    client.abort().catch(() => {}).finally(() => {
      const dropped = client.droppedBytes - before;
      this.#stats.droppedBytes += dropped;
      this.dispatchEvent(
        new PortEvent("slowclient", {
          port: client as SocketPort,
          droppedBytes: dropped,
        }),
      );
    });
  }
}

/** The clients that a send found full, and whether that was all of them. */
interface Full {
  clients: HubClient[];
  everyone: boolean;
}
