// Copyright 2026 the midisock authors. MIT license.
// Private: a socket port's rule against a peer that leaves a message half
// sent (the slowloris pattern: a few bytes, then nothing, to hold a
// connection and its buffer forever). See the partialTimeout option of
// SocketPortOptions.

import type { Message } from "../midi/message.ts";
import { TYPES } from "../midi/specs.ts";

/**
 * Checks the partialTimeout option.
 *
 * @param ms The option.
 * @throws {RangeError} If it is not a number of milliseconds >= 0.
 */
export function checkPartial(ms: number | undefined): void {
  const limit = ms ?? 10_000;
  if (typeof limit !== "number" || !(limit >= 0)) {
    throw new RangeError(
      `Invalid partialTimeout option: expected a number of milliseconds >= 0, got ${limit}`,
    );
  }
}

// Whether any of the first `count` messages is no real-time message.
function progress(messages: readonly Message[], count: number): boolean {
  for (let i = 0; i < count; i++) {
    if (TYPES[messages[i].type].status < 0xf8) return true;
  }
  return false;
}

/** What {@linkcode PartialWatch} needs of its port. */
export interface PartialPort {
  /** The port's name, for the error. */
  name(): string;
  /** Bytes of the message still arriving (the parser's pendingBytes). */
  pending(): number;
  /** Whether the port is closed. */
  closed(): boolean;
  /** Whether the port does not read now, because its reader is behind. */
  waiting(): boolean;
  /** Closes the port with an error: the peer left a message half sent. */
  lost(error: Error): void;
}

/**
 * The port is lost if a message stays half sent, with no byte of it for
 * `limit` ms (0: never), while the port reads. Real-time bytes trickled
 * in do not count: only a message that grows or ends does.
 */
export class PartialWatch {
  #limit: number;
  #port: PartialPort;
  #size = 0; // the pending bytes after the last chunk
  #since = performance.now(); // when a message last grew or ended
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(limit: number, port: PartialPort) {
    this.#limit = limit;
    this.#port = port;
  }

  /**
   * After a chunk is read, at `now`: `pending` bytes of a message still
   * arriving, and the messages that the chunk made (the first `count`
   * of `messages`).
   */
  read(
    now: number,
    pending: number,
    messages: readonly Message[],
    count: number = messages.length,
  ): void {
    if (
      pending !== this.#size ||
      // (A real-time message, status 0xF8 and up, comes in the middle of
      // another: it is no progress on it.)
      (pending > 0 && progress(messages, count))
    ) {
      this.#size = pending;
      this.#since = now;
    }
    if (pending > 0) this.#watch();
  }

  /** The port reads again after a wait that was not the peer's fault. */
  resumed(now: number): void {
    this.#since = now;
  }

  /** Stops watching: the port closes, or has stopped reading. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #watch(): void {
    const limit = this.#limit;
    if (limit === 0 || this.#timer !== undefined) return;
    const port = this.#port;
    const check = () => {
      this.#timer = undefined;
      const partial = port.pending();
      if (partial === 0 || port.closed()) return;
      const idle = performance.now() - this.#since;
      if (port.waiting() || idle < limit) {
        const wait = port.waiting() ? limit : limit - idle;
        this.#timer = setTimeout(check, wait);
        return;
      }
      port.lost(
        new Error(
          `${port.name()} left a message half sent (${partial} bytes) for ${limit} ms`,
        ),
      );
    };
    this.#timer = setTimeout(check, limit);
  }
}
