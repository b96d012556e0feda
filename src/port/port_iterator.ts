// Copyright 2026 the midisock authors. MIT license.
// Private: the iterator of a port's inbox, and the name of a message's type
// for error messages.

import type { Inbox } from "./_inbox.ts";
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
    return inbox.nextTagged().then((entry) => {
      if (entry === undefined) {
        this.#finished = true;
        return DONE;
      }
      // Taken from the inbox: it is delivered, even after a return().
      return { done: false, value: this.#make(entry[0], entry[1], entry[2]) };
    });
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
