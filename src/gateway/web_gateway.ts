// Copyright 2026 the midisock authors. MIT license.

import { addressName, formatAddress } from "../transport/address.ts";
import { unbracket } from "../transport/hosts.ts";
import {
  Acceptor,
  listenAll,
  type NetConn,
  type Taking,
} from "../transport/listen.ts";
import { RejectEvent } from "../bus/events.ts";
import type { PortServer } from "../bus/port_server.ts";
import { timeoutSignal, whenAborted } from "../util/abort.ts";
import { TypedEventTarget } from "../util/typed_event_target.ts";
import { WebSocketTransport } from "../transport/websocket_transport.ts";
import { writeAll } from "../util/write_all.ts";
import { PAGE_HTML, PAGE_JS } from "./_web_assets.ts";
import {
  type Answer,
  answerBytes,
  HttpError,
  HttpReader,
  type RequestHead,
} from "./_http.ts";
import { acceptKey, ServerWebSocket, validKey } from "./_server_websocket.ts";

/** Options for {@linkcode WebGateway}. */
export interface WebGatewayOptions {
  /**
   * The host to listen on: a name, an IPv4 or IPv6 address, or `""` for
   * every interface. `localhost` listens on 127.0.0.1, and on ::1 at the
   * same port where the system has it.
   *
   * @default {"localhost"}
   */
  hostname?: string;
  /**
   * The TCP port, or 0 for a free one ({@linkcode WebGateway.port} tells
   * which).
   *
   * @default {0}
   */
  port?: number;
  /**
   * Origins, besides the page's own, whose pages may open the WebSocket,
   * such as `"https://studio.example"`. A browser sends its page's origin
   * with every WebSocket; one from any other origin is refused (403),
   * counted and reported, so that a page on another site cannot join the
   * bus through a visitor's browser. A request with no `Origin` (not from a
   * browser) is let through to the server's own checks (`allow`, `token`).
   *
   * @default {[]}
   */
  origins?: string[];
  /**
   * Other names that the gateway answers to, besides the ones it listens
   * on, such as `"studio.local"` or a name in DNS that points at it. A
   * request (for the page or the WebSocket) whose `Host` is none of the
   * gateway's names is refused (403), counted and reported: a page on
   * another site that makes its own name point at this machine (DNS
   * rebinding) cannot reach the gateway through a visitor's browser. The
   * gateway's own names are `localhost`, `127.0.0.1` and `[::1]`, the
   * `hostname` it was given and the addresses it listens on; on every
   * interface (`""`, `0.0.0.0`, `::`), also the machine's addresses where
   * the program may read them (`--allow-sys=networkInterfaces`).
   *
   * @default {[]}
   */
  hosts?: string[];
  /**
   * Serve HTTPS and WSS: a certificate chain and its private key, PEM text.
   * Web MIDI needs a secure context (HTTPS, or `localhost`).
   */
  tls?: { cert: string; key: string };
  /**
   * The most HTTP connections open at once that are not WebSockets: a
   * browser's connections for the page and its script, and any connection
   * that has not (yet) sent a whole request. One more closes the oldest of
   * them (the one whose current request began first), which is counted in
   * `stats.rejected` and reported with a `reject` event; the new one is
   * served. So a flood of idle connections cannot take the process's file
   * descriptors, and a browser that asks at once still gets the page. A
   * WebSocket leaves this count when it opens, and is one of the server's
   * clients, bounded by its `maxClients`: size the process's descriptor
   * limit (`ulimit -n`) for both, and some for the process itself.
   *
   * @default {128}
   */
  maxHttpConnections?: number;
  /**
   * How long, in milliseconds, an HTTP connection may take over each
   * request: from when it is accepted (or its last answer was sent) until
   * its request has come whole and been answered. One that takes longer
   * (an idle connection, a request sent a byte at a time, an answer never
   * read) is closed and counted in `stats.timedOut`; if it had sent part
   * of a request, it is also counted in `stats.rejected` and reported with
   * a `reject` event. A WebSocket is past this once it opens.
   *
   * @default {10000}
   */
  requestTimeout?: number;
}

/** Counters of a {@linkcode WebGateway}. */
export interface WebGatewayStats {
  /** HTTP requests answered (the page, its script, and WebSockets). */
  requests: number;
  /** WebSockets opened and handed to the server (which may refuse them). */
  sockets: number;
  /**
   * Requests and connections refused here: a `Host` that is not one of the
   * gateway's names, a WebSocket from a foreign Origin, a malformed
   * WebSocket upgrade, or one to a closed server; a connection closed over
   * `maxHttpConnections`, or after `requestTimeout` part-way through a
   * request.
   */
  rejected: number;
  /**
   * WebSockets closed for sending too much: a message bigger than the
   * transport's `maxUnreadBytes` (code 1009), or more than that not yet read
   * (code 1008).
   */
  overLimit: number;
  /** HTTP connections closed after `requestTimeout`. */
  timedOut: number;
  /**
   * accept() failures: a connection reset before it was accepted, or the
   * process out of file descriptors (the loop pauses, then goes on).
   */
  acceptErrors: number;
  /** HTTP connections open now, not WebSockets (see `maxHttpConnections`). */
  connections: number;
}

/** The events of a {@linkcode WebGateway}. */
export interface WebGatewayEventMap {
  /**
   * A request was refused before it reached the server (a foreign `Host` or
   * `Origin`, a malformed upgrade, a closed server), or a WebSocket was
   * closed for sending too much.
   */
  reject: RejectEvent;
  /**
   * accept() failed: a connection reset before it was accepted, or the
   * process is out of file descriptors (the gateway pauses, and goes on
   * accepting). Counted in `stats.acceptErrors`.
   */
  accepterror: ErrorEvent;
}

const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** A host name as a URL has it: lower case, an IPv6 address in brackets. */
function urlHostname(host: string): string {
  const bare = unbracket(host);
  if (bare.includes(":") && bare.includes("%")) {
    // A URL has no zone (RFC 6874 was withdrawn): no browser opens one.
    throw new SyntaxError(
      `Invalid host ${
        JSON.stringify(host)
      }: a browser cannot open an IPv6 address with a zone (${
        bare.slice(bare.indexOf("%"))
      }); listen on every interface ("::") and give this machine a name that resolves to it, such as "studio.local"`,
    );
  }
  try {
    return new URL(`http://${bare.includes(":") ? `[${bare}]` : bare}/`)
      .hostname;
  } catch {
    throw new SyntaxError(
      `Invalid host ${
        JSON.stringify(host)
      }: expected a name or an address, such as "studio.local"`,
    );
  }
}

/**
 * This machine's addresses, where the program may read them (else none:
 * the loopbacks and the names given still serve).
 */
function machineAddresses(): string[] {
  const state = Deno.permissions.querySync({
    name: "sys",
    kind: "networkInterfaces",
  }).state;
  if (state !== "granted") return [];
  // Not a link-local address with a zone (fe80::1%eth0): no URL has it.
  return Deno.networkInterfaces()
    .filter((i) => !i.address.includes("%"))
    .map((i) => urlHostname(i.address));
}

/** The name of a connection's peer, `host:port`. */
function peerName(conn: Deno.Conn): string {
  const remoteAddr = conn.remoteAddr as Deno.NetAddr;
  return addressName(remoteAddr) ?? remoteAddr.hostname;
}

/** A Host header that is a host and maybe a port, and nothing else. */
const HOST_HEADER =
  /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+;=-]+)(:[0-9]{0,5})?$/;

/** Whether a header's comma-separated list has `token`, in any case. */
function hasToken(value: string | null, token: string): boolean {
  return value !== null &&
    value.split(",").some((t) => t.trim().toLowerCase() === token);
}

/** The page and its script, encoded once. */
const PAGE: Answer = {
  status: 200,
  headers: { "content-type": "text/html; charset=utf-8", ...PAGE_HEADERS },
  body: new TextEncoder().encode(PAGE_HTML),
};
const SCRIPT: Answer = {
  status: 200,
  headers: {
    "content-type": "text/javascript; charset=utf-8",
    ...PAGE_HEADERS,
  },
  body: new TextEncoder().encode(PAGE_JS),
};

/** The most bytes of one message from a page: the transport's default. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** An answer in plain text. */
function text(status: number, body: string, headers = {}): Answer {
  return {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", ...headers },
    body,
  };
}

/** A WebSocket upgrade that passed every check. */
interface Upgrade {
  /** The request's URL. */
  url: URL;
  /** Its `Sec-WebSocket-Key`. */
  key: string;
}

/** An HTTP connection that is not a WebSocket. */
interface HttpConn {
  /** Its peer, `host:port`. */
  address: string;
  /** Whether a byte of its current request has come. */
  began: boolean;
  /** The timer of its current request. */
  timeout?: { signal: AbortSignal; [Symbol.dispose](): void };
  /** Its work: ends once it is closed and its last read has ended. */
  task?: Promise<void>;
}

/** An origin, as browsers send it: `scheme://host[:port]`. */
function normalOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new SyntaxError(
      `Invalid origin ${
        JSON.stringify(origin)
      }: expected scheme://host[:port], such as "https://studio.example"`,
    );
  }
  if (url.origin === "null" || url.pathname !== "/" || url.search) {
    throw new SyntaxError(
      `Invalid origin ${
        JSON.stringify(origin)
      }: expected scheme://host[:port] with no path, such as "https://studio.example"`,
    );
  }
  return url.origin;
}

/**
 * The browser gateway: an HTTP server that gives the midisock page at `/`
 * and a WebSocket at `/ws`, whose clients join a {@linkcode PortServer}'s
 * bus. Binary frames carry plain MIDI bytes, and each WebSocket is one more
 * client of the server ({@linkcode PortServer.admit}), so `allow`,
 * `maxClients`, `token`, relay, the queues, the slow-client rule and the
 * counters apply to it as to a TCP client. The page is built from this
 * package's own codec (`web/page.ts`, bundled), and needs nothing from the
 * network.
 *
 * It accepts its connections with the accept loop of the server's own
 * listeners, which never dies (running out of file descriptors pauses it,
 * and is reported), and speaks HTTP/1.1 and WebSocket (RFC 6455, without
 * extensions) itself: `Deno.serve` owns an accept loop that ends, and the
 * process with it, when the descriptors run out. The HTTP connections that
 * are not WebSockets are bounded (`maxHttpConnections`, the oldest goes),
 * and each request has `requestTimeout` to come and be answered.
 *
 * A request whose `Host` is not one of the gateway's names (see `hosts`) is
 * refused (403), as is a WebSocket whose `Origin` is neither the page's own
 * nor in `origins`. Closing the gateway closes its WebSockets (their
 * clients leave the bus) and its connections; closing the server closes
 * the WebSockets, not the gateway.
 *
 * @example A bus that a browser can join
 * ```ts
 * import { message, PortServer, SocketPort, WebGateway, WebSocketTransport } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using bus = new PortServer("127.0.0.1", 0, { relay: true });
 * await using web = new WebGateway(bus, { hostname: "127.0.0.1" });
 * const page = await fetch(web.url);
 * assert.match(await page.text(), /<title>midisock<\/title>/);
 *
 * // What the page does: a WebSocket at /ws, then plain MIDI bytes.
 * const ws = new WebSocket(new URL("/ws", web.url));
 * await using browser = new SocketPort(new WebSocketTransport(ws));
 * while (bus.ports.length < 1) await new Promise((r) => setTimeout(r, 1));
 * await bus.send(message("note_on", { note: 60 }));
 * assert.deepEqual(await browser.receive(), message("note_on", { note: 60 }));
 * ```
 */
export class WebGateway extends TypedEventTarget<WebGatewayEventMap> {
  #server: PortServer;
  #https: boolean;
  #origins: Set<string>;
  #names: Set<string>;
  #acceptors: Acceptor[];
  #maxHttp: number;
  #requestTimeout: number;
  // The HTTP connections, oldest request first.
  #http = new Map<NetConn, HttpConn>();
  // Each connection's work, until it is closed (as HTTP, then WebSocket).
  #tasks = new Set<Promise<void>>();
  #sockets = new Set<WebSocketTransport>();
  #host: string;
  #closing: Promise<void> | undefined;
  #requests = 0;
  #opened = 0;
  #rejected = 0;
  #overLimit = 0;
  #timedOut = 0;
  #acceptErrors = 0;

  /**
   * Starts serving.
   *
   * @param server The server whose bus the WebSockets join.
   * @param options Where to listen, other origins and names to allow, TLS,
   * and the bounds of HTTP connections.
   * @throws {SyntaxError} For a bad origin or host, named.
   * @throws {RangeError} For a port, bound or timeout out of range.
   * @throws {Deno.errors.AddrInUse} If the port is taken; the message
   * names `host:port`.
   */
  constructor(server: PortServer, options: WebGatewayOptions = {}) {
    super();
    const {
      hostname = "localhost",
      port = 0,
      origins = [],
      hosts = [],
      tls,
      maxHttpConnections = 128,
      requestTimeout = 10_000,
    } = options;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(
        `Invalid port for the web gateway: expected an integer in 0..65535, got ${port}`,
      );
    }
    for (
      const [field, value] of [
        ["maxHttpConnections", maxHttpConnections],
        ["requestTimeout", requestTimeout],
      ] as const
    ) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(
          `Invalid ${field} option: expected an integer >= 1, got ${value}`,
        );
      }
    }
    for (const [field, value] of [["origins", origins], ["hosts", hosts]]) {
      if (!Array.isArray(value)) {
        throw new TypeError(
          `Invalid ${field} option: expected an array of strings, got ${typeof value}`,
        );
      }
    }
    this.#server = server;
    this.#https = tls !== undefined;
    this.#maxHttp = maxHttpConnections;
    this.#requestTimeout = requestTimeout;
    this.#origins = new Set(origins.map(normalOrigin));
    // Its own names: the loopbacks, the ones given, the host it listens
    // on, or this machine's addresses for every interface (and below, the
    // addresses it listens on).
    const everywhere = ["", "0.0.0.0", "::"].includes(unbracket(hostname));
    this.#names = new Set([
      ...["localhost", "127.0.0.1", "::1", ...hosts].map(urlHostname),
      ...(everywhere ? machineAddresses() : [urlHostname(hostname)]),
    ]);
    this.#host = hostname;
    // HTTP/1.1 only, with TLS too (no ALPN): a WebSocket is an HTTP/1.1
    // upgrade.
    this.#acceptors = listenAll(hostname, port, tls).map((listener) =>
      new Acceptor(
        listener,
        (conn) => this.#take(conn),
        (error) => this.#acceptError(error),
      )
    );
    for (const { hostname: address } of this.addrs) {
      if (!["0.0.0.0", "::"].includes(address)) {
        this.#names.add(urlHostname(address));
      }
    }
  }

  /** The TCP port that the gateway listens on. */
  get port(): number {
    return this.#acceptors[0].addr.port;
  }

  /** The addresses that the gateway listens on. */
  get addrs(): Deno.NetAddr[] {
    return this.#acceptors.map((acceptor) => acceptor.addr);
  }

  /**
   * The page's address, `http://host:port/` (or `https://`): where a
   * browser opens it.
   */
  get url(): string {
    // Every interface: the page is at localhost, for this machine.
    const bare = unbracket(this.#host);
    const host = ["", "0.0.0.0", "::"].includes(bare) ? "localhost" : bare;
    return `${this.#scheme}://${formatAddress(host, this.port)}/`;
  }

  /**
   * The most HTTP connections open at once that are not WebSockets (the
   * `maxHttpConnections` option).
   */
  get maxHttpConnections(): number {
    return this.#maxHttp;
  }

  /**
   * Counters of requests, WebSockets, requests and connections refused,
   * WebSockets closed for sending too much, connections timed out, accept
   * errors, and the HTTP connections open now.
   */
  get stats(): WebGatewayStats {
    return {
      requests: this.#requests,
      sockets: this.#opened,
      rejected: this.#rejected,
      overLimit: this.#overLimit,
      timedOut: this.#timedOut,
      acceptErrors: this.#acceptErrors,
      connections: this.#http.size,
    };
  }

  /** Whether the gateway is closed. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  get #scheme(): string {
    return this.#https ? "https" : "http";
  }

  #acceptError(error: Error): void {
    this.#acceptErrors++;
    this.dispatchEvent(
      new ErrorEvent("accepterror", { error, message: error.message }),
    );
  }

  // A connection from the accept loop. Over the bound, the oldest HTTP
  // connection goes: an idle one, most likely, and not this one, which may
  // be a browser's that asks at once. The loop accepts again once the
  // oldest has let go of its descriptor (Deno frees it when its pending
  // read ends, not at close()): so a flood never holds more than
  // maxHttpConnections of them.
  #take(conn: NetConn): Taking | undefined {
    if (this.closed) {
      closeQuietly(conn);
      return;
    }
    let evicted: Promise<void> | undefined;
    if (this.#http.size >= this.#maxHttp) {
      const [oldest, held] = this.#http.entries().next().value!;
      this.#forget(oldest);
      closeQuietly(oldest);
      this.#reject(held.address, `over maxHttpConnections (${this.#maxHttp})`);
      evicted = held.task;
    }
    const task = this.#serve(conn);
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
    return { room: evicted };
  }

  // Starts the clock of a connection's next request, and makes it the
  // newest.
  #wait(conn: NetConn, held: HttpConn): void {
    held.timeout?.[Symbol.dispose]();
    this.#http.delete(conn);
    this.#http.set(conn, held);
    const timeout = timeoutSignal(this.#requestTimeout);
    held.timeout = timeout;
    whenAborted(timeout.signal).then(() => {
      if (held.timeout !== timeout || !this.#http.has(conn)) return;
      this.#forget(conn);
      closeQuietly(conn);
      this.#timedOut++;
      if (held.began) {
        this.#reject(
          held.address,
          `request not done within requestTimeout (${this.#requestTimeout} ms)`,
        );
      }
    });
  }

  // Takes a connection out of the HTTP ones, and stops its clock.
  #forget(conn: NetConn): void {
    const held = this.#http.get(conn);
    if (!held) return;
    held.timeout?.[Symbol.dispose]();
    held.timeout = undefined;
    this.#http.delete(conn);
  }

  // Serves a connection's requests until it closes, or becomes a WebSocket.
  #serve(conn: NetConn): Promise<void> {
    const held: HttpConn = { address: peerName(conn), began: false };
    held.task = this.#served(conn, held);
    return held.task;
  }

  async #served(conn: NetConn, held: HttpConn): Promise<void> {
    this.#wait(conn, held);
    const reader = new HttpReader(conn);
    let upgraded = false;
    try {
      if ("setNoDelay" in conn) conn.setNoDelay(true); // MIDI: no waiting
      while (this.#http.has(conn)) {
        let head: RequestHead | null;
        try {
          head = await reader.readHead(() => held.began = true);
        } catch (error) {
          if (!(error instanceof HttpError)) return; // closed, or failed
          const answer = text(error.status, `${error.message}\n`);
          await writeAll(conn, answerBytes(answer, { close: true }));
          return;
        }
        if (head === null) return;
        this.#requests++;
        let close = head.version === "HTTP/1.0" ||
          hasToken(head.headers.get("connection"), "close");
        // A body (no browser sends the page one): a small one is read and
        // dropped; any other makes the connection close after the answer.
        const length = head.headers.get("content-length");
        if (head.headers.has("transfer-encoding")) {
          close = true;
        } else if (length !== null) {
          if (!/^\d+$/.test(length)) {
            const answer = text(400, "Bad request: bad Content-Length\n");
            await writeAll(conn, answerBytes(answer, { close: true }));
            return;
          }
          if (!await reader.dropBody(Number(length))) close = true;
        }
        const route = this.#route(head, conn);
        if ("status" in route) {
          close ||= route.status === 400; // a request it could not read
          await writeAll(
            conn,
            answerBytes(route, { head: head.method === "HEAD", close }),
          );
          if (close) return;
          held.began = reader.holding;
          this.#wait(conn, held);
          continue;
        }
        upgraded = true;
        this.#forget(conn);
        await this.#open(conn, route, reader.rest());
        return;
      }
    } catch {
      // The connection failed, or was closed under a read or a write.
    } finally {
      this.#forget(conn);
      if (!upgraded) closeQuietly(conn);
    }
  }

  // What a request gets: an answer, or an upgrade to make.
  #route(head: RequestHead, conn: NetConn): Answer | Upgrade {
    let url: URL;
    try {
      url = this.#url(head);
    } catch (error) {
      return text(400, `Bad request: ${(error as Error).message}\n`);
    }
    // The name the browser asked for: a page whose own name points here
    // may not come in.
    if (!this.#names.has(url.hostname)) {
      const reason = `host ${url.hostname} is not allowed`;
      this.#reject(peerName(conn), reason);
      return text(403, `Forbidden: ${reason}\n`);
    }
    if (head.method !== "GET" && head.method !== "HEAD") {
      return text(405, "Method not allowed\n", { allow: "GET, HEAD" });
    }
    switch (url.pathname) {
      case "/":
      case "/index.html":
        return PAGE;
      case "/midisock.js":
        return SCRIPT;
      case "/ws":
        return this.#upgrade(head, conn, url);
      default:
        return text(404, "Not found\n");
    }
  }

  // The request's URL, its host from the Host header (or from the target,
  // if it is a whole URL).
  #url(head: RequestHead): URL {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(head.target)) {
      return new URL(head.target);
    }
    const host = head.headers.get("host");
    if (host === null) throw new Error("no Host header");
    if (!HOST_HEADER.test(host)) throw new Error("bad Host header");
    if (!head.target.startsWith("/")) throw new Error("bad request target");
    return new URL(`${this.#scheme}://${host}${head.target}`);
  }

  #upgrade(head: RequestHead, conn: NetConn, url: URL): Answer | Upgrade {
    const address = peerName(conn);
    const headers = head.headers;
    if (headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return text(426, "Expected a WebSocket upgrade\n");
    }
    const origin = headers.get("origin");
    // The page's own origin: where the browser found it, by one of the
    // gateway's names (the Host was checked).
    const own = `${this.#scheme}://${url.host}`;
    if (origin !== null && origin !== own && !this.#origins.has(origin)) {
      const reason = `origin ${origin} is not allowed`;
      this.#reject(address, reason);
      return text(403, `Forbidden: ${reason}\n`);
    }
    if (this.closed || this.#server.closed) {
      const reason = "the server is closed";
      this.#reject(address, reason);
      return text(503, `Service unavailable: ${reason}\n`);
    }
    const key = headers.get("sec-websocket-key");
    const version = headers.get("sec-websocket-version");
    const bad = head.method !== "GET"
      ? `the method is ${head.method}, not GET`
      : !hasToken(headers.get("connection"), "upgrade")
      ? "no Connection: Upgrade header"
      : !validKey(key)
      ? "no Sec-WebSocket-Key of 16 bytes in base64"
      : version !== "13"
      ? `Sec-WebSocket-Version ${version ?? "missing"}, not 13`
      : undefined;
    if (bad !== undefined) {
      const reason = `bad WebSocket upgrade: ${bad}`;
      this.#reject(address, reason);
      return text(
        version === "13" ? 400 : 426,
        `Bad request: ${reason}\n`,
        { "sec-websocket-version": "13" },
      );
    }
    return { url, key: key! };
  }

  // Answers an upgrade (101), and hands the WebSocket to the server.
  async #open(conn: NetConn, upgrade: Upgrade, rest: Uint8Array) {
    const { url } = upgrade;
    const address = peerName(conn);
    // The answer first: no frame may go before it.
    const answer: Answer = {
      status: 101,
      headers: {
        upgrade: "websocket",
        connection: "Upgrade",
        "sec-websocket-accept": await acceptKey(upgrade.key),
      },
    };
    try {
      await writeAll(conn, answerBytes(answer));
    } catch {
      closeQuietly(conn); // it went before it was answered
      return;
    }
    const socket = new ServerWebSocket(conn, {
      url: `${this.#https ? "wss" : "ws"}://${url.host}${url.pathname}`,
      maxMessageBytes: MAX_MESSAGE_BYTES,
      tooBig: (bytes, whole) => {
        const reason = `${
          whole ? "a frame of" : "a message in frames of at least"
        } ${bytes} bytes, over maxUnreadBytes (${MAX_MESSAGE_BYTES})`;
        this.#overLimit++;
        this.dispatchEvent(new RejectEvent("reject", { address, reason }));
        return reason;
      },
    });
    const transport = new WebSocketTransport(socket as unknown as WebSocket, {
      remoteAddr: conn.remoteAddr,
      localAddr: conn.localAddr,
      maxUnreadBytes: MAX_MESSAGE_BYTES,
      // The page asks to be told who sent each message.
      senders: url.searchParams.get("senders") === "1",
      onLimit: (reason) => {
        this.#overLimit++;
        this.dispatchEvent(new RejectEvent("reject", { address, reason }));
      },
    });
    this.#sockets.add(transport);
    socket.start(rest);
    if (this.closed || this.#server.closed) {
      transport.close("the server is closed");
    } else {
      this.#opened++;
      try {
        this.#server.admit(transport);
      } catch {
        transport.close("the server is closed"); // closed in between
      }
    }
    await socket.done;
    this.#sockets.delete(transport);
  }

  #reject(address: string, reason: string): void {
    this.#rejected++;
    this.dispatchEvent(new RejectEvent("reject", { address, reason }));
  }

  /**
   * Closes every WebSocket it opened (their clients leave the bus) and
   * every HTTP connection, and stops listening.
   *
   * @returns When every connection is closed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const acceptor of this.#acceptors) acceptor.close();
      for (const conn of [...this.#http.keys()]) {
        this.#forget(conn);
        closeQuietly(conn);
      }
      for (const transport of this.#sockets) transport.close();
      await Promise.all(this.#acceptors.map((acceptor) => acceptor.done));
      await Promise.all(this.#tasks);
    })();
    return this.#closing;
  }

  /**
   * Closes the gateway: `await using web = new WebGateway(...)`.
   *
   * @returns When it is closed.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Closes a connection that may be closed already. */
function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
