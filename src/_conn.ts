// Copyright 2026 the midisock authors. MIT license.
// Private: a Deno.Conn wrapped as a ReadableStream/WritableStream pair that
// leaves the closing of the connection to its owner.
//
// Deno.Conn's own readable and writable close the whole connection when
// either of them ends, which a port that half-closes cannot use.

import { encodedLength, encodeInto } from "./_encode_into.ts";
import { grow } from "./_grow.ts";
import type { Message } from "./message.ts";

// A connection's read buffer starts small, so an idle client costs little,
// and doubles each time a read fills it, up to MAX_READ.
const MIN_READ = 2 * 1024;
const MAX_READ = 16 * 1024;
const MAX_WRITE = 256 * 1024;
// The tail that encode() writes messages into starts this small and doubles
// as a burst needs, up to MAX_TAIL; then it becomes a chunk of its own.
const MIN_TAIL = 256;
const MAX_TAIL = 64 * 1024;
const EMPTY = new Uint8Array(0);
// A queued chunk up to this size is copied into the tail.
const SMALL_CHUNK = 256;
// How many microtask turns encode() waits before it starts a write, so that
// messages sent together (a chord, a burst from a pipe) go out in one write.
// Messages that come while a write is in flight go out in the next one.
const START_TURNS = 12;

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
  // An idle connection holds MIN_READ bytes while its read waits.
  #buf = new Uint8Array(MIN_READ);

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
          if (n === buf.length && n < MAX_READ) {
            this.#buf = new Uint8Array(Math.min(MAX_READ, n * 2));
          }
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
 * loop that writes them, gathering what is queued into one write. The port
 * encodes its messages straight into the end of the queue (the tail), and
 * the broadcast hub queues its chunks; both are whole messages, so they
 * interleave safely.
 */
export class ConnWriter {
  #conn: Deno.Conn;
  #queue: Uint8Array[] = [];
  #queued = 0; // bytes in #queue and the tail
  // Messages encoded since the last chunk was queued or taken: the end of
  // the queue, still open for more.
  #tail: Uint8Array = EMPTY;
  #tailLength = 0;
  #starting = false; // a write starts after a few turns
  #turns = 0;
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

  /** True once the writer takes no more chunks. */
  get closed(): boolean {
    return this.#closed || this.#error !== undefined;
  }

  /**
   * Checks a message and queues its bytes, for a write that starts a few
   * microtask turns later, so that messages sent together go out together.
   * Throws for a bad message (and queues nothing), or if the writer is
   * closed or failed.
   */
  encode(msg: Message): void {
    if (this.#error) throw this.#error;
    if (this.#closed) throw new Deno.errors.BadResource("Writer is closed");
    const n = encodedLength(msg);
    if (n > MAX_TAIL) {
      const big = new Uint8Array(n);
      encodeInto(msg, big, 0);
      this.enqueue(big);
      return;
    }
    const tail = this.#room(n);
    this.#tailLength = encodeInto(msg, tail, this.#tailLength);
    this.#queued += n;
    if (!this.#writing && !this.#starting) {
      this.#starting = true;
      this.#turns = 0;
      queueMicrotask(this.#kick);
    }
  }

  /** Queues a chunk. Throws if the writer is closed or failed. */
  enqueue(chunk: Uint8Array): void {
    if (this.#error) throw this.#error;
    if (this.#closed) throw new Deno.errors.BadResource("Writer is closed");
    const n = chunk.length;
    if (n === 0) return;
    if (n <= SMALL_CHUNK) {
      // A message from the hub: copy it into the tail rather than queue it,
      // so that a burst is one buffer, not an array entry a message.
      this.#room(n).set(chunk, this.#tailLength);
      this.#tailLength += n;
    } else {
      if (this.#tailLength > 0) this.#seal();
      this.#queue.push(chunk);
    }
    this.#queued += n;
    this.#start();
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
    this.#start();
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

  #dropQueue(): void {
    this.#dropped += this.#queued;
    this.#queue = [];
    this.#queued = 0;
    this.#tail = EMPTY;
    this.#tailLength = 0;
  }

  #kick = (): void => {
    if (++this.#turns < START_TURNS) {
      queueMicrotask(this.#kick);
      return;
    }
    this.#starting = false;
    this.#start();
  };

  #start(): void {
    if (
      !this.#writing && this.#error === undefined &&
      (this.#queue.length > 0 || this.#tailLength > 0)
    ) {
      this.#writing = true;
      this.#loop = this.#run();
    }
  }

  // Makes room for n more bytes in the tail, and returns the tail.
  #room(n: number): Uint8Array {
    if (this.#tailLength + n > MAX_TAIL) this.#seal();
    this.#tail = grow(this.#tail, this.#tailLength, n, MIN_TAIL, MAX_TAIL);
    return this.#tail;
  }

  // Closes the tail: its bytes become a chunk of the queue. The next message
  // starts a new tail, since this chunk may soon be in flight.
  #seal(): void {
    this.#queue.push(this.#tail.subarray(0, this.#tailLength));
    this.#tail = EMPTY;
    this.#tailLength = 0;
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
      while (this.#queue.length > 0 || this.#tailLength > 0) {
        if (this.#tailLength > 0) this.#seal();
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
