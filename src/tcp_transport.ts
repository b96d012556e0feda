// Copyright 2026 the midisock authors. MIT license.

import type { Transport } from "./transport.ts";

/** Options for {@linkcode TcpTransport}. */
export interface TcpTransportOptions {
  /**
   * Turn on TCP_NODELAY, so that each write goes out at once.
   *
   * @default {true}
   */
  noDelay?: boolean;
}

// A connection's read buffer starts small, so an idle client costs little,
// and doubles each time a read fills it, up to MAX_READ.
const MIN_READ = 2 * 1024;
const MAX_READ = 16 * 1024;

/** Whether a read or write failed because this end closed the connection. */
function isLocalClose(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted;
}

/**
 * A TCP or TLS connection (a `Deno.Conn`, from `Deno.connect`,
 * `Deno.connectTls` or a listener's `accept()`) as a {@linkcode Transport}.
 *
 * Unlike the connection's own `readable` and `writable`, which close the
 * whole connection when either of them ends, these half-close: the peer's
 * end of stream ends the readable and leaves the writable open (so a port
 * can still send what it has queued), and closing the writable shuts the
 * write side only (`closeWrite()`).
 *
 * @example Wrapping a connection that you opened yourself
 * ```ts
 * import { message, PortServer, SocketPort, TcpTransport } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0);
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
 * await using port = new SocketPort(new TcpTransport(conn), { name: "synth" });
 * await port.send(message("start"));
 * assert.deepEqual(await server.receive(), message("start"));
 * assert.equal(port.name, "synth");
 * ```
 */
export class TcpTransport implements Transport {
  #conn: Deno.Conn;
  #closed = false;
  // Every read goes into this one buffer, and each chunk is a copy of what
  // the read got. An idle connection holds MIN_READ bytes while it waits.
  #buf = new Uint8Array(MIN_READ);
  /** The bytes that the peer sends. It ends at the peer's end of stream. */
  readonly readable: ReadableStream<Uint8Array>;
  /** The bytes to send. Closing it shuts the write side only. */
  readonly writable: WritableStream<Uint8Array>;

  /**
   * Wraps a connection. The transport owns it from now on.
   *
   * @param conn An open TCP or TLS connection.
   * @param options TCP_NODELAY.
   */
  constructor(conn: Deno.Conn, options: TcpTransportOptions = {}) {
    this.#conn = conn;
    if ((options.noDelay ?? true) && "setNoDelay" in conn) {
      try {
        (conn as Deno.TcpConn).setNoDelay(true);
      } catch {
        // The connection is already gone; the first read or write says so.
      }
    }
    this.readable = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const buf = this.#buf;
        let n: number | null;
        try {
          n = await conn.read(buf);
        } catch (error) {
          if (this.#closed || isLocalClose(error)) controller.close();
          else controller.error(error);
          return;
        }
        if (n === null) {
          controller.close();
          return;
        }
        controller.enqueue(buf.slice(0, n));
        if (n === buf.length && n < MAX_READ) {
          this.#buf = new Uint8Array(Math.min(MAX_READ, n * 2));
        }
      },
      cancel: () => this.close(),
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      write: async (chunk) => {
        let off = 0;
        while (off < chunk.length) off += await conn.write(chunk.subarray(off));
      },
      close: async () => {
        try {
          await conn.closeWrite();
        } catch {
          // Already closed or reset: the peer sees the end either way.
        }
      },
      abort: () => this.close(),
    });
  }

  /** The address of this end. */
  get localAddr(): Deno.Addr {
    return this.#conn.localAddr;
  }

  /** The peer's address. */
  get remoteAddr(): Deno.Addr {
    return this.#conn.remoteAddr;
  }

  /** Closes the connection, both ways, at once. Closing twice is harmless. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }
}
