// Copyright 2026 the midisock authors. MIT license.
// Private: a FIFO of received items with waiters, for receive(), poll() and
// iteration. It is filled by a pump that stops while it is full. Fullness is
// counted in bytes (each item weighs what it took on the wire), so a stream of
// big sysex messages is bounded as tightly as a stream of notes.
// Each item has an arrival time (ms on performance.now()'s clock), kept in a
// plain array of numbers beside the items: no object per item.

/**
 * A reader that waits for the next item: it is handed the item, with its
 * tag and arrival time, or undefined once the inbox has ended; or told
 * that its wait was aborted. The port's iterator and receive() are takers
 * themselves, so that a message reaches them with no promise in between.
 */
export interface Taker<T, Tag> {
  /** The next item (undefined: the inbox has ended and is empty). */
  take(item: T | undefined, tag: Tag | undefined, time: number): void;
  /** The wait's signal aborted, with this reason. */
  fail(reason: unknown): void;
}

/** A next() or nextTagged() call that waits: a promise to settle. */
class PromiseTaker<T, Tag> implements Taker<T, Tag> {
  readonly promise: Promise<unknown>;
  #resolve!: (value: unknown) => void;
  #reject!: (reason: unknown) => void;
  #tagged: boolean;

  constructor(tagged: boolean) {
    this.#tagged = tagged;
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  take(item: T | undefined, tag: Tag | undefined, time: number): void {
    this.#resolve(
      this.#tagged && item !== undefined ? [item, tag, time] : item,
    );
  }

  fail(reason: unknown): void {
    this.#reject(reason);
  }
}

/** A FIFO that can be awaited, and ended. */
export class Inbox<T, Tag = undefined> {
  #items: (T | undefined)[] = [];
  // The tag of each item (who sent it), kept beside the items.
  #tags: (Tag | undefined)[] = [];
  // The arrival time of each item.
  #times: number[] = [];
  /** The tag of the item that shift() took last. */
  lastTag: Tag | undefined;
  /**
   * The arrival time of the item that shift() took last, or that push()
   * handed straight to a waiting next().
   */
  lastTime = 0;
  #head = 0;
  #ended = false;
  // The oldest waiting taker, and those that wait behind it (most often
  // none: one slot, so that a lone reader costs no array traffic).
  #taker: Taker<T, Tag> | undefined;
  #takers: Taker<T, Tag>[] = [];
  #space: PromiseWithResolvers<void> | undefined;
  #weight = 0;
  #weigh: (item: T) => number;
  readonly highWaterMark: number;

  constructor(highWaterMark: number, weigh: (item: T) => number) {
    this.highWaterMark = highWaterMark;
    this.#weigh = weigh;
  }

  /** The summed weight of the items waiting. */
  get weight(): number {
    return this.#weight;
  }

  /** Items waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** True once no more items will come. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Adds an item, or hands it straight to the oldest waiting next().
   *
   * @param item The item.
   * @param tag Who sent it.
   * @param time When it arrived, in ms on performance.now()'s clock.
   */
  push(item: T, tag?: Tag, time = 0): void {
    const taker = this.#taker;
    if (taker !== undefined) {
      // Takers wait only on an empty inbox, so this keeps the order.
      this.#taker = this.#takers.length > 0 ? this.#takers.shift() : undefined;
      this.lastTag = tag;
      this.lastTime = time;
      taker.take(item, tag, time);
      return;
    }
    this.#items.push(item);
    this.#tags.push(tag);
    this.#times.push(time);
    this.#weight += this.#weigh(item);
  }

  /** Takes the oldest item, or undefined if there is none. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head] as T;
    this.lastTag = this.#tags[this.#head];
    this.lastTime = this.#times[this.#head];
    this.#items[this.#head] = undefined;
    this.#tags[this.#head++] = undefined;
    this.#weight -= this.#weigh(item);
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#tags = this.#tags.slice(this.#head);
      this.#times = this.#times.slice(this.#head);
      this.#head = 0;
    }
    if (this.#space && this.#weight < this.highWaterMark) {
      this.#space.resolve();
      this.#space = undefined;
    }
    return item;
  }

  /** No more items will be pushed. Waiters wake up. */
  end(): void {
    this.#ended = true;
    const first = this.#taker;
    this.#taker = undefined;
    first?.take(undefined, undefined, 0);
    for (const taker of this.#takers.splice(0)) {
      taker.take(undefined, undefined, 0);
    }
    this.#space?.resolve();
    this.#space = undefined;
  }

  /**
   * Waits for the next item. Resolves to undefined once the inbox has ended
   * and is empty. Rejects with the signal's reason if it aborts.
   */
  next(signal?: AbortSignal): Promise<T | undefined> {
    if (this.length > 0) return Promise.resolve(this.shift());
    const taker = new PromiseTaker<T, Tag>(false);
    this.wait(taker, signal);
    return taker.promise as Promise<T | undefined>;
  }

  /** As next(), with the item's tag and arrival time. */
  nextTagged(
    signal?: AbortSignal,
  ): Promise<[T, Tag | undefined, number] | undefined> {
    if (this.length > 0) {
      const item = this.shift()!;
      return Promise.resolve([item, this.lastTag, this.lastTime]);
    }
    const taker = new PromiseTaker<T, Tag>(true);
    this.wait(taker, signal);
    return taker.promise as Promise<
      [T, Tag | undefined, number] | undefined
    >;
  }

  /**
   * Hands the next item to `taker`: at once if there is one (or if the
   * inbox has ended), else when it comes. If the signal aborts first, the
   * taker is told so instead, and gets nothing.
   */
  wait(taker: Taker<T, Tag>, signal?: AbortSignal): void {
    if (this.length > 0) {
      const item = this.shift()!;
      taker.take(item, this.lastTag, this.lastTime);
      return;
    }
    if (this.#ended) {
      taker.take(undefined, undefined, 0);
      return;
    }
    if (signal === undefined) {
      this.#enlist(taker);
      return;
    }
    if (signal.aborted) {
      taker.fail(signal.reason);
      return;
    }
    const onAbort = () => {
      this.#unlist(guarded);
      taker.fail(signal.reason);
    };
    const guarded: Taker<T, Tag> = {
      take(item, tag, time) {
        signal.removeEventListener("abort", onAbort);
        taker.take(item, tag, time);
      },
      fail: (reason) => taker.fail(reason),
    };
    signal.addEventListener("abort", onAbort, { once: true });
    this.#enlist(guarded);
  }

  #enlist(taker: Taker<T, Tag>): void {
    if (this.#taker === undefined) this.#taker = taker;
    else this.#takers.push(taker);
  }

  #unlist(taker: Taker<T, Tag>): void {
    if (this.#taker === taker) {
      this.#taker = this.#takers.length > 0 ? this.#takers.shift() : undefined;
      return;
    }
    const i = this.#takers.indexOf(taker);
    if (i >= 0) this.#takers.splice(i, 1);
  }

  /** Resolves when the inbox has room (or has ended). */
  space(): Promise<void> | undefined {
    if (this.#weight < this.highWaterMark || this.#ended) return undefined;
    this.#space ??= Promise.withResolvers<void>();
    return this.#space.promise;
  }
}

/** What a message took on the wire, near enough: its weight in an inbox. */
export function wireSize(msg: { type: string; data?: Uint8Array }): number {
  return msg.type === "sysex" ? msg.data!.length + 2 : 3;
}
