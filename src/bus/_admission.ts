// Copyright 2026 the midisock authors. MIT license.
// Private: how clients come into a PortServer. Its listeners; who may join,
// the same for every client, from a listener or admit()ted (the allow-list,
// maxClients, the TLS handshake and the hello line's token, each within
// helloTimeout, with maxPending connections waiting at most); what a client
// that asked is told (the verdict line); who takes each client that may (a
// caller of accept(), or the server); and what of a client's gets in
// (acceptSysex, filter).

import { asError, errorText } from "../util/error_text.ts";
import {
  rejectOnAbort,
  sleep,
  timeoutSignal,
  whenAborted,
} from "../util/abort.ts";
import {
  encodeHello,
  HELLO_TIMEOUT,
  type HelloFields,
  sameToken,
  verdictLine,
} from "../transport/hello.ts";
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
import { type Opened, OpeningGuard } from "./_opening_guard.ts";
import { writeAll } from "../util/write_all.ts";

/**
 * The reasons that a verdict line gives (`MIDISOCK/1 verdict=refused
 * reason=...`): a missing or wrong token (the server never says which),
 * an address not on the allow-list, a server at maxClients.
 */
export type RefusalCode = "token" | "allow" | "full";
const NOT_ALLOWED = "not on the allow-list"; // the reason for "allow"

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
  // Connections turned away that are being told why, oldest first, and the
  // end of that.
  #telling = new Map<NetConn | Transport, Held>();
  #tellings = new Set<Promise<void>>();
  // Resolved, and made anew, when a held connection goes.
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
    this.#helloTimeout = helloTimeout ?? HELLO_TIMEOUT;
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

  /**
   * Connections held before they are clients: waiting for their TLS
   * handshake or hello line, or being told why they are turned away.
   */
  get pending(): number {
    return this.#pending.size + this.#telling.size;
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
   * @param answer Whether a hello line that comes later and asks for a
   * verdict is answered (a client of the listener, taken in before its
   * hello line was read).
   */
  place(port: SocketPort, answer = false): void {
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
        // It is in. Said before any MIDI byte, or not at all: a client
        // that hears MIDI first knows it is in.
        const quiet = port.stats.writtenBytes + port.queuedBytes === 0;
        if (answer && asksVerdict(port.hello) && quiet && !port.closed) {
          port.enqueue(verdictLine(undefined, port.hello));
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

  /** Why a client from `host` would be turned away now, if it would. */
  refusal(host: string | undefined): string | undefined {
    if (this.#allow && (host === undefined || !this.#allow(host))) {
      return NOT_ALLOWED;
    }
    return this.full();
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
   * its hello line is done. It is told why it is turned away only where its
   * transport can carry a reason (close()).
   *
   * With `named`, a client of a transport that has no hello line (a
   * session of RTP-MIDI, Network MIDI 2.0): it is checked against the
   * allow-list and maxClients alone, and keeps the name it is given.
   *
   * @param conn The client's transport.
   * @param named The client's name, for a transport with no hello line.
   */
  take(conn: Transport, named?: { name: string }): void {
    this.#take(conn, false, named);
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
  // maxPending, or one held can go (one being told why it was turned
  // away, or the oldest waiting once it has waited a tenth of
  // helloTimeout).
  #hasRoom(): boolean {
    if (this.pending < this.#maxPending || this.#telling.size > 0) {
      return true;
    }
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

  // A held connection went: there may be room.
  #unhold(map: Map<NetConn | Transport, Held>, conn: NetConn | Transport) {
    if (!map.delete(conn)) return;
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
    named?: { name: string },
  ): Promise<void> | undefined {
    const remote = conn.remoteAddr;
    const host = remote !== undefined && "hostname" in remote
      ? remote.hostname
      : undefined;
    const address = addressName(remote) ?? host ?? "a client";
    const refused = this.refusal(host);
    if (refused) return void this.#turnAway(conn, listener, address, refused);
    if (named) return void this.#make(conn, false, address, named.name);
    // A TLS connection from the listener (not a WebSocket, whose TLS, if
    // any, the HTTP server has done).
    const tls = this.#tls && "handshake" in conn;
    if (tls || this.#token !== undefined) {
      this.#makeRoom(true);
      const held: Held = {
        address,
        close: () => closeQuietly(conn),
        since: performance.now(),
      };
      this.#pending.set(conn, held);
      const done = this.#vet(conn, tls, listener, held).finally(() => {
        this.#unhold(this.#pending, conn);
        this.#vetting.delete(conn);
      });
      this.#vetting.set(conn, done);
      return done;
    }
    const port = this.#make(conn, listener, address);
    return port && firstRead(port);
  }

  // Makes room for one more connection held before it is a client, within
  // maxPending. For one that is vetted: the oldest being told why it was
  // turned away goes first, then the oldest that waits for its client. One
  // to be told why gets no room but what is free (false): under a flood of
  // clients turned away, the newcomers are closed at once, and no
  // descriptor waits for a read to end.
  #makeRoom(vetting: boolean): boolean {
    if (this.pending < this.#maxPending) return true;
    if (!vetting) return false;
    for (const [conn, held] of this.#telling) {
      this.#unhold(this.#telling, conn);
      held.close();
      return true;
    }
    for (const [conn, held] of this.#pending) {
      this.#unhold(this.#pending, conn);
      held.evicted = `over maxPending (${this.#maxPending})`;
      held.close(); // its vetting ends, and counts it
      return true;
    }
    return true;
  }

  // Turns a client away at the door (allow-list, maxClients): counted and
  // reported at once, then, for a client of the listener, told why if it
  // asks (see #tell).
  #turnAway(
    conn: NetConn | Transport,
    listener: boolean,
    address: string,
    reason: string,
  ): void {
    this.reject(address, reason);
    const code = reason === NOT_ALLOWED ? "allow" : "full";
    if (listener) this.#tell(conn as NetConn, address, code);
    else closeQuietly(conn, reason);
  }

  // Tells a client of the listener that is turned away why, if its hello
  // line asks for it (`hello`, or read here: within a tenth of
  // helloTimeout, as a midisock client sends it as soon as it connects),
  // then closes it: the verdict line, the end of the stream, and the
  // client's end, within helloTimeout. Nothing of it is read but its hello
  // line, nor delivered. It is held among the pending connections, while
  // there is room; else it is closed at once.
  #tell(
    conn: NetConn,
    address: string,
    code: RefusalCode,
    hello?: HelloFields,
  ): void {
    if (!this.#makeRoom(false)) return closeQuietly(conn);
    const held: Held = {
      address,
      close: () => closeQuietly(conn),
      since: performance.now(),
    };
    this.#telling.set(conn, held);
    const telling = this.#answer(conn, code, hello).finally(() => {
      closeQuietly(conn);
      this.#unhold(this.#telling, conn);
      this.#tellings.delete(telling);
    });
    this.#tellings.add(telling);
  }

  async #answer(
    conn: NetConn,
    code: RefusalCode,
    hello: HelloFields | undefined,
  ): Promise<void> {
    const stop = () => closeQuietly(conn);
    if (hello === undefined) {
      using timeout = timeoutSignal(this.#patience);
      timeout.signal.addEventListener("abort", stop, { once: true });
      try {
        if (this.#tls && "handshake" in conn) await conn.handshake();
        const opened = await new OpeningGuard(conn, () => {}).readHello();
        if (opened.kind === "hello") hello = opened.fields;
      } catch {
        return; // no handshake
      } finally {
        timeout.signal.removeEventListener("abort", stop);
      }
    }
    if (!asksVerdict(hello)) return;
    using timeout = timeoutSignal(this.#helloTimeout);
    timeout.signal.addEventListener("abort", stop, { once: true });
    try {
      await writeAll(conn, verdictLine(code));
      await conn.closeWrite();
      // Until the client closes too: a close with unread bytes would
      // reset the connection, and could destroy the line.
      const buf = new Uint8Array(1024);
      while (await conn.read(buf) !== null) {
        // Dropped.
      }
    } catch {
      // Gone, or cut off at the deadline.
    } finally {
      timeout.signal.removeEventListener("abort", stop);
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
    for (const held of this.#telling.values()) held.close();
    await Promise.all([...this.#vetting.values(), ...this.#tellings]);
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
      this.#unhold(this.#pending, conn); // it is in
      const full = this.full();
      if (host.closed()) closeQuietly(conn);
      else if (full) this.#turnAway(conn, listener, address, full);
      else this.#make(conn, listener, address);
      return;
    }
    if (listener) return await this.#vetHello(conn as NetConn, held, deadline);
    let port: SocketPort;
    try {
      port = new SocketPort(conn, this.#clientOptions);
    } catch (error) {
      return failed(errorText(error));
    }
    const reason = held.evicted ?? await this.#checkHello(port, deadline, conn);
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

  // A client of the listener, on a server with a token: its hello line is
  // read and its token checked before it is made a port, so that nothing
  // it sent is read as MIDI unless it is taken in, and a client that asks
  // is told the verdict, before any MIDI byte or at the end.
  async #vetHello(
    conn: NetConn,
    held: Held,
    deadline: AbortSignal,
  ): Promise<void> {
    const host = this.#host;
    const guard = new OpeningGuard(conn, () => {});
    const stop = () => closeQuietly(conn);
    deadline.addEventListener("abort", stop, { once: true });
    let opened: Opened;
    try {
      opened = await guard.readHello();
    } finally {
      deadline.removeEventListener("abort", stop);
    }
    this.#unhold(this.#pending, conn); // it has spoken, or gone
    const hello = opened.kind === "hello" ? opened.fields : undefined;
    const reason = held.evicted ??
      (opened.kind === "end" && deadline.aborted
        ? `no hello line within ${this.#helloTimeout} ms`
        : await this.#tokenReason(opened));
    if (host.closed()) return closeQuietly(conn);
    const { address } = held;
    if (reason !== undefined) {
      this.reject(address, reason);
      if (TOKEN_REASONS.has(reason)) this.#tell(conn, address, "token", hello);
      else closeQuietly(conn, reason);
      return;
    }
    const full = this.full();
    if (full) {
      this.reject(address, full);
      return this.#tell(conn, address, "full", hello);
    }
    let port: SocketPort;
    try {
      // It reads its hello line again, from the bytes the guard holds,
      // with its first read: it has its name before it is taken in.
      port = new SocketPort(guard.conn, this.#clientOptions);
    } catch (error) {
      closeQuietly(conn);
      return this.#failed(asError(error));
    }
    if (port.hello === undefined) {
      const known = new Promise<void>((resolve) =>
        port.addEventListener("hello", () => resolve(), { once: true })
      );
      await Promise.race([known, whenAborted(deadline)]);
    }
    if (host.closed()) return await port.abort("the server closed");
    if (asksVerdict(hello)) port.enqueue(verdictLine(undefined, hello)); // before any MIDI
    this.#count(port);
    this.place(port);
  }

  // Why a client's opening does not let it in, on a server with a token,
  // or undefined if it does.
  async #tokenReason(opened: Opened): Promise<string | undefined> {
    switch (opened.kind) {
      case "probe":
      case "bad":
        return opened.reason;
      case "none":
      case "end":
        return "no hello line";
    }
    const token = opened.fields.token;
    if (token === undefined) return "no token in the hello line";
    return await sameToken(token, this.#token!) ? undefined : "wrong token";
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
    this.#unhold(this.#pending, conn);
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
    name?: string,
  ): SocketPort | undefined {
    let port: SocketPort;
    try {
      const guarded = listener
        ? new OpeningGuard(conn as NetConn, (reason) => {
          if (!this.#host.closed()) this.reject(address, reason);
        }).conn
        : conn;
      port = this.port(
        guarded,
        name === undefined
          ? this.#clientOptions
          : { ...this.#clientOptions, name, readHello: false },
      );
    } catch (error) {
      // The connection went before it could be made a port.
      closeQuietly(conn);
      this.#failed(asError(error));
      return undefined;
    }
    this.place(port, listener);
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

// The reasons to turn a client away that a verdict line gives as `token`.
const TOKEN_REASONS = new Set(["wrong token", "no token in the hello line"]);

/**
 * 64, or a sixteenth of the process's open-file limit where that is lower:
 * the connections held before they are clients come out of the room that
 * defaultMaxClients() leaves below the limit.
 */
function defaultMaxPending(): number {
  const limit = openFileLimit();
  return limit === undefined ? 64 : Math.max(1, Math.min(64, limit >> 4));
}

/** Whether a client's hello line asks for the server's verdict. */
function asksVerdict(hello: HelloFields | null | undefined): boolean {
  return hello?.verdict === "1";
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
