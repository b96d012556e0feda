// Copyright 2026 the midisock authors. MIT license.
// Private: the queue of bytes that a port sends, and the one loop that
// writes them to the port's transport.

import { asError } from "../util/error_text.ts";
import { rejectOnAbort, whenAborted } from "../util/abort.ts";
import type { ByteSink } from "../transport/byte_io.ts";
import { encodedLength, encodeInto } from "../midi/encode_into.ts";
import { grow } from "../util/grow.ts";
import type { Message } from "../midi/message.ts";

const MAX_WRITE = 256 * 1024;
// The tail that encode() writes messages into starts this small and doubles
// as a burst needs, up to MAX_TAIL; then it becomes a chunk of its own.
const MIN_TAIL = 256;
const MAX_TAIL = 64 * 1024;
const EMPTY = new Uint8Array(0);
// A queued chunk up to this size is copied into the tail.
const SMALL_CHUNK = 256;

interface Waiter extends PromiseWithResolvers<void> {
  below: number;
}

const UTF8 = new TextEncoder();
const SETTLED = Promise.resolve();

/**
 * The write side of a port: a queue of whole-message chunks and one loop
 * that writes them to its transport.
 *
 * When it writes: a write starts in the microtask after a message is queued
 * while no write is in flight, so the messages sent in one synchronous run
 * (a chord) go out together; every message queued while a write is in
 * flight goes out together in the next one. So a message that finds the
 * socket idle goes out at once, and a burst goes out in as few writes as the
 * socket's speed allows.
 *
 * The port encodes its messages straight into the end of the queue (the
 * tail), and the hub queues its chunks; both are whole messages, so they
 * interleave safely, and every chunk that is written is whole messages.
 *
 * A line of text (a sender's name, for a page that shows senders) may be
 * queued between messages, where the sink can carry text: it goes out in
 * order, between the writes of the bytes before and after it, and counts
 * as its UTF-8 bytes. A line is kept apart from the bytes, as a mark at
 * its place in the byte stream (the bytes stay in one buffer, so a line
 * between every two messages costs about what it counts); a write of
 * bytes stops at the next mark.
 */
export class Outbox {
  #sink: ByteSink;
  // Chunks to write, from #head on: taken from the front by moving #head
  // (shift() would cost the queue's length, which can be thousands).
  #queue: (Uint8Array | undefined)[] = [];
  #head = 0;
  #queued = 0; // bytes in #queue and the tail, and of the lines to write
  // Bytes of messages ever queued, and ever taken to be written (or
  // dropped): a line's mark is the first count, when it was queued.
  #enqueued = 0;
  #taken = 0;
  // The lines to write, from #lineHead on: where each goes (a count of
  // bytes queued before it), its text, and its size.
  #lineAt: number[] = [];
  #lineText: string[] = [];
  #lineSize: number[] = [];
  #lineHead = 0;
  #tail: Uint8Array = EMPTY;
  // Buffers that this outbox made for its tail, and one that a finished
  // write gave back, to be the next tail: a lone message then costs no new
  // buffer.
  #own = new WeakSet<ArrayBufferLike>();
  #spare: Uint8Array | undefined;
  #sealed: Uint8Array | undefined; // the last tail sealed, whole
  // The view of a tail that was last written whole, and that tail.
  #view: Uint8Array | undefined;
  #viewOf: Uint8Array | undefined;
  #tailLength = 0;
  #scheduled = false; // a write starts in the next microtask
  #inflight = 0; // bytes taken from the queue and being written
  #writing = false;
  #error: Error | undefined;
  #closed = false;
  #waiters: Waiter[] = [];
  #onError: (error: Error) => void;
  #written = 0;
  #dropped = 0;
  // While writing: the chunk in flight (undefined for a line), and a
  // promise for those who wait for the loop to stop (made when asked).
  #chunk: Uint8Array | undefined;
  #idle: PromiseWithResolvers<void> | undefined;

  constructor(sink: ByteSink, onError: (error: Error) => void) {
    this.#sink = sink;
    this.#onError = onError;
  }

  /** Bytes queued and not yet written. */
  get queuedBytes(): number {
    return this.#queued + this.#inflight;
  }

  /** Bytes written. */
  get writtenBytes(): number {
    return this.#written;
  }

  /** Bytes that were queued but never written. */
  get droppedBytes(): number {
    return this.#dropped;
  }

  /** True once the outbox takes no more bytes. */
  get closed(): boolean {
    return this.#closed || this.#error !== undefined;
  }

  /**
   * Checks a message and queues its bytes. Throws for a bad message (and
   * queues nothing), or if the outbox is closed or failed.
   */
  encode(msg: Message): void {
    this.#check();
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
    this.#enqueued += n;
    this.#schedule();
  }

  /** Whether lines of text can be queued: whether the sink carries text. */
  get carriesText(): boolean {
    return this.#sink.writeText !== undefined;
  }

  /**
   * Queues a line of text, to go out after the bytes queued so far and
   * before any queued next; `size` is its length in UTF-8 (its length, for
   * ASCII). Throws if closed or failed, or if the sink carries no text.
   */
  line(text: string, size: number = UTF8.encode(text).length): void {
    this.#check();
    if (!this.carriesText) {
      throw new TypeError("Cannot queue text: the transport carries none");
    }
    this.#lineAt.push(this.#enqueued);
    this.#lineText.push(text);
    this.#lineSize.push(size);
    this.#queued += size;
    this.#schedule();
  }

  /** Queues the bytes of whole messages. Throws if closed or failed. */
  enqueue(chunk: Uint8Array): void {
    this.#check();
    const n = chunk.length;
    if (n === 0) return;
    if (n <= SMALL_CHUNK) {
      // Copy a small chunk into the tail rather than queue it, so that a
      // burst is one buffer, not an array entry a message.
      this.#room(n).set(chunk, this.#tailLength);
      this.#tailLength += n;
    } else {
      if (this.#tailLength > 0) this.#seal();
      this.#queue.push(chunk);
    }
    this.#queued += n;
    this.#enqueued += n;
    this.#schedule();
  }

  /**
   * Resolves when fewer than `below` bytes are queued, or once the outbox is
   * closed; rejects if it fails, or with the signal's reason.
   */
  waitBelow(below: number, signal?: AbortSignal): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.queuedBytes < below || this.#closed) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    const waiter: Waiter = { below, ...Promise.withResolvers<void>() };
    this.#waiters.push(waiter);
    rejectOnAbort(signal, waiter, () => {
      const i = this.#waiters.indexOf(waiter);
      if (i >= 0) this.#waiters.splice(i, 1);
    });
    return waiter.promise;
  }

  /** Resolves when everything queued has been written (or failed). */
  async drain(): Promise<void> {
    this.#start();
    while (this.#writing) await this.#stopped();
  }

  /**
   * Stops taking bytes and writes what is queued, then ends the stream (the
   * peer sees end of stream). Gives up when the signal aborts: what is still
   * queued is dropped and counted, and the write in flight is let finish.
   */
  async close(signal?: AbortSignal): Promise<void> {
    this.#closed = true;
    const drained = this.drain();
    if (signal) {
      await Promise.race([drained, whenAborted(signal)]);
      if (this.#writing) {
        this.#dropQueue();
        return;
      }
    }
    await drained;
    this.#releaseWaiters();
    if (this.#error === undefined) {
      await this.#sink.close().catch(() => {});
    }
  }

  /**
   * Stops taking bytes and drops what is queued, counted in droppedBytes;
   * the write in flight (whole messages) is let finish. The owner closes
   * the transport when it has waited long enough for that.
   */
  cut(): void {
    this.#closed = true;
    this.#dropQueue();
    this.#releaseWaiters();
  }

  /**
   * Gives the transport's writable up, if it is still open: a write in
   * flight ends, and what it held is dropped. The last step of a close.
   */
  abort(): void {
    this.cut();
    this.#sink.abort();
  }

  /** Resolves once no write is in flight. */
  async settled(): Promise<void> {
    while (this.#writing) await this.#stopped();
  }

  // Resolves when the write loop stops.
  #stopped(): Promise<void> {
    this.#idle ??= Promise.withResolvers<void>();
    return this.#idle.promise;
  }

  #check(): void {
    if (this.#error) throw this.#error;
    if (this.#closed) throw new Deno.errors.BadResource("Outbox is closed");
  }

  #schedule(): void {
    if (!this.#writing && !this.#scheduled) {
      this.#scheduled = true;
      // (A settled promise's then() costs less than queueMicrotask(),
      // which Deno wraps in a closure of its own.)
      SETTLED.then(this.#kick);
    }
  }

  #kick = (): void => {
    this.#scheduled = false;
    this.#start();
  };

  #start(): void {
    if (!this.#writing && this.#error === undefined && this.#pending()) {
      this.#writing = true;
      this.#next();
    }
  }

  // Whether anything is queued: bytes, or a line.
  #pending(): boolean {
    return this.#queue.length > this.#head || this.#tailLength > 0 ||
      this.#lineAt.length > this.#lineHead;
  }

  #dropQueue(): void {
    this.#dropped += this.#queued;
    this.#queue = [];
    this.#head = 0;
    this.#queued = 0;
    this.#taken = this.#enqueued;
    this.#lineAt = [];
    this.#lineText = [];
    this.#lineSize = [];
    this.#lineHead = 0;
    this.#tail = EMPTY;
    this.#sealed = undefined;
    this.#tailLength = 0;
  }

  // Makes room for n more bytes in the tail, and returns the tail.
  #room(n: number): Uint8Array {
    if (this.#tailLength + n > MAX_TAIL) this.#seal();
    if (this.#tail === EMPTY && this.#spare && this.#spare.length >= n) {
      this.#tail = this.#spare;
      this.#spare = undefined;
      return this.#tail;
    }
    const tail = grow(this.#tail, this.#tailLength, n, MIN_TAIL, MAX_TAIL);
    if (tail !== this.#tail) this.#own.add(tail.buffer);
    this.#tail = tail;
    return tail;
  }

  // Closes the tail, and returns its bytes to write: a view that is given
  // again while the tail is the same buffer with as many bytes (a lone
  // note each time), as nothing that the sink is done with keeps it.
  #sealView(): Uint8Array {
    const tail = this.#tail;
    const n = this.#tailLength;
    let view = this.#view;
    if (view === undefined || this.#viewOf !== tail || view.length !== n) {
      view = tail.subarray(0, n);
      if (this.#sink.copies) {
        this.#view = view;
        this.#viewOf = tail;
      }
    }
    this.#sealed = tail;
    this.#tail = EMPTY;
    this.#tailLength = 0;
    return view;
  }

  // Closes the tail: its bytes become a chunk of the queue. The next message
  // starts a new tail, since this chunk may soon be in flight.
  #seal(): void {
    this.#sealed = this.#tail;
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

  // The write loop, one write at a time: starts the next write, or stops
  // when nothing is queued. It is written with callbacks rather than as an
  // async function, which would cost a promise and a generator a message
  // (see docs/benchmarks.md, the round trip's tail).
  #next(): void {
    if (!this.#pending()) {
      this.#stop();
      return;
    }
    let written: Promise<void>;
    try {
      const line = this.#lineHead;
      const mark = line < this.#lineAt.length ? this.#lineAt[line] : Infinity;
      if (mark === this.#taken) {
        // Every byte before the line is written: now the line.
        const size = this.#lineSize[line];
        const text = this.#lineText[line];
        this.#nextLine();
        this.#queued -= size;
        this.#inflight = size;
        this.#chunk = undefined;
        written = this.#sink.writeText!(text);
      } else {
        let chunk: Uint8Array;
        if (
          this.#head === this.#queue.length && this.#tailLength > 0 &&
          this.#tailLength <= mark - this.#taken
        ) {
          // The tail alone (a lone message, or a burst gathered in it):
          // sealed and written with no queue entry between.
          chunk = this.#sealView();
        } else {
          if (this.#tailLength > 0) this.#seal();
          chunk = this.#take(mark - this.#taken);
        }
        const size = chunk.length;
        this.#taken += size;
        this.#queued -= size;
        this.#inflight = size;
        this.#chunk = chunk;
        written = this.#sink.write(chunk);
      }
    } catch (error) {
      this.#failed(error);
      return;
    }
    written.then(this.#wrote, this.#failed);
  }

  #wrote = (): void => {
    const chunk = this.#chunk;
    this.#written += this.#inflight;
    this.#inflight = 0;
    this.#chunk = undefined;
    // Its buffer is the next tail's, if this outbox made it and no queued
    // chunk is a piece of it (a write cut at a line's mark).
    if (
      chunk !== undefined && this.#sink.copies && this.#spare === undefined &&
      this.#own.has(chunk.buffer) &&
      this.#queue[this.#head]?.buffer !== chunk.buffer
    ) {
      // (The tail that was sealed, if it is that one: no new view.)
      const sealed = this.#sealed;
      this.#spare = sealed?.buffer === chunk.buffer
        ? sealed
        : new Uint8Array(chunk.buffer);
    }
    this.#sealed = undefined;
    if (this.#waiters.length > 0) {
      const still: Waiter[] = [];
      for (const w of this.#waiters) {
        if (this.#queued < w.below) w.resolve();
        else still.push(w);
      }
      this.#waiters = still;
    }
    this.#next();
  };

  #failed = (error: unknown): void => {
    this.#error = asError(error);
    this.#dropped += this.#inflight;
    this.#inflight = 0;
    this.#chunk = undefined;
    this.#dropQueue();
    this.#releaseWaiters();
    this.#onError(this.#error);
    this.#stop();
  };

  #stop(): void {
    this.#writing = false;
    // A close that gave up on this write dropped the queue: whoever waits
    // for room has it now.
    if (this.#closed) this.#releaseWaiters();
    const idle = this.#idle;
    this.#idle = undefined;
    idle?.resolve();
  }

  // Takes the queued chunks, joined into one buffer up to MAX_WRITE bytes,
  // and no more than `limit` bytes (to the next line's mark): the first
  // chunk is cut there if it is longer.
  #take(limit: number): Uint8Array {
    const q = this.#queue;
    const h = this.#head;
    const first = q[h]!;
    if (first.length > limit) {
      q[h] = first.subarray(limit);
      return first.subarray(0, limit);
    }
    const most = Math.min(MAX_WRITE, limit);
    let size = first.length;
    let end = h + 1;
    for (; end < q.length; end++) {
      const chunk = q[end]!;
      if (size + chunk.length > most) break;
      size += chunk.length;
    }
    if (end - h > 1) {
      const out = new Uint8Array(size);
      let off = 0;
      for (let i = h; i < end; i++) {
        const chunk = q[i]!;
        out.set(chunk, off);
        off += chunk.length;
      }
      this.#advance(end);
      return out;
    }
    this.#advance(end);
    return first;
  }

  // Moves past the line that was taken; now and then the taken slots are
  // cut off the arrays.
  #nextLine(): void {
    const i = this.#lineHead;
    this.#lineText[i] = "";
    this.#lineHead = i + 1;
    const n = this.#lineAt.length;
    if (i + 1 === n) {
      this.#lineAt.length = this.#lineText.length = this.#lineSize.length = 0;
      this.#lineHead = 0;
    } else if (i + 1 >= 1024 && (i + 1) * 2 >= n) {
      for (const a of [this.#lineAt, this.#lineText, this.#lineSize]) {
        a.splice(0, i + 1);
      }
      this.#lineHead = 0;
    }
  }

  // Moves the head past the entries it took, and lets them go; now and
  // then the taken slots are cut off the array.
  #advance(to: number): void {
    const q = this.#queue;
    for (let i = this.#head; i < to; i++) q[i] = undefined;
    this.#head = to;
    if (to === q.length) {
      q.length = 0;
      this.#head = 0;
    } else if (to >= 1024 && to * 2 >= q.length) {
      q.splice(0, to);
      this.#head = 0;
    }
  }
}
