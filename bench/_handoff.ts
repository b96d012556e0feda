// Copyright 2026 the midisock authors. MIT license.
/**
 * The floor under any port API on a `Deno.Conn`, for net_bench.ts's round
 * trip: a loop that keeps a read pending (as a port must, to see the peer
 * go away while no one receives), and hands what it read to the reader
 * through one promise. It parses nothing and allocates no message: what
 * it costs over a raw read is the hand-off alone.
 *
 * @module
 */

/** A connection read by a loop of its own, its reads handed on. */
export class HandOff {
  #conn: Deno.Conn;
  #buf = new Uint8Array(64 * 1024);
  #got = 0; // bytes read and not yet handed on
  #ended = false;
  #waiter: ((n: number | null) => void) | undefined;
  #executor = (resolve: (n: number | null) => void) => {
    this.#waiter = resolve;
  };
  readonly done: Promise<void>;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.done = this.#read();
  }

  /** The buffer that the last reads went into (for an echo). */
  get buffer(): Uint8Array {
    return this.#buf;
  }

  async #read(): Promise<void> {
    while (true) {
      const into = this.#got === 0 ? this.#buf : this.#buf.subarray(this.#got);
      const n = await this.#conn.read(into).catch(() => null);
      const waiter = this.#waiter;
      this.#waiter = undefined;
      if (n === null) {
        this.#ended = true;
        waiter?.(null);
        return;
      }
      if (waiter) {
        waiter(this.#got + n);
        this.#got = 0;
      } else {
        this.#got += n;
      }
    }
  }

  /** Resolves to how many bytes came since the last call (null: ended). */
  next(): Promise<number | null> {
    if (this.#got > 0) {
      const n = this.#got;
      this.#got = 0;
      return Promise.resolve(n);
    }
    if (this.#ended) return Promise.resolve(null);
    return new Promise(this.#executor);
  }

  /** Writes all of `bytes`. */
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) {
      off += await this.#conn.write(bytes.subarray(off));
    }
  }
}

/** Echoes a connection through a HandOff until it ends, then closes it. */
export async function echoHandOff(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const h = new HandOff(conn);
  while (true) {
    const n = await h.next();
    if (n === null) break;
    await h.write(h.buffer.subarray(0, n));
  }
  await h.done;
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
