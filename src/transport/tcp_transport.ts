// Copyright 2026 the midisock authors. MIT license.

import { directIo, ReadBuffer } from "./byte_io.ts";
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
    // A SocketPort reads the connection itself, with no
    // wrapper's promise between (see docs/benchmarks.md, the round trip's
    // tail).
    directIo.set(this, {
      read: (buf) => conn.read(buf),
      ended: (error) => this.#ended(error),
    });
    // Each chunk is a copy of what a read got, in one buffer that grows
    // with the traffic: an idle connection holds 2 KiB while it waits.
    const buffer = new ReadBuffer();
    this.readable = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const n = await this.read(buffer.buffer);
        if (n === null) {
          controller.close();
        } else {
          controller.enqueue(buffer.buffer.slice(0, n));
          buffer.got(n);
        }
      },
      cancel: () => this.close(),
    }, { highWaterMark: 0 });
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      close: () => this.closeWrite(),
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

  /**
   * Reads the peer's next bytes into `buf` (what `readable` is made of).
   *
   * @param buf Where to read.
   * @returns How many bytes, or null at the end of stream or after close().
   * @throws For a failed connection (a reset).
   */
  read(buf: Uint8Array): Promise<number | null> {
    // No async function: one promise a read, not three, on the path of
    // every message (see docs/benchmarks.md, the round trip's tail).
    return this.#conn.read(buf).catch(this.#readFailed);
  }

  #readFailed = (error: unknown): null => {
    if (this.#ended(error)) return null;
    throw error;
  };

  // Whether a read's error means the end: this end closed the connection.
  #ended(error: unknown): boolean {
    return this.#closed || isLocalClose(error);
  }

  /**
   * Writes all of `bytes` (what `writable` is made of).
   *
   * @param bytes The bytes.
   * @returns When the system has them all.
   */
  write(bytes: Uint8Array): Promise<void> {
    // Most writes take every byte at once: no async function for them, and
    // while no other write is in flight (a port writes one at a time), no
    // closure either.
    if (this.#writing === undefined) {
      this.#writing = bytes;
      return this.#conn.write(bytes).then(this.#wrote, this.#writeFailed);
    }
    return this.#conn.write(bytes).then((n) =>
      n < bytes.length ? this.#writeRest(bytes, n) : undefined
    );
  }

  // The bytes of the write in flight that #wrote finishes.
  #writing: Uint8Array | undefined;

  #wrote = (n: number): Promise<void> | undefined => {
    const bytes = this.#writing!;
    this.#writing = undefined;
    return n < bytes.length ? this.#writeRest(bytes, n) : undefined;
  };

  #writeFailed = (error: unknown): never => {
    this.#writing = undefined;
    throw error;
  };

  async #writeRest(bytes: Uint8Array, off: number): Promise<void> {
    while (off < bytes.length) {
      off += await this.#conn.write(bytes.subarray(off));
    }
  }

  /**
   * Shuts the write side: the peer sees end of stream, and reading goes on.
   *
   * @returns When it is shut.
   */
  async closeWrite(): Promise<void> {
    try {
      await this.#conn.closeWrite();
    } catch {
      // Already closed or reset: the peer sees the end either way.
    }
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
