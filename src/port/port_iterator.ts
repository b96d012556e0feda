// Copyright 2026 the midisock authors. MIT license.
// Private: the iterator of a port's inbox, and the name of a message's type
// for error messages.

import type { Inbox, Taker } from "./_inbox.ts";
import type { Message } from "../midi/message.ts";

/** The name of a message's type, for error messages. */
export function describe(msg: unknown): string {
  const type = (msg as { type?: unknown } | null)?.type;
  return typeof type === "string" ? type : "message";
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
});

/**
 * A port's iterator: an async generator's behaviour, written out, because a
 * generator's machinery costs more than the rest of receiving a message. It
 * hands out what the inbox holds, in order, to each next() call, even to
 * calls that overlap, and ends at the inbox's end or at return().
 */
export class PortIterator<T> implements AsyncIterableIterator<T> {
  #inbox: Inbox<Message, unknown>;
  #make: (msg: Message, tag: unknown, time: number) => T;
  #onReturn: () => void;
  #finished = false;
  // The waiting next() call's resolve, while one waits on the inbox
  // through #taker (made once: a waiting call costs one promise).
  #resolve: ((result: IteratorResult<T, undefined>) => void) | undefined;
  #executor = (resolve: (result: IteratorResult<T, undefined>) => void) => {
    this.#resolve = resolve;
  };
  #taker: Taker<Message, unknown> = {
    take: (msg, tag, time) => {
      const resolve = this.#resolve!;
      this.#resolve = undefined;
      resolve(this.#result(msg, tag, time));
    },
    fail: () => {}, // it waits with no signal
  };

  constructor(
    inbox: Inbox<Message, unknown>,
    make: (msg: Message, tag: unknown, time: number) => T,
    onReturn: () => void,
  ) {
    this.#inbox = inbox;
    this.#make = make;
    this.#onReturn = onReturn;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#finished) return Promise.resolve(DONE);
    const inbox = this.#inbox;
    const msg = inbox.shift();
    if (msg !== undefined) {
      return Promise.resolve({
        done: false,
        value: this.#make(msg, inbox.lastTag, inbox.lastTime),
      });
    }
    if (this.#resolve === undefined) {
      const promise = new Promise(this.#executor);
      inbox.wait(this.#taker);
      return promise;
    }
    // Another call waits already: this one waits behind it.
    const { promise, resolve } = Promise.withResolvers<
      IteratorResult<T, undefined>
    >();
    inbox.wait({
      take: (msg, tag, time) => resolve(this.#result(msg, tag, time)),
      fail: () => {},
    });
    return promise;
  }

  // What a waiting call resolves to. Taken from the inbox: a message is
  // delivered, even after a return().
  #result(
    msg: Message | undefined,
    tag: unknown,
    time: number,
  ): IteratorResult<T, undefined> {
    if (msg === undefined) {
      this.#finished = true;
      return DONE;
    }
    return { done: false, value: this.#make(msg, tag, time) };
  }

  return(): Promise<IteratorResult<T, undefined>> {
    if (!this.#finished) this.#onReturn();
    this.#finished = true;
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
