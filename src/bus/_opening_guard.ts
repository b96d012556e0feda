// Copyright 2026 the midisock authors. MIT license.
// Private: a client's connection, as a server reads it, that holds the
// first bytes until they show what the client speaks. A TLS record or an
// HTTP request cannot open a MIDI stream (0x16 and ASCII letters are data
// bytes with no status), so such a client is turned away there, and not
// one of its bytes reaches the port's parser. A mido peer, whose first
// byte is a status byte, goes through at once, untouched.

import {
  type HelloFields,
  HelloReader,
  HTTP_OPENING,
  type Opening,
  opening,
  TLS_OPENING,
} from "../transport/hello.ts";
import { concat } from "../util/grow.ts";

/** What a client opened with, as {@linkcode OpeningGuard.readHello} reads it. */
export type Opened =
  | { kind: "hello"; fields: HelloFields } // a hello line (the token too)
  | { kind: "probe"; reason: string } // TLS or HTTP (PROBE_REASONS)
  | { kind: "bad"; reason: string } // a bad hello line
  | { kind: "none" } // MIDI, with no hello line
  | { kind: "end" }; // the end of the stream (or its close) first

/** Why a client is turned away at its first bytes. */
const PROBE_REASONS: Readonly<Record<"tls" | "http", string>> = {
  tls: "TLS client on a plaintext port",
  http: "HTTP request on a MIDI port",
};

/**
 * A TCP or TLS connection that holds its first bytes (at most
 * MAX_OPENING, 12) until they show whether the client speaks TLS or HTTP
 * rather than MIDI. If it does, `onProbe` is told why, the connection is
 * closed, and the port reads the end of the stream. It has the part of a
 * `Deno.Conn` that a port's TcpTransport uses (read, write, closeWrite,
 * close, setNoDelay, the addresses), so a SocketPort takes it as a conn:
 * {@linkcode OpeningGuard.conn}.
 */
export class OpeningGuard implements
  Pick<
    Deno.Conn,
    "read" | "write" | "closeWrite" | "close" | "localAddr" | "remoteAddr"
  > {
  #conn: Deno.Conn;
  #onProbe: (reason: string) => void;
  #held: Uint8Array | undefined = new Uint8Array(0); // undefined: decided
  #rest: Uint8Array | undefined; // held bytes that did not fit a read
  #refusal: string | undefined;

  /**
   * Guards a connection.
   *
   * @param conn The client's connection. The guard owns it.
   * @param onProbe Told why, if the client turns out to be no MIDI peer.
   */
  constructor(conn: Deno.Conn, onProbe: (reason: string) => void) {
    this.#conn = conn;
    this.#onProbe = onProbe;
  }

  /**
   * The guard, typed as the conn that a SocketPort wraps (in a
   * TcpTransport, which uses only the members that the guard has).
   */
  get conn(): Deno.Conn {
    return this as unknown as Deno.Conn;
  }

  /**
   * Reads the client's opening: its hello line, if it opens with one, or
   * enough to know that it does not (a TLS or HTTP client too). The bytes
   * read are held, and read() gives them first, as if they had not been
   * read: a port made of the guard then reads the hello line itself. The
   * fields include the token: they are for the server's check alone. Ends
   * when the connection is closed (so a deadline closes it).
   *
   * @returns What the client opened with.
   */
  async readHello(): Promise<Opened> {
    const reader = new HelloReader();
    const buf = new Uint8Array(MAX_HELLO_READ);
    let held: Uint8Array = this.#held ?? new Uint8Array(0);
    this.#held = undefined; // decided here, whatever comes
    try {
      while (true) {
        let n: number | null;
        try {
          n = await this.#conn.read(buf);
        } catch {
          n = null; // closed, or reset
        }
        if (n === null) return { kind: "end" };
        const chunk = buf.subarray(0, n);
        held = concat([held, chunk]);
        const result = reader.feed(chunk);
        switch (result.state) {
          case "more":
            continue;
          case "hello":
            return { kind: "hello", fields: result.fields };
          case "none":
            return { kind: "none" };
          case "bad": {
            const kind = result.reason === TLS_OPENING
              ? "tls"
              : result.reason === HTTP_OPENING
              ? "http"
              : undefined;
            if (kind === undefined) {
              return { kind: "bad", reason: result.reason };
            }
            this.#refusal = PROBE_REASONS[kind];
            return { kind: "probe", reason: this.#refusal };
          }
        }
      }
    } finally {
      this.#rest = held.length > 0 ? held : undefined;
    }
  }

  /** Why the client was turned away at its first bytes, if it was. */
  get refusal(): string | undefined {
    return this.#refusal;
  }

  /** The address of this end. */
  get localAddr(): Deno.Addr {
    return this.#conn.localAddr;
  }

  /** The client's address. */
  get remoteAddr(): Deno.Addr {
    return this.#conn.remoteAddr;
  }

  /**
   * Reads the client's next bytes into `buf`: the first ones once they are
   * known to be no TLS or HTTP, then as they come.
   *
   * @param buf Where to read.
   * @returns How many bytes, or null at the end (and for a probe).
   */
  read(buf: Uint8Array): Promise<number | null> {
    if (this.#rest) return Promise.resolve(this.#give(this.#rest, buf));
    // Once the first bytes are known, the connection's own read, with no
    // promise of this guard's between.
    if (this.#held === undefined) return this.#conn.read(buf);
    return this.#readFirst(buf);
  }

  // Reads until the first bytes say they are no TLS or HTTP.
  async #readFirst(buf: Uint8Array): Promise<number | null> {
    while (true) {
      const n = await this.#conn.read(buf);
      const held = this.#held ?? new Uint8Array(0);
      if (n === null) {
        this.#held = undefined;
        return held.length > 0 ? this.#give(held, buf) : null;
      }
      const chunk = buf.subarray(0, n);
      const bytes: Uint8Array = held.length === 0
        ? chunk
        : concat([held, chunk]);
      const kind: Opening = opening(bytes);
      if (kind === "more") {
        this.#held = bytes === chunk ? chunk.slice() : bytes;
        continue;
      }
      this.#held = undefined;
      if (kind !== undefined) {
        this.#refusal = PROBE_REASONS[kind];
        this.close();
        this.#onProbe(this.#refusal);
        return null;
      }
      return bytes === chunk ? n : this.#give(bytes, buf);
    }
  }

  /**
   * Writes some of `bytes`, as `Deno.Conn.write()` does.
   *
   * @param bytes The bytes.
   * @returns How many were written.
   */
  write(bytes: Uint8Array): Promise<number> {
    return this.#conn.write(bytes);
  }

  /**
   * Shuts the write side.
   *
   * @returns When it is shut.
   */
  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  /**
   * Turns TCP_NODELAY on or off, where the connection has it.
   *
   * @param noDelay Whether to turn it on.
   */
  setNoDelay(noDelay?: boolean): void {
    if ("setNoDelay" in this.#conn) {
      (this.#conn as Deno.TcpConn).setNoDelay(noDelay);
    }
  }

  /** Closes the connection. Closing twice is harmless. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  // Hands held bytes on, as many as fit; the rest waits for the next read.
  #give(bytes: Uint8Array, buf: Uint8Array): number {
    const n = Math.min(bytes.length, buf.length);
    buf.set(bytes.subarray(0, n));
    this.#rest = n < bytes.length ? bytes.slice(n) : undefined;
    return n;
  }
}

// What readHello() reads at a time: a hello line's worth.
const MAX_HELLO_READ = 512;
