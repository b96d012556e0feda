// Copyright 2026 the midisock authors. MIT license.
// Private: how clients come into a PortServer. Its listeners; who may join,
// the same for every client, from a listener or admit()ted (the allow-list,
// maxClients, the TLS handshake and the hello line's token, each within
// helloTimeout, with maxPending connections waiting at most); who takes
// each client that may (a caller of accept(), or the server); and what of a
// client's gets in (acceptSysex, filter).

import { asError, errorText } from "../util/error_text.ts";
import {
  rejectOnAbort,
  sleep,
  timeoutSignal,
  whenAborted,
} from "../util/abort.ts";
import { encodeHello } from "../transport/hello.ts";
import {
  Acceptor,
  listenAll,
  type NetConn,
  openFileLimit,
  type Taking,
  type TlsCertificate,
} from "../transport/listen.ts";
import { DropEvent } from "../port/events.ts";
import { PortClosedError } from "../port/errors.ts";
import { PortEvent, RejectEvent } from "./events.ts";
import type { Message } from "../midi/message.ts";
import { addressName } from "../transport/address.ts";
import type { Transport } from "../transport/transport.ts";
import { SocketPort, type SocketPortOptions } from "../port/socket_port.ts";
import { allowList } from "./_cidr.ts";
import { OpeningGuard } from "./_opening_guard.ts";

/** A connection held before it is a client, and how to let it go. */
interface Held {
  /** The client's address, for the reject event. */
  address: string;
  /** Closes it at once. */
  close(): void;
  /** When it began to wait, by `performance.now()`. */
  since: number;
  /** Why it was let go to make room for a newer one, if it was. */
  evicted?: string;
}

/** The options of a server that decide who may join it. */
export interface AdmissionOptions {
  /** Addresses and CIDR blocks that may connect; anyone if undefined. */
  allow?: string[];
  /** The most clients at once; by default a bound below the file limit. */
  maxClients?: number;
  /** Whether the listener speaks TLS (its clients shake hands first). */
  tls: boolean;
  /** The token that a client's hello line must carry. */
  token?: string;
  /** How long a client has for its handshake and hello line, in ms. */
  helloTimeout?: number;
  /** The most connections that wait for their handshake or hello line. */
  maxPending?: number;
  /** Whether a client's sysex may be delivered. */
  acceptSysex?: boolean;
  /** Whether a client's message may be delivered. */
  filter?: (message: Message, from: SocketPort) => boolean;
}

/** What an {@linkcode Admission} needs of its server. */
export interface AdmissionHost {
  /** The server's name, for errors. */
  name(): string;
  /** Whether the server is closed: a client vetted meanwhile is let go. */
  closed(): boolean;
  /** Adopts a client: the server reads it, relays it and sends to it. */
  adopt(port: SocketPort): void;
  /** Dispatches one of the server's events. */
  dispatchEvent(event: Event): boolean;
}

/**
 * A server's door. It listens, checks each client that comes (from a
 * listener, or admit()ted), makes the ones that may join ports, and hands
 * each to a caller of accept(), or to the server once it adopts its
 * clients, or keeps it until either. It counts the clients the server
 * holds (for `maxClients`), those taken in and those turned away, and says
 * which of a client's messages may be delivered.
 */
export class Admission {
  #host: AdmissionHost;
  #acceptors: Acceptor[] = [];
  #waiting: SocketPort[] = []; // taken in, and not yet accepted or adopted
  #acceptWaiters: PromiseWithResolvers<SocketPort>[] = [];
  #adopting = false;
  #accepted = 0;
  #acceptErrors = 0;
  #rejected = 0;
  #clientOptions: SocketPortOptions;
  #allow: ((host: string) => boolean) | undefined;
  #maxClients: number;
  #tls: boolean;
  #token: string | undefined;
  #helloTimeout: number;
  #acceptSysex: boolean;
  #filter: ((message: Message, from: SocketPort) => boolean) | undefined;
  #maxPending: number;
  #live = 0; // clients taken in and not yet closed
  // Connections being vetted (their TLS handshake, their hello line and
  // its token), and the end of that.
  #vetting = new Map<NetConn | Transport, Promise<void>>();
  // Of those, the ones that wait for the client, oldest first.
  #pending = new Map<NetConn | Transport, Held>();
  // Resolved, and made anew, when a pending connection goes.
  #roomChanged = Promise.withResolvers<void>();
  #stop = new AbortController(); // the server closes

  /**
   * Checks the options.
   *
   * @param options Who may join.
   * @param clientOptions The options of the clients' ports.
   * @param host The server.
   */
  constructor(
    options: AdmissionOptions,
    clientOptions: SocketPortOptions,
    host: AdmissionHost,
  ) {
    const { allow, maxClients, token, helloTimeout, maxPending } = options;
    if (token !== undefined && (typeof token !== "string" || token === "")) {
      throw new TypeError(
        "Invalid token option: expected a string of at least one character",
      );
    }
    if (token !== undefined) encodeHello({ token }); // it must fit a hello line
    this.#token = token;
    this.#tls = options.tls;
    this.#helloTimeout = helloTimeout ?? 2000;
    if (typeof this.#helloTimeout !== "number" || !(this.#helloTimeout > 0)) {
      throw new RangeError(
        `Invalid helloTimeout option: expected a number of milliseconds > 0, got ${helloTimeout}`,
      );
    }
    this.#allow = allow === undefined ? undefined : allowList(allow);
    this.#maxClients = maxClients ?? defaultMaxClients();
    if (!Number.isInteger(this.#maxClients) || this.#maxClients < 0) {
      throw new RangeError(
        `Invalid maxClients option: expected an integer >= 0, got ${maxClients}`,
      );
    }
    this.#maxPending = maxPending ?? defaultMaxPending();
    if (!Number.isInteger(this.#maxPending) || this.#maxPending < 1) {
      throw new RangeError(
        `Invalid maxPending option: expected an integer >= 1, got ${maxPending}`,
      );
    }
    this.#acceptSysex = options.acceptSysex ?? true;
    const filter = options.filter;
    if (filter !== undefined && typeof filter !== "function") {
      throw new TypeError(
        `Invalid filter option: expected a function, got ${typeof filter}`,
      );
    }
    this.#filter = filter;
    this.#clientOptions = clientOptions;
    this.#host = host;
  }

  /**
   * Why a client's message is not to be delivered (`acceptSysex`,
   * `filter`), or undefined.
   *
   * @param msg The message.
   * @param port The client that sent it.
   * @returns The reason, or undefined.
   */
  refuse(msg: Message, port: SocketPort): string | undefined {
    if (!this.#acceptSysex && msg.type === "sysex") return "sysex";
    if (!this.#filter) return undefined;
    try {
      return this.#filter(msg, port) ? undefined : "filter";
    } catch (error) {
      return `filter threw: ${errorText(error)}`;
    }
  }

  /**
   * Listens on every address of `host` at `port`: last, once every option
   * is checked, so that a bad one binds nothing.
   *
   * @param host The server's host.
   * @param port Its port, or 0 for a free one.
   * @param tls A certificate and key, to listen with TLS.
   */
  listen(host: string, port: number, tls?: TlsCertificate): void {
    this.#acceptors = listenAll(host, port, tls).map((listener) =>
      new Acceptor(
        listener,
        (conn) => this.#fromListener(conn),
        (error) => this.#failed(error),
      )
    );
  }

  /** The addresses listened on. */
  get addrs(): Deno.NetAddr[] {
    return this.#acceptors.map((acceptor) => acceptor.addr);
  }

  /** The clients taken in that wait for accept() or adoption. */
  get waiting(): readonly SocketPort[] {
    return this.#waiting;
  }

  /** Clients taken in, in all. */
  get accepted(): number {
    return this.#accepted;
  }

  /** accept() failures about one connection. */
  get acceptErrors(): number {
    return this.#acceptErrors;
  }

  /** Clients turned away. */
  get rejected(): number {
    return this.#rejected;
  }

  /** Connections waiting for their TLS handshake or hello line. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Counts and reports a client turned away.
   *
   * @param address Its address, or what stands for one.
   * @param reason Why.
   */
  reject(address: string, reason: string): void {
    this.#rejected++;
    this.#host.dispatchEvent(new RejectEvent("reject", { address, reason }));
  }

  /**
   * Hands a client to the server, from now on and for every client that
   * waits: the server is used as a port.
   */
  adoptAll(): void {
    if (this.#adopting) return;
    this.#adopting = true;
    for (const port of this.#waiting.splice(0)) this.#host.adopt(port);
  }

  /**
   * The next client, for {@linkcode PortServer.accept}.
   *
   * @param options `block: false` not to wait; a signal to stop waiting.
   * @returns The client (or null, without blocking).
   */
  accept(
    options: { block?: boolean; signal?: AbortSignal },
  ): Promise<SocketPort> | SocketPort | null {
    const closed = () => new PortClosedError(this.#host.name(), "accept");
    if (options.block === false) {
      if (this.#host.closed()) throw closed();
      return this.#waiting.shift() ?? null;
    }
    if (this.#host.closed()) return Promise.reject(closed());
    const waiting = this.#waiting.shift();
    if (waiting) return Promise.resolve(waiting);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const waiter = Promise.withResolvers<SocketPort>();
    this.#acceptWaiters.push(waiter);
    rejectOnAbort(signal, waiter, () => {
      const i = this.#acceptWaiters.indexOf(waiter);
      if (i >= 0) this.#acceptWaiters.splice(i, 1);
    });
    return waiter.promise;
  }

  /**
   * Takes in a client that may join: it goes to a caller of accept(), or
   * is adopted, or waits for either. Its drops and its hello line are the
   * server's events from now on.
   *
   * @param port The client.
   */
  place(port: SocketPort): void {
    this.#accepted++;
    const host = this.#host;
    // Passed on as the server's (copies: an event is dispatched once).
    port.addEventListener(
      "drop",
      (event) => host.dispatchEvent(new DropEvent("drop", event)),
    );
    // A name that comes later, in a hello line (a server without a token).
    if (port.hello === undefined) {
      port.addEventListener("hello", () => {
        if (port.hello?.name) {
          host.dispatchEvent(new PortEvent("hello", { port }));
        }
      }, { once: true });
    }
    const waiter = this.#acceptWaiters.shift();
    if (waiter) waiter.resolve(port);
    else if (this.#adopting) host.adopt(port);
    else this.#waiting.push(port);
  }

  /** Why one more client may not join now (`maxClients`), or undefined. */
  full(): string | undefined {
    return this.#live >= this.#maxClients
      ? `over maxClients (${this.#maxClients})`
      : undefined;
  }

  /**
   * Makes a client's port, and counts it among the clients the server
   * holds until it closes.
   *
   * @param conn The client's connection or transport.
   * @param options Its port's options.
   * @returns The port.
   */
  port(conn: Transport | Deno.Conn, options: SocketPortOptions): SocketPort {
    const port = new SocketPort(conn, options);
    this.#count(port);
    return port;
  }

  // Counts a client among those the server holds, until it closes.
  #count(port: SocketPort): void {
    if (port.closed) return; // its close event may be gone already
    this.#live++;
    port.addEventListener("close", () => this.#live--, { once: true });
  }

  /**
   * Checks a client that came by another way than the listener (a
   * WebSocket), and hands it to the server if it may join: at once, or once
   * its hello line is done.
   *
   * @param conn The client's transport.
   */
  take(conn: Transport): void {
    this.#take(conn, false);
  }

  // Takes a client of the listener, and tells the accept loop what to wait
  // for: until it has been read (its first bytes or its end, or its
  // handshake and hello line), so that the loop paces itself by it; or, for
  // one that must wait for its client (a TLS handshake, a hello line with
  // the token), until there is room among the pending connections: the
  // listener accepts nothing more meanwhile (see #hasRoom).
  #fromListener(conn: NetConn): Taking {
    const vetted = (this.#tls && "handshake" in conn) ||
      this.#token !== undefined;
    if (!vetted || this.#hasRoom()) return { read: this.#take(conn, true) };
    return {
      room: this.#whenRoom().then(() => {
        if (this.#stop.signal.aborted) closeQuietly(conn);
        else this.#take(conn, true);
      }),
    };
  }

  // Whether one more connection may wait for its client: below
  // maxPending, or the oldest waiting can go, once it has waited a tenth
  // of helloTimeout.
  #hasRoom(): boolean {
    if (this.pending < this.#maxPending) return true;
    const oldest = this.#pending.values().next().value;
    return oldest === undefined ||
      performance.now() - oldest.since >= this.#patience;
  }

  // Waits until #hasRoom(), or the server closes.
  async #whenRoom(): Promise<void> {
    const stop = this.#stop.signal;
    while (!this.#hasRoom() && !stop.aborted) {
      const oldest = this.#pending.values().next().value!;
      const wait = this.#patience - (performance.now() - oldest.since);
      await Promise.race([
        this.#roomChanged.promise,
        sleep(Math.max(1, wait), stop),
      ]);
    }
  }

  // How long a connection that waits for its client is sure to keep its
  // place: a tenth of helloTimeout.
  get #patience(): number {
    return this.#helloTimeout / 10;
  }

  // A pending connection went: there may be room.
  #unhold(conn: NetConn | Transport) {
    if (!this.#pending.delete(conn)) return;
    this.#roomChanged.resolve();
    this.#roomChanged = Promise.withResolvers<void>();
  }

  // Checks a client (of the listener: `listener`), and hands it to the
  // server if it may join: at once, or once its handshake and hello line
  // are done.
  // Checks a client, and hands it to the server if it may join. Returns, for
  // a client taken in, a promise that settles once it has been read or has
  // closed; nothing for one turned away at once.
  #take(
    conn: NetConn | Transport,
    listener: boolean,
  ): Promise<void> | undefined {
    const remote = conn.remoteAddr;
    const host = remote !== undefined && "hostname" in remote
      ? remote.hostname
      : undefined;
    const address = addressName(remote) ?? host ?? "a client";
    const reason = this.#allow && (host === undefined || !this.#allow(host))
      ? "not on the allow-list"
      : this.full();
    if (reason) {
      closeQuietly(conn, reason); // before a byte of it is read
      this.reject(address, reason);
      return undefined;
    }
    // A TLS connection from the listener (not a WebSocket, whose TLS, if
    // any, the HTTP server has done).
    const tls = this.#tls && "handshake" in conn;
    if (tls || this.#token !== undefined) {
      this.#makeRoom();
      const held: Held = {
        address,
        close: () => closeQuietly(conn),
        since: performance.now(),
      };
      this.#pending.set(conn, held);
      const done = this.#vet(conn, tls, listener, held).finally(() => {
        this.#unhold(conn);
        this.#vetting.delete(conn);
      });
      this.#vetting.set(conn, done);
      return done;
    }
    const port = this.#make(conn, listener, address);
    return port && firstRead(port);
  }

  // Makes room for one more connection that waits for its client, within
  // maxPending: the oldest goes.
  #makeRoom(): void {
    if (this.pending < this.#maxPending) return;
    for (const [conn, held] of this.#pending) {
      this.#unhold(conn);
      held.evicted = `over maxPending (${this.#maxPending})`;
      held.close(); // its vetting ends, and counts it
      return;
    }
  }

  /**
   * Waits until every client that had connected is taken in or turned
   * away: the listeners' queues, then the TLS handshakes and hello lines
   * under way.
   *
   * @returns When they are.
   */
  async settled(): Promise<void> {
    await Promise.all(this.#acceptors.map((acceptor) => acceptor.settle()));
    await Promise.all(this.#vetting.values());
  }

  /**
   * Closes the listeners and the clients being vetted, and stops waiting
   * in accept(), as the server closes.
   *
   * @returns The clients that were waiting, for the server to close.
   */
  async close(): Promise<SocketPort[]> {
    this.#stop.abort();
    for (const acceptor of this.#acceptors) acceptor.close();
    for (const waiter of this.#acceptWaiters.splice(0)) {
      waiter.reject(new PortClosedError(this.#host.name(), "accept"));
    }
    await Promise.all(this.#acceptors.map((acceptor) => acceptor.done));
    for (const conn of this.#vetting.keys()) closeQuietly(conn);
    await Promise.all(this.#vetting.values());
    return this.#waiting.splice(0);
  }

  #failed(error: Error): void {
    this.#acceptErrors++;
    this.#host.dispatchEvent(
      new ErrorEvent("accepterror", { error, message: error.message }),
    );
  }

  // A client of a TLS server, or of one with a token: it is taken in only
  // once its handshake is done and its hello line carries the token, both
  // within helloTimeout; until then nothing of it is read by anyone. While
  // it waits for the client, it is `held` among the pending connections.
  async #vet(
    conn: NetConn | Transport,
    tls: boolean,
    listener: boolean,
    held: Held,
  ): Promise<void> {
    using timeout = timeoutSignal(this.#helloTimeout);
    const deadline = timeout.signal;
    const { address } = held;
    const host = this.#host;
    const failed = (reason: string) => {
      closeQuietly(conn, reason);
      if (!host.closed()) this.reject(address, held.evicted ?? reason);
    };
    if (tls && !await this.#handshake(conn as Deno.TlsConn, deadline, failed)) {
      return;
    }
    if (this.#token === undefined) {
      this.#unhold(conn); // it is in
      const full = this.full();
      if (host.closed()) closeQuietly(conn);
      else if (full) {
        closeQuietly(conn, full);
        this.reject(address, full);
      } else this.#make(conn, listener, address);
      return;
    }
    let port: SocketPort;
    // A client of the listener that opens with TLS or HTTP is told from
    // one with no hello line.
    const guard = listener
      ? new OpeningGuard(conn as NetConn, () => {})
      : undefined;
    try {
      port = new SocketPort(guard?.conn ?? conn, this.#clientOptions);
    } catch (error) {
      return failed(errorText(error));
    }
    const checked = await this.#checkHello(port, deadline, conn);
    const reason = guard?.refusal ?? held.evicted ?? checked;
    if (reason !== undefined || host.closed()) {
      // Nothing it sent was read, nor will be.
      await port.abort(reason ?? "the server closed");
      if (reason !== undefined && !host.closed()) this.reject(address, reason);
      return;
    }
    const full = this.full();
    if (full) {
      this.reject(address, full);
      return await port.abort(full);
    }
    this.#count(port);
    this.place(port);
  }

  // Why a client's hello line does not let it in, or undefined if it does.
  // Once the line has come, the connection no longer waits for its client.
  async #checkHello(
    port: SocketPort,
    deadline: AbortSignal,
    conn: NetConn | Transport,
  ): Promise<string | undefined> {
    if (port.hello === undefined) {
      const known = new Promise<void>((resolve) =>
        port.addEventListener("hello", () => resolve(), { once: true })
      );
      await Promise.race([known, whenAborted(deadline)]);
    }
    this.#unhold(conn);
    const hello = port.hello;
    if (hello === undefined) {
      return `no hello line within ${this.#helloTimeout} ms`;
    }
    if (hello === null) return port.helloError ?? "no hello line";
    const match = await port.matchesToken(this.#token!);
    return match === undefined
      ? "no token in the hello line"
      : match
      ? undefined
      : "wrong token";
  }

  // Finishes a client's TLS handshake before the deadline: true if done.
  async #handshake(
    conn: Deno.TlsConn,
    deadline: AbortSignal,
    failed: (reason: string) => void,
  ): Promise<boolean> {
    try {
      await Promise.race([
        conn.handshake(),
        whenAborted(deadline).then(() => {
          throw new Error(`no handshake within ${this.#helloTimeout} ms`);
        }),
      ]);
      return true;
    } catch (error) {
      failed(
        `TLS handshake failed: ${errorText(error)}`,
      );
      return false;
    }
  }

  // Takes a client in at once. A client of the listener is guarded: if its
  // first bytes show it speaks TLS or HTTP, it is turned away there, and
  // none of its bytes is read as MIDI.
  #make(
    conn: NetConn | Transport,
    listener: boolean,
    address: string,
  ): SocketPort | undefined {
    let port: SocketPort;
    try {
      const guarded = listener
        ? new OpeningGuard(conn as NetConn, (reason) => {
          if (!this.#host.closed()) this.reject(address, reason);
        }).conn
        : conn;
      port = this.port(guarded, this.#clientOptions);
    } catch (error) {
      // The connection went before it could be made a port.
      closeQuietly(conn);
      this.#failed(asError(error));
      return undefined;
    }
    this.place(port);
    return port;
  }
}

// Settles once a client's port has read its first bytes or its end (it
// knows whether they open with a hello line), or has closed.
function firstRead(port: SocketPort): Promise<void> {
  if (port.hello !== undefined) return Promise.resolve();
  return new Promise((resolve) => {
    port.addEventListener("hello", () => resolve(), { once: true });
    port.addEventListener("close", () => resolve(), { once: true });
  });
}

/**
 * 64, or a sixteenth of the process's open-file limit where that is lower:
 * the connections held before they are clients come out of the room that
 * defaultMaxClients() leaves below the limit.
 */
function defaultMaxPending(): number {
  const limit = openFileLimit();
  return limit === undefined ? 64 : Math.max(1, Math.min(64, limit >> 4));
}

// Closes a connection or a transport, with a reason for the peer where the
// transport can carry one.
function closeQuietly(conn: Deno.Conn | Transport, reason?: string): void {
  try {
    (conn as Transport).close(reason);
  } catch {
    // Already closed.
  }
}

/**
 * 1024, or the process's open-file limit less an eighth of it (at least
 * 128) where that is lower: a server must never accept its way out of
 * descriptors. The room left is for the runtime's own files and for the
 * connections held before they are clients (maxPending).
 */
function defaultMaxClients(): number {
  const limit = openFileLimit();
  if (limit === undefined) return 1024;
  // The runtime and the server's own files take some: leave them room.
  return Math.max(1, Math.min(1024, limit - Math.max(128, limit >> 3)));
}
