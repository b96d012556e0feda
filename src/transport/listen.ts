// Copyright 2026 the midisock authors. MIT license.
// Private: the listening side of a server. Opens the listeners for a host
// (two for localhost: 127.0.0.1 and ::1), runs an accept loop for each that
// never dies while its listener is open, and can tell when every connection
// that the system had completed has been taken in (settle()).

import { asError } from "../util/error_text.ts";
import { sleep, timeoutSignal, whenAborted } from "../util/abort.ts";
import { hostsFor, unbracket } from "./hosts.ts";
import { formatAddress } from "./address.ts";

/**
 * The error of a failed listen, its message naming `host:port` (of the same
 * class, with the original as its cause).
 */
function renamed(error: unknown, host: string, port: number): unknown {
  if (!(error instanceof Error)) return error;
  const Ctor = error.constructor as new (
    message: string,
    options: ErrorOptions,
  ) => Error;
  return new Ctor(
    `Cannot listen on ${formatAddress(host, port)}: ${error.message}`,
    { cause: error },
  );
}

/** A TCP or TLS listener. */
export type NetListener = Deno.Listener<NetConn, Deno.NetAddr>;
/** A TCP or TLS connection. */
export type NetConn = Deno.TcpConn | Deno.TlsConn;

/** A certificate chain and its private key, PEM text. */
export interface TlsCertificate {
  /** The certificate chain. */
  cert: string;
  /** The private key. */
  key: string;
}

// One listener, with TLS if given: TLS is one branch where it opens.
function listenOn(
  hostname: string,
  port: number,
  tls: TlsCertificate | undefined,
): NetListener {
  return tls
    ? Deno.listenTls({ hostname, port, cert: tls.cert, key: tls.key })
    : Deno.listen({ hostname, port, transport: "tcp" });
}

/**
 * Binds every address of `host` at one port, with `bind` (which opens one
 * listener, or one HTTP server, and throws as `Deno.listen` does): for
 * `localhost`, 127.0.0.1 and ::1 (where the system has IPv6); for `""`,
 * every interface, IPv6 and IPv4 on one socket where the system has IPv6,
 * else IPv4's. With port 0, the first picks a free port and the others take
 * the same one, trying again with a new port (up to 8 times) if it is taken
 * in another family. A port taken in any family fails (an address that the
 * system does not have, such as ::1 without IPv6, is left out). A failure
 * names `host:port` and keeps the error's class; what was bound by then is
 * given to `unbind`.
 */
export function bindAll<T>(
  host: string,
  port: number,
  bind: (hostname: string, port: number) => T,
  portOf: (bound: T) => number,
  unbind: (bound: T) => void,
): T[] {
  const bindOne = (hostname: string, at: number): T => {
    if (hostname !== "") return bind(hostname, at);
    try {
      return bind("::", at);
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) throw error;
      return bind("0.0.0.0", at);
    }
  };
  const [first, ...rest] = hostsFor(host);
  for (let attempt = 0;; attempt++) {
    let bound: T[];
    try {
      bound = [bindOne(first, port)];
    } catch (error) {
      throw renamed(error, unbracket(host), port);
    }
    const chosen = portOf(bound[0]);
    try {
      for (const other of rest) {
        try {
          bound.push(bindOne(other, chosen));
        } catch (error) {
          // No IPv6 (or no IPv4) loopback here: the other family will do,
          // unless the port is taken, which is the caller's to know.
          if (error instanceof Deno.errors.AddrInUse) throw error;
        }
      }
      return bound;
    } catch (error) {
      for (const one of bound) unbind(one);
      if (port === 0 && attempt < 8) continue;
      throw renamed(error, unbracket(host), chosen);
    }
  }
}

/**
 * Listens on every address of `host` at one port ({@linkcode bindAll}), with
 * TLS if given.
 */
export function listenAll(
  host: string,
  port: number,
  tls?: TlsCertificate,
): NetListener[] {
  return bindAll(
    host,
    port,
    (hostname, at) => listenOn(hostname, at, tls),
    (listener) => listener.addr.port,
    (listener) => listener.close(),
  );
}

/** Whether an accept() error means the listener is closed. */
function isClosed(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted;
}

/**
 * Whether an accept() error is about one connection, which was gone before
 * it was accepted: the next accept() may go on at once. Any other error
 * (out of descriptors or memory) pauses the loop.
 */
function isAboutOneConnection(error: unknown): boolean {
  return error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted;
}

/** The key of an address, to match a probe's two ends. */
function key(addr: Deno.Addr): string {
  const net = addr as Deno.NetAddr;
  return `${net.hostname.replace(/^::ffff:/i, "")}|${net.port}`;
}

/** The address to dial to reach a listener from this machine. */
function dialHost(addr: Deno.NetAddr): string {
  if (addr.hostname === "::") return "::1";
  if (addr.hostname === "0.0.0.0") return "127.0.0.1";
  return addr.hostname;
}

/**
 * How long an accept() error that is not about one connection (such as
 * running out of descriptors) pauses the accept loop, in milliseconds.
 */
const ACCEPT_PAUSE = 100;

interface Probe {
  key?: string; // the probe's own address, once its dial has resolved
  held: NetConn[]; // connections accepted while the probe was unknown
  done: PromiseWithResolvers<void>;
}

/**
 * Runs the accept loop of one listener. Each connection goes to `onConn`,
 * in the order the system completed them; when `onConn` returns a promise,
 * the loop accepts nothing more until it settles (the connections that
 * come meanwhile wait in the system's listen queue). An error about one connection
 * (a peer that reset before it was accepted) goes to `onError` and the loop
 * goes on; any other error (out of descriptors) also pauses it for
 * ACCEPT_PAUSE ms. Only the listener's close ends it.
 */
export class Acceptor {
  #listener: NetListener;
  #onConn: (conn: NetConn) => void | Promise<void>;
  #onError: (error: Error) => void;
  #stop = new AbortController();
  #probe: Probe | undefined;
  // Probes whose settle() gave up before they were taken in.
  #lateProbes = new Set<string>();
  /** Resolves when the loop has ended. */
  readonly done: Promise<void>;

  constructor(
    listener: NetListener,
    onConn: (conn: NetConn) => void | Promise<void>,
    onError: (error: Error) => void,
  ) {
    this.#listener = listener;
    this.#onConn = onConn;
    this.#onError = onError;
    this.done = this.#run();
  }

  /** The listener's address. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /**
   * Resolves once every connection that the system had completed when it
   * was called has gone to `onConn`. It connects to the listener itself
   * and waits for the loop to take that connection in: the listen queue is
   * first in, first out, so every connection before it has been taken in
   * too. (If it cannot connect, it resolves at once.)
   */
  settle(): Promise<void> {
    if (this.#probe) return this.#probe.done.promise;
    const probe: Probe = { held: [], done: Promise.withResolvers<void>() };
    this.#probe = probe;
    const timeout = timeoutSignal(2000);
    probe.done.promise.finally(() => timeout[Symbol.dispose]());
    const signal = AbortSignal.any([timeout.signal, this.#stop.signal]);
    Deno.connect({
      hostname: dialHost(this.addr),
      port: this.addr.port,
      signal,
    })
      .then((conn) => {
        probe.key = key(conn.localAddr);
        conn.close();
        if (this.#probe === probe) this.#check(probe);
        else this.#lateProbes.add(probe.key);
      }, () => this.#finish(probe));
    // Never wait past the signal, whatever happens to the probe.
    whenAborted(signal).then(() => this.#finish(probe));
    return probe.done.promise;
  }

  /** Closes the listener, which ends the loop. */
  close(): void {
    this.#stop.abort();
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      let conn: NetConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (stop.aborted || isClosed(error)) break;
        const e = asError(error);
        this.#onError(
          new (e.constructor as ErrorConstructor)(
            `Cannot accept a connection on ${
              formatAddress(this.addr.hostname, this.addr.port)
            }: ${e.message}`,
            { cause: e },
          ),
        );
        if (!isAboutOneConnection(e)) {
          // Descriptors and memory come back as connections close: try
          // again soon, not in a busy loop.
          await sleep(ACCEPT_PAUSE, stop);
        }
        continue;
      }
      if (stop.aborted) {
        conn.close();
        break;
      }
      const probe = this.#probe;
      if (probe) {
        probe.held.push(conn);
        this.#check(probe);
      } else if (this.#lateProbes.delete(key(conn.remoteAddr))) {
        conn.close(); // a probe that came after its settle() gave up
      } else {
        const taking = this.#onConn(conn);
        if (taking) await taking;
      }
    }
    if (this.#probe) this.#finish(this.#probe);
  }

  // Once the probe's address is known: everything accepted before it goes
  // on, the probe is closed, and settle() resolves.
  #check(probe: Probe): void {
    if (probe.key === undefined) return;
    const i = probe.held.findIndex((conn) =>
      key(conn.remoteAddr) === probe.key
    );
    if (i < 0) return;
    probe.held.splice(i, 1)[0].close();
    probe.key = undefined; // taken in: not a late one
    this.#finish(probe);
  }

  #finish(probe: Probe): void {
    if (this.#probe !== probe) return;
    this.#probe = undefined;
    if (probe.key !== undefined) this.#lateProbes.add(probe.key);
    for (const conn of probe.held.splice(0)) {
      if (this.#stop.signal.aborted) conn.close();
      else this.#onConn(conn);
    }
    probe.done.resolve();
  }
}
