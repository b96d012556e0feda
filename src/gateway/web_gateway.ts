// Copyright 2026 the midisock authors. MIT license.

import { errorText } from "../util/error_text.ts";
import { unbracket } from "../transport/hosts.ts";
import { bindAll } from "../transport/listen.ts";
import { PAGE_HTML, PAGE_JS } from "./_web_assets.ts";
import { formatAddress } from "../transport/address.ts";
import { RejectEvent } from "../bus/events.ts";
import type { PortServer } from "../bus/port_server.ts";
import { addressName } from "../transport/address.ts";
import { TypedEventTarget } from "../util/typed_event_target.ts";
import { WebSocketTransport } from "../transport/websocket_transport.ts";

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
}

/** Counters of a {@linkcode WebGateway}. */
export interface WebGatewayStats {
  /** HTTP requests answered (the page, its script, and WebSockets). */
  requests: number;
  /** WebSockets opened and handed to the server (which may refuse them). */
  sockets: number;
  /**
   * Requests refused here: a `Host` that is not one of the gateway's names,
   * a WebSocket from a foreign Origin, a malformed WebSocket upgrade, or one
   * to a closed server.
   */
  rejected: number;
  /**
   * WebSockets closed for sending too much: a frame bigger than the
   * transport's `maxUnreadBytes` (code 1009), or more than that not yet read
   * (code 1008).
   */
  overLimit: number;
}

/** The events of a {@linkcode WebGateway}. */
export interface WebGatewayEventMap {
  /**
   * A request was refused before it reached the server (a foreign `Host` or
   * `Origin`, a malformed upgrade, a closed server), or a WebSocket was
   * closed for sending too much.
   */
  reject: RejectEvent;
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

/** The name of a request's peer, `host:port`. */
function peerName(info: Deno.ServeHandlerInfo): string {
  const remoteAddr = info.remoteAddr as Deno.NetAddr;
  return addressName(remoteAddr) ?? remoteAddr.hostname;
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
 * It uses `Deno.serve` and `Deno.upgradeWebSocket`. A request whose `Host`
 * is not one of the gateway's names (see `hosts`) is refused (403), as is a
 * WebSocket whose `Origin` is neither the page's own nor in `origins`.
 * Closing the gateway closes its WebSockets (their clients leave the bus)
 * and the HTTP server; closing the server closes the WebSockets, not the
 * gateway.
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
  #servers: Deno.HttpServer<Deno.NetAddr>[];
  #unbound: Promise<void>[] = [];
  #sockets = new Set<WebSocketTransport>();
  #host: string;
  #closing: Promise<void> | undefined;
  #requests = 0;
  #opened = 0;
  #rejected = 0;
  #overLimit = 0;

  /**
   * Starts serving.
   *
   * @param server The server whose bus the WebSockets join.
   * @param options Where to listen, other origins and names to allow, and
   * TLS.
   * @throws {SyntaxError} For a bad origin or host, named.
   * @throws {RangeError} For a port out of range.
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
    } = options;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(
        `Invalid port for the web gateway: expected an integer in 0..65535, got ${port}`,
      );
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
    const handler = (request: Request, info: Deno.ServeHandlerInfo) =>
      this.#handle(request, info);
    this.#servers = bindAll(
      hostname,
      port,
      (host, at) =>
        Deno.serve({
          hostname: host,
          port: at,
          onListen() {},
          ...(tls ? { cert: tls.cert, key: tls.key } : {}),
        }, handler),
      (http) => http.addr.port,
      // A server given up (its port was taken in the other family): its
      // shutdown is awaited by close().
      (http) => this.#unbound.push(http.shutdown().catch(() => {})),
    );
    for (const { hostname: address } of this.addrs) {
      if (!["0.0.0.0", "::"].includes(address)) {
        this.#names.add(urlHostname(address));
      }
    }
  }

  /** The TCP port that the gateway listens on. */
  get port(): number {
    return this.#servers[0].addr.port;
  }

  /** The addresses that the gateway listens on. */
  get addrs(): Deno.NetAddr[] {
    return this.#servers.map((server) => server.addr);
  }

  /**
   * The page's address, `http://host:port/` (or `https://`): where a
   * browser opens it.
   */
  get url(): string {
    // Every interface: the page is at localhost, for this machine.
    const bare = unbracket(this.#host);
    const host = ["", "0.0.0.0", "::"].includes(bare) ? "localhost" : bare;
    return `${this.#https ? "https" : "http"}://${
      formatAddress(host, this.port)
    }/`;
  }

  /**
   * Counters of requests, WebSockets, requests refused, and WebSockets
   * closed for sending too much.
   */
  get stats(): WebGatewayStats {
    return {
      requests: this.#requests,
      sockets: this.#opened,
      rejected: this.#rejected,
      overLimit: this.#overLimit,
    };
  }

  /** Whether the gateway is closed. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  #handle(request: Request, info: Deno.ServeHandlerInfo): Response {
    this.#requests++;
    const url = new URL(request.url);
    // The name the browser asked for (Deno takes the URL's host from the
    // Host header): a page whose own name points here may not come in.
    if (!this.#names.has(url.hostname)) {
      const reason = `host ${url.hostname} is not allowed`;
      this.#reject(peerName(info), reason);
      return new Response(`Forbidden: ${reason}\n`, { status: 403 });
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response("Method not allowed\n", {
        status: 405,
        headers: { allow: "GET, HEAD" },
      });
    }
    switch (url.pathname) {
      case "/":
      case "/index.html":
        return new Response(PAGE_HTML, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            ...PAGE_HEADERS,
          },
        });
      case "/midisock.js":
        return new Response(PAGE_JS, {
          headers: {
            "content-type": "text/javascript; charset=utf-8",
            ...PAGE_HEADERS,
          },
        });
      case "/ws":
        return this.#upgrade(request, info, url);
      default:
        return new Response("Not found\n", { status: 404 });
    }
  }

  #upgrade(
    request: Request,
    info: Deno.ServeHandlerInfo,
    url: URL,
  ): Response {
    const remoteAddr = info.remoteAddr as Deno.NetAddr;
    const address = peerName(info);
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("Expected a WebSocket upgrade\n", { status: 426 });
    }
    const origin = request.headers.get("origin");
    // The page's own origin: where the browser found it, by one of the
    // gateway's names (the Host was checked).
    const own = `${this.#https ? "https" : "http"}://${url.host}`;
    if (origin !== null && origin !== own && !this.#origins.has(origin)) {
      const reason = `origin ${origin} is not allowed`;
      this.#reject(address, reason);
      return new Response(`Forbidden: ${reason}\n`, { status: 403 });
    }
    if (this.closed || this.#server.closed) {
      const reason = "the server is closed";
      this.#reject(address, reason);
      return new Response(`Service unavailable: ${reason}\n`, { status: 503 });
    }
    let upgrade;
    try {
      upgrade = Deno.upgradeWebSocket(request);
    } catch (error) {
      // Such as an Upgrade header with no "Connection: Upgrade".
      const reason = `bad WebSocket upgrade: ${errorText(error)}`;
      this.#reject(address, reason);
      return new Response(`Bad request: ${reason}\n`, { status: 400 });
    }
    const { socket, response } = upgrade;
    const transport = new WebSocketTransport(socket, {
      remoteAddr,
      localAddr: this.#servers[0].addr,
      // The page asks to be told who sent each message.
      senders: url.searchParams.get("senders") === "1",
      onLimit: (reason) => {
        this.#overLimit++;
        this.dispatchEvent(new RejectEvent("reject", { address, reason }));
      },
    });
    this.#sockets.add(transport);
    socket.addEventListener("close", () => this.#sockets.delete(transport));
    // The server takes it in once it is open: a socket that is still
    // opening cannot be closed with a reason.
    socket.addEventListener("open", () => {
      if (this.closed || this.#server.closed) {
        transport.close("the server is closed");
        return;
      }
      this.#opened++;
      this.#server.admit(transport);
    }, { once: true });
    return response;
  }

  #reject(address: string, reason: string): void {
    this.#rejected++;
    this.dispatchEvent(new RejectEvent("reject", { address, reason }));
  }

  /**
   * Closes every WebSocket it opened (their clients leave the bus) and
   * stops serving.
   *
   * @returns When the HTTP servers have finished.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const transport of this.#sockets) transport.close();
      this.#sockets.clear();
      await Promise.all([
        ...this.#servers.map((server) => server.shutdown()),
        ...this.#unbound,
      ]);
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
