// Copyright 2026 the midisock authors. MIT license.
// Private: a Deno.Conn wrapped as a ReadableStream/WritableStream pair that
// leaves the closing of the connection to its owner.
//
// Deno.Conn's own readable and writable close the whole connection when
// either of them ends, which a port that half-closes cannot use.

const READ_SIZE = 16 * 1024;
const MAX_WRITE = 256 * 1024;

/** How a byte source ended. */
export type EndReason = "eof" | "local" | Error;

function isLocalClose(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource ||
    error instanceof Deno.errors.Interrupted;
}

/**
 * A ReadableStream of the bytes that arrive on a connection. It ends at the
 * peer's end of stream, at a reset, or when the connection is closed locally,
 * and then calls `onEnd` once with the reason. It never errors.
 */
export class ConnReader {
  /** The bytes, in chunks as they arrive. */
  readonly readable: ReadableStream<Uint8Array>;
  #inflight: Promise<unknown> | undefined;
  #ended = false;
  #onEnd: (reason: EndReason) => void;
  // Every read goes into this one buffer, and each chunk is a copy of what
  // the read got: a 16 KiB buffer a read was garbage that made GC pauses.
  #buf = new Uint8Array(READ_SIZE);

  constructor(conn: Deno.Conn, onEnd: (reason: EndReason) => void) {
    this.#onEnd = onEnd;
    this.readable = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (this.#ended) {
          controller.close();
          return;
        }
        const buf = this.#buf;
        let n: number | null;
        try {
          const read = conn.read(buf);
          this.#inflight = read;
          n = await read;
        } catch (error) {
          controller.close();
          this.#end(isLocalClose(error) ? "local" : error as Error);
          return;
        } finally {
          this.#inflight = undefined;
        }
        if (n === null) {
          controller.close();
          this.#end("eof");
        } else {
          controller.enqueue(buf.slice(0, n));
        }
      },
      cancel: () => this.#end("local"),
    }, { highWaterMark: 0 });
  }

  /** Resolves once no read is in flight (after the connection is closed). */
  async settled(): Promise<void> {
    while (this.#inflight) {
      try {
        await this.#inflight;
      } catch {
        // The read ended with the close, as expected.
      }
    }
  }

  #end(reason: EndReason): void {
    if (!this.#ended) {
      this.#ended = true;
      this.#onEnd(reason);
    }
  }
}

interface Waiter {
  below: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * The write side of a connection: a queue of whole-message chunks and one
 * loop that writes them, gathering what is queued into one write. Both the
 * encoder pipe and the broadcast hub put chunks here; chunks are whole
 * messages, so they interleave safely.
 */
export class ConnWriter {
  #conn: Deno.Conn;
  #queue: Uint8Array[] = [];
  #queued = 0; // bytes in #queue
  #inflight = 0; // bytes taken from #queue and being written
  #writing = false;
  #error: Error | undefined;
  #closed = false;
  #waiters: Waiter[] = [];
  #onError: (error: Error) => void;
  #written = 0;
  #dropped = 0;
  #loop: Promise<void> = Promise.resolve();

  constructor(conn: Deno.Conn, onError: (error: Error) => void) {
    this.#conn = conn;
    this.#onError = onError;
  }

  /** Bytes queued and not yet handed to the socket. */
  get queuedBytes(): number {
    return this.#queued + this.#inflight;
  }

  /** Bytes handed to the socket. */
  get writtenBytes(): number {
    return this.#written;
  }

  /** Bytes that were queued but never written, because the port was shut. */
  get droppedBytes(): number {
    return this.#dropped;
  }

  /** The write error, if writing failed. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** True once the writer takes no more chunks. */
  get closed(): boolean {
    return this.#closed || this.#error !== undefined;
  }

  /** Queues a chunk. Throws if the writer is closed or failed. */
  enqueue(chunk: Uint8Array): void {
    if (this.#error) throw this.#error;
    if (this.#closed) throw new Deno.errors.BadResource("Writer is closed");
    if (chunk.length === 0) return;
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    if (!this.#writing) {
      this.#writing = true;
      this.#loop = this.#run();
    }
  }

  /** Resolves when fewer than `below` bytes are queued. */
  waitBelow(below: number): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.queuedBytes < below || this.#closed) return Promise.resolve();
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#waiters.push({ below, resolve, reject });
    return promise;
  }

  /** Resolves when everything queued has been written (or failed). */
  async drain(): Promise<void> {
    while (this.#writing) await this.#loop;
  }

  /**
   * Stops taking chunks. With `flush`, writes what is queued and then shuts
   * down the write side (the peer sees end of stream); without it, drops the
   * queue and counts the dropped bytes.
   */
  async close(flush: boolean): Promise<void> {
    this.#closed = true;
    if (!flush) {
      // The owner closes the connection next, which ends a write in flight.
      this.#dropQueue();
      this.#releaseWaiters();
      return;
    }
    await this.drain();
    this.#releaseWaiters();
    if (this.#error === undefined) {
      try {
        await this.#conn.closeWrite();
      } catch {
        // Already closed or reset: the peer sees the end either way.
      }
    }
  }

  /** A WritableStream onto this writer, for the encoder's pipe. */
  writable(highWaterMark: number): WritableStream<Uint8Array> {
    return new WritableStream<Uint8Array>({
      write: (chunk) => {
        this.enqueue(chunk);
        if (this.queuedBytes >= highWaterMark) {
          return this.waitBelow(highWaterMark);
        }
      },
    });
  }

  #dropQueue(): void {
    this.#dropped += this.#queued;
    this.#queue = [];
    this.#queued = 0;
  }

  #releaseWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (this.#error) w.reject(this.#error);
      else w.resolve();
    }
  }

  async #run(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const chunk = this.#take();
        this.#queued -= chunk.length;
        this.#inflight = chunk.length;
        let off = 0;
        while (off < chunk.length) {
          off += await this.#conn.write(chunk.subarray(off));
        }
        this.#written += chunk.length;
        this.#inflight = 0;
        if (this.#waiters.length > 0) {
          const still: Waiter[] = [];
          for (const w of this.#waiters) {
            if (this.#queued < w.below) w.resolve();
            else still.push(w);
          }
          this.#waiters = still;
        }
      }
    } catch (error) {
      this.#error = error instanceof Error ? error : new Error(String(error));
      this.#dropped += this.#inflight;
      this.#inflight = 0;
      this.#dropQueue();
      this.#releaseWaiters();
      if (!this.#closed || !isLocalClose(error)) this.#onError(this.#error);
    } finally {
      this.#writing = false;
    }
  }

  // Takes the queued chunks, joined into one buffer up to MAX_WRITE bytes.
  #take(): Uint8Array {
    const q = this.#queue;
    if (q.length === 1 || q[0].length >= MAX_WRITE) return q.shift()!;
    let size = 0;
    let n = 0;
    while (n < q.length && size + q[n].length <= MAX_WRITE) {
      size += q[n].length;
      n++;
    }
    if (n <= 1) return q.shift()!;
    const out = new Uint8Array(size);
    let off = 0;
    for (let i = 0; i < n; i++) {
      out.set(q[i], off);
      off += q[i].length;
    }
    q.splice(0, n);
    return out;
  }
}

/** The writer of each port, for the broadcast hub. */
export const WRITERS: WeakMap<object, ConnWriter> = new WeakMap();
