// Copyright 2026 the midisock authors. MIT license.

import { asError } from "../util/error_text.ts";
import { sleep } from "../util/abort.ts";
import { type Backoff, exponentialBackoff } from "./backoff.ts";
import { DropEvent } from "../port/events.ts";
import { encode } from "../midi/encode.ts";
import { PortClosedError } from "../port/errors.ts";
import type { Message } from "../midi/message.ts";
import { MidiPort } from "../port/midi_port.ts";
import { NoteTracker } from "../midi/note_tracker.ts";
import { ReconnectEvent } from "./events.ts";
import { RefusedError } from "./refused_error.ts";
import type { SocketPort } from "../port/socket_port.ts";
import { verdictError } from "./verdict.ts";

/** Options for {@linkcode ReconnectingPort}. */
export interface ReconnectingPortOptions {
  /** The port's name. */
  name: string;
  /**
   * How long to wait before each attempt to connect again, from the
   * attempt's number (1 for the first).
   *
   * @default {exponentialBackoff()} (100 ms, doubling, at most 5 s)
   */
  backoff?: Backoff;
  /**
   * How many attempts to connect again may fail in a row before the port
   * gives up and closes, with an error that says how many failed and why
   * the last did. A server that turns the port away for a reason that a
   * retry cannot fix (a {@linkcode RefusedError} for its token or address)
   * closes it at once, with that error; one that is full is tried again.
   *
   * @default {Infinity}
   */
  maxAttempts?: number;
}

/** Counters of a {@linkcode ReconnectingPort}, over all its connections. */
export interface ReconnectingPortStats {
  /** Messages handed to a live connection. */
  sent: number;
  /**
   * Messages sent while disconnected, and so not sent (or sent to a
   * connection that failed under them).
   */
  dropped: number;
  /**
   * Controller, program and pitchwheel values that changed while the port
   * was disconnected, sent once it was connected again.
   */
  restored: number;
  /**
   * Bytes of sent messages that a connection still held when it ended, and
   * so never wrote.
   */
  droppedBytes: number;
  /** Messages received, over every connection. */
  received: number;
  /** How many times the port connected again. */
  reconnects: number;
  /**
   * Notes that the port released for its readers when a connection ended
   * with them on.
   */
  releasedNotes: number;
  /**
   * Sustain pedals that the port let up (CC 64 = 0) for its readers when a
   * connection ended with them down.
   */
  releasedPedals: number;
}

/** What a {@linkcode ReconnectingPort} tells its dial function. */
export interface DialHint {
  /**
   * The active sensing (ms) that the last server answered, or 0: a port
   * dialled with it can expect the next server to answer too.
   */
  sensing: number;
}

// A connection that lasts this long, or hears a byte, was made for good.
const STABLE_MS = 1000;

/** The events of a {@linkcode ReconnectingPort}. */
export interface ReconnectingPortEventMap {
  /** The connection ended: the port will try to connect again. */
  disconnect: ReconnectEvent;
  /** The port waits `delay` ms, then dials for the `attempt`th time. */
  reconnecting: ReconnectEvent;
  /** The port is connected again. */
  reconnect: ReconnectEvent;
  /** Bytes from the server made no message (as a SocketPort's `drop`). */
  drop: DropEvent<SocketPort>;
  /**
   * The port closed: by close(), or because its attempts ran out (then
   * `error` says why).
   */
  close: ErrorEvent;
}

// Bytes of received messages held for the reader.
const INBOX_BYTES = 64 * 1024;

/**
 * A port that outlives its connections: when one ends (the server
 * restarted, the network failed, active sensing found the server dead), it
 * dials again with backoff, and its readers, writers and pipes go on as if
 * nothing happened. {@linkcode connect} with `reconnect` makes one; so can
 * any function that opens a {@linkcode SocketPort}, over any transport.
 *
 * While it is disconnected:
 * - **What it plays is released.** Readers receive a note_off for each
 *   note that the bus had left on, and control_change 64 = 0 for each
 *   pedal down, as soon as the connection ends (the server does the same
 *   for this port's notes, on the other side).
 * - **send() drops, and counts.** A message sent while disconnected is
 *   not queued: it is counted in `stats.dropped`. Nothing is late, and
 *   memory stays bounded. A dropped note_on is a missed note; a dropped
 *   note_off is harmless, as the server released that note. But the last
 *   value of each controller, program and pitchwheel that changed is
 *   kept (16 channels' worth at most) and sent on reconnecting, counted
 *   in `stats.restored`, so the bus ends where the player's controls are.
 * - send() never fails for the link's sake, so a pipe into the port
 *   survives a server restart. It fails once the port is closed.
 *
 * Each connection opens as the first did, hello line included.
 *
 * @example A monitor that survives a server restart
 * ```ts
 * import { connect, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * let server = new PortServer("127.0.0.1", 0);
 * const port = server.port;
 * await using monitor = await connect("127.0.0.1", port, {
 *   reconnect: { backoff: () => 20 },
 * });
 * await server.send(message("note_on", { note: 60 }));
 * assert.equal((await monitor.receive()).type, "note_on");
 *
 * await server.close(); // the monitor lets note 60 go for its readers
 * assert.deepEqual(await monitor.receive(), message("note_off", { note: 60 }));
 *
 * server = new PortServer("127.0.0.1", port);
 * await monitor.ready();
 * await server.send(message("note_on", { note: 62 }));
 * assert.deepEqual(await monitor.receive(), message("note_on", { note: 62 }));
 * await server.close();
 * ```
 */
export class ReconnectingPort extends MidiPort<ReconnectingPortEventMap> {
  #name: string;
  #dial: (signal: AbortSignal, hint: DialHint) => Promise<SocketPort>;
  #sensing = 0; // the active sensing that the last server answered
  #backoff: Backoff;
  #maxAttempts: number;
  #current: SocketPort | undefined;
  #stop = new AbortController();
  #heard = new NoteTracker(); // what the bus left on, for the readers
  #missed = new NoteTracker(); // controllers changed while disconnected
  #life: Promise<void>;
  #waiters: PromiseWithResolvers<void>[] = [];
  #stats: ReconnectingPortStats = {
    sent: 0,
    dropped: 0,
    restored: 0,
    droppedBytes: 0,
    received: 0,
    reconnects: 0,
    releasedNotes: 0,
    releasedPedals: 0,
  };

  /**
   * Makes the port, and starts connecting at once.
   *
   * @param dial Opens one connection, as a SocketPort; it should give up
   * when the signal aborts. The hint says whether the server answered
   * active sensing before (see {@linkcode SocketPortOptions.expectSensing}).
   * @param options The name, and how to retry.
   */
  constructor(
    dial: (signal: AbortSignal, hint: DialHint) => Promise<SocketPort>,
    options: ReconnectingPortOptions,
  ) {
    super("port", INBOX_BYTES);
    const { maxAttempts = Infinity } = options;
    if (
      typeof maxAttempts !== "number" || !(maxAttempts >= 1) ||
      (maxAttempts !== Infinity && !Number.isInteger(maxAttempts))
    ) {
      throw new RangeError(
        `Invalid maxAttempts option: expected an integer >= 1 or Infinity, got ${maxAttempts}`,
      );
    }
    if (
      options.backoff !== undefined && typeof options.backoff !== "function"
    ) {
      throw new TypeError(
        `Invalid backoff option: expected a function, got ${typeof options
          .backoff}`,
      );
    }
    this.#name = options.name;
    this.#dial = dial;
    this.#backoff = options.backoff ?? exponentialBackoff();
    this.#maxAttempts = maxAttempts;
    this.#life = this.#live();
  }

  /** The port's name: the server's `host:port`, or the name given. */
  get name(): string {
    return this.#name;
  }

  /**
   * Whether the port has a connection now.
   *
   * @example Connected
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using port = await connect("127.0.0.1", server.port, {
   *   reconnect: true,
   * });
   * assert.equal(port.connected, true);
   * ```
   */
  get connected(): boolean {
    return this.#current !== undefined && !this.#current.closed;
  }

  /**
   * The connection it has now, or undefined while it is disconnected.
   *
   * @example The address it connected from
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using port = await connect("127.0.0.1", server.port, {
   *   reconnect: true,
   * });
   * assert.equal(port.connection?.remoteAddr.port, server.port);
   * ```
   */
  get connection(): SocketPort | undefined {
    return this.connected ? this.#current : undefined;
  }

  /**
   * Counters over every connection: what was sent, dropped while
   * disconnected, restored and received, and how often it reconnected.
   *
   * @example Nothing dropped
   * ```ts
   * import { connect, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using port = await connect("127.0.0.1", server.port, {
   *   reconnect: true,
   * });
   * await port.send(message("note_on", { note: 60 }));
   * assert.equal(port.stats.sent, 1);
   * assert.equal(port.stats.dropped, 0);
   * ```
   */
  get stats(): ReconnectingPortStats {
    return { ...this.#stats };
  }

  /**
   * Waits until the port is connected: at once if it is.
   *
   * @param signal A signal to stop waiting.
   * @returns When connected; it rejects if the port closes first.
   *
   * @example Waiting for the first connection
   * ```ts
   * import { connect, PortServer } from "@x/midisock";
   *
   * await using server = new PortServer("127.0.0.1", 0);
   * await using port = await connect("127.0.0.1", server.port, {
   *   reconnect: true,
   * });
   * await port.ready();
   * ```
   */
  ready(signal?: AbortSignal): Promise<void> {
    if (this.closed) {
      return Promise.reject(
        new PortClosedError(this.#name, "connect", { cause: this._error }),
      );
    }
    if (this.connected) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    const waiter = Promise.withResolvers<void>();
    this.#waiters.push(waiter);
    signal?.addEventListener("abort", () => {
      const i = this.#waiters.indexOf(waiter);
      if (i >= 0) this.#waiters.splice(i, 1);
      waiter.reject(signal.reason);
    }, { once: true });
    return waiter.promise;
  }

  /**
   * Starts nothing: the port reads from the moment it connects.
   *
   * @param _reading Whether the use reads the port.
   */
  protected _start(_reading: boolean): void {}

  /**
   * Sends on the connection, or drops and counts while there is none.
   *
   * @param msg The message.
   * @returns A promise while the connection's queue is full.
   */
  protected _put(msg: Message): Promise<void> | undefined {
    const port = this.connection;
    if (port === undefined) {
      encode(msg); // a bad message throws, connected or not
      this.#missed.track(msg);
      this.#stats.dropped++;
      return undefined;
    }
    this.#stats.sent++;
    return port.send(msg).catch((error) => {
      this.#stats.sent--;
      if (!(error instanceof PortClosedError)) throw error; // a bad message
      // The connection failed under it; the port goes on.
      this.#stats.dropped++;
      this.#missed.track(msg);
    });
  }

  /**
   * Stops reconnecting, and closes the connection.
   *
   * @returns When it is all closed.
   */
  protected async _shutdown(): Promise<void> {
    this.#stop.abort();
    await this.#current?.close(); // #live counts what it dropped
    this._inbox.end(); // wakes the pump if it waits for room
    await this.#life;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.reject(
        new PortClosedError(this.#name, "connect", { cause: this._error }),
      );
    }
    this.dispatchEvent(
      new ErrorEvent("close", {
        error: this._error,
        message: this._error?.message ?? "",
      }),
    );
  }

  // Connects, reads the connection until it ends, releases what it left
  // on, and connects again, until the port closes or the attempts run out.
  async #live(): Promise<void> {
    let down = performance.now();
    let first = true;
    let failed = 0; // attempts that failed in a row
    let error: Error | undefined; // why the last one did
    while (!this.#stop.signal.aborted) {
      const [port, attempts] = await this.#connect(first, failed, error);
      if (port === undefined) return;
      const opened = performance.now();
      this.#current = port;
      port.addEventListener("drop", (event) => {
        // A copy (an event is dispatched once); its port is the connection.
        this.dispatchEvent(new DropEvent("drop", event));
      });
      if (!first) {
        this.#stats.reconnects++;
        this.#restore(port);
        this.dispatchEvent(
          new ReconnectEvent("reconnect", {
            attempt: attempts,
            downtime: performance.now() - down,
          }),
        );
      }
      first = false;
      for (const waiter of this.#waiters.splice(0)) waiter.resolve();
      await this.#pump(port);
      await port.close();
      this.#stats.droppedBytes += port.stats.droppedBytes;
      this.#current = undefined;
      if (this.#stop.signal.aborted) return;
      down = performance.now();
      if (port.sensing) this.#sensing = port.sensing;
      // The server turned it away, and said why: for good (its token, its
      // address; or it speaks TLS or HTTP), or to be tried again (a full
      // server).
      const refused = verdictError(port, this.#name, false);
      if (refused && !(refused instanceof RefusedError && !refused.final)) {
        this.#release();
        this._lost(refused);
        return;
      }
      // A connection that the server ends at once, before a byte of it
      // (a wrong token, a full server), is one more failed attempt: the
      // backoff keeps growing, and maxAttempts counts it.
      if (
        refused || (port.stats.messages === 0 && down - opened < STABLE_MS)
      ) {
        failed = attempts;
        error = refused ?? port.error ??
          new Error(`${this.#name} closed the connection at once`);
      } else {
        failed = 0;
        error = undefined;
      }
      this.#release();
      this.dispatchEvent(
        new ReconnectEvent("disconnect", { error: port.error }),
      );
    }
  }

  // Dials until a connection is made, after each backoff; the first
  // connection is tried once, at once. `failed` attempts have failed in a
  // row already, the last with `error`. Returns the connection and the
  // attempts it took, or nothing if the port closed or gave up.
  async #connect(
    first: boolean,
    failed: number,
    error: Error | undefined,
  ): Promise<[SocketPort | undefined, number]> {
    const signal = this.#stop.signal;
    const attempts = first ? 1 : this.#maxAttempts;
    for (let attempt = failed + 1; attempt <= attempts; attempt++) {
      if (!first) {
        const delay = Math.max(0, this.#backoff(attempt));
        this.dispatchEvent(
          new ReconnectEvent("reconnecting", { attempt, delay, error }),
        );
        await sleep(delay, signal);
      }
      if (signal.aborted) return [undefined, attempt];
      try {
        const port = await this.#dial(signal, { sensing: this.#sensing });
        if (!signal.aborted) return [port, attempt];
        await port.close(); // made as the port closed
        return [undefined, attempt];
      } catch (cause) {
        if (signal.aborted) return [undefined, attempt];
        error = asError(cause);
        // Turned away for a reason that a retry cannot fix.
        if (error instanceof RefusedError && error.final) {
          this._lost(error);
          return [undefined, attempt];
        }
      }
    }
    if (first) {
      this._lost(error);
      return [undefined, 1];
    }
    const n = this.#maxAttempts;
    this._lost(
      new Error(
        `Gave up connecting to ${this.#name} after ${n} failed attempt${
          n === 1 ? "" : "s"
        } in a row; the last: ${error?.message}`,
        { cause: error },
      ),
    );
    return [undefined, n];
  }

  // Moves a connection's messages into the port's inbox, keeping track of
  // the notes they leave on, until the connection ends.
  async #pump(port: SocketPort): Promise<void> {
    const inbox = this._inbox;
    while (true) {
      let msg = port.poll();
      if (msg === undefined) {
        try {
          msg = await port.receive();
        } catch {
          return; // the connection has ended, and all it had is taken
        }
      }
      this.#stats.received++;
      this.#heard.track(msg);
      inbox.push(msg, undefined, port.lastTime);
      const space = inbox.space();
      if (space) await space;
    }
  }

  // The connection ended: the readers get the release of what the bus
  // had left on.
  #release(): void {
    const inbox = this._inbox;
    const time = performance.now();
    for (const msg of this.#heard.release()) {
      if (msg.type === "note_off") this.#stats.releasedNotes++;
      else this.#stats.releasedPedals++;
      inbox.push(msg, undefined, time);
    }
  }

  // Connected again: the controllers that changed meanwhile go first.
  #restore(port: SocketPort): void {
    const changed = this.#missed.snapshot();
    this.#missed = new NoteTracker();
    for (const msg of changed) {
      port.send(msg).catch(() => {}); // a failure is the next disconnect
      this.#stats.restored++;
    }
  }
}
