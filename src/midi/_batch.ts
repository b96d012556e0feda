// Copyright 2026 the midisock authors. MIT license.
// Private: the pending chunk of MidiEncoderStream, and the microtask turns
// that let it go.

import { encodedLength, encodeInto } from "./encode_into.ts";
import { grow } from "../util/grow.ts";
import type { Message } from "./message.ts";

// How many microtask turns with no new message the encoder waits before it
// lets a chunk go. A pipeTo() moves each message through a few microtask
// turns, so this lets a burst from a pipe coalesce, while a lone message
// waits only those turns (well under a microsecond), never a timer. A
// TransformStream cannot see its writable side's queue, so it cannot tell
// "the pipe has more" from "the pipe is idle" any other way; a timer would
// cost a lone message a millisecond. bench/encoder_turns.ts measures the
// choice: fewer turns cut a piped burst into many more chunks (a write each),
// and more turns gather no more.
export const IDLE_TURNS = 32;

/** The encoder's pending chunk, and the microtask turns that let it go. */
export class Batch {
  controller: TransformStreamDefaultController<Uint8Array> | undefined;
  #max: number;
  #buf: Uint8Array;
  #len = 0;
  #scheduled = false;
  #arrived = false;
  #idle = 0;
  #turns: number;

  /**
   * @param max The most bytes in one chunk.
   * @param turns Microtask turns with no new message before a chunk goes.
   */
  constructor(max: number, turns: number) {
    this.#max = max;
    this.#turns = turns;
    this.#buf = new Uint8Array(0); // grown with the first burst
  }

  add(msg: Message): void {
    try {
      this.#add(msg);
    } catch (error) {
      // A bad message: the good ones before it go before the stream errors.
      this.flush();
      throw error;
    }
  }

  #add(msg: Message): void {
    const n = encodedLength(msg);
    if (this.#len + n > this.#max) this.flush(); // a full chunk goes first
    if (n > this.#max) {
      const big = new Uint8Array(n);
      encodeInto(msg, big, 0);
      this.controller!.enqueue(big);
      return;
    }
    // The batch buffer grows with the burst, up to maxChunkBytes. A bad
    // message throws before #len moves, so its bytes never count.
    this.#buf = grow(this.#buf, this.#len, n, 256, this.#max);
    this.#len = encodeInto(msg, this.#buf, this.#len);
    this.#arrived = true;
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#idle = 0;
      queueMicrotask(this.#tick);
    }
  }

  #tick = (): void => {
    if (this.#len === 0) {
      this.#scheduled = false;
      return;
    }
    if (this.#arrived) {
      this.#arrived = false;
      this.#idle = 0;
      queueMicrotask(this.#tick);
      return;
    }
    if (++this.#idle < this.#turns) {
      queueMicrotask(this.#tick);
      return;
    }
    this.#scheduled = false;
    try {
      this.flush();
    } catch {
      // The stream was cancelled or errored: there is no one to deliver to.
      this.#len = 0;
    }
  };

  flush(): void {
    if (this.#len === 0) return;
    const chunk = this.#buf.slice(0, this.#len);
    this.#len = 0;
    this.#arrived = false;
    this.controller!.enqueue(chunk);
  }
}

/** MidiEncoderStream's transformer: messages into a batch, chunks out. */
export function batchTransformer(
  max: number,
  turns: number,
): Transformer<Message, Uint8Array> {
  const batch = new Batch(max, turns);
  return {
    start(controller) {
      batch.controller = controller;
    },
    transform(msg) {
      batch.add(msg);
    },
    flush() {
      batch.flush();
    },
  };
}
