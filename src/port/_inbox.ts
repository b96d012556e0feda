// Copyright 2026 the midisock authors. MIT license.
// Private: a FIFO of received items with waiters, for receive(), poll() and
// iteration. It is filled by a pump that stops while it is full. Fullness is
// counted in bytes (each item weighs what it took on the wire), so a stream of
// big sysex messages is bounded as tightly as a stream of notes.
// Each item has an arrival time (ms on performance.now()'s clock), kept in a
// plain array of numbers beside the items: no object per item.

import { rejectOnAbort } from "../util/abort.ts";

/**
 * One waiting next() call: it is handed the next item directly, with its
 * tag if it asked for one.
 */
interface Taker extends PromiseWithResolvers<unknown> {
  tagged: boolean;
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
  #takers: Taker[] = [];
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
    const taker = this.#takers.shift();
    if (taker) {
      // Waiters wait only on an empty inbox, so this keeps the order.
      this.lastTag = tag;
      this.lastTime = time;
      taker.resolve(taker.tagged ? [item, tag, time] : item);
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
    for (const taker of this.#takers.splice(0)) taker.resolve(undefined);
    this.#space?.resolve();
    this.#space = undefined;
  }

  /**
   * Waits for the next item. Resolves to undefined once the inbox has ended
   * and is empty. Rejects with the signal's reason if it aborts.
   */
  next(signal?: AbortSignal): Promise<T | undefined> {
    if (this.length > 0) return Promise.resolve(this.shift());
    return this.#wait(false, signal) as Promise<T | undefined>;
  }

  /** As next(), with the item's tag and arrival time. */
  nextTagged(
    signal?: AbortSignal,
  ): Promise<[T, Tag | undefined, number] | undefined> {
    if (this.length > 0) {
      const item = this.shift()!;
      return Promise.resolve([item, this.lastTag, this.lastTime]);
    }
    return this.#wait(true, signal) as Promise<
      [T, Tag | undefined, number] | undefined
    >;
  }

  #wait(tagged: boolean, signal?: AbortSignal): Promise<unknown> {
    if (this.#ended) return Promise.resolve(undefined);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const taker: Taker = { ...Promise.withResolvers<unknown>(), tagged };
    this.#takers.push(taker);
    rejectOnAbort(signal, taker, () => {
      const i = this.#takers.indexOf(taker);
      if (i >= 0) this.#takers.splice(i, 1);
    });
    return taker.promise;
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
