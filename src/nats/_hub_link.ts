// Copyright 2026 the midisock authors. MIT license.
// Private: the bridge's side of its own hub. What the bridge holds for the
// hub from the other hubs (a queue that outlives the bridge's port), what
// the hub hands the bridge (counted, so that what the hub drops for it is
// counted in MIDI messages), and the drops not reported yet.

import type { HubClient } from "../bus/hub.ts";
import type { SocketPort } from "../port/socket_port.ts";
import type { NatsDropReason } from "./events.ts";
import { countMessages } from "./_wire.ts";

/**
 * Bytes of other hubs' messages that the bridge holds for its hub, until
 * the bridge's port on the hub reads them. Each port reads it through a
 * readable of its own; what one port has not read when the hub cuts it
 * off, the next one reads.
 */
export class Inbound {
  #queue: { bytes: Uint8Array; hub: string }[] = [];
  #bytes = 0;
  #ended = false;
  #wake: (() => void) | undefined; // a port's read, waiting

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether it takes no more. */
  get ended(): boolean {
    return this.#ended;
  }

  /** What is held, and whose: whole messages. */
  held(): Iterable<{ bytes: Uint8Array; hub: string }> {
    return this.#queue;
  }

  /** Holds the bytes of `hub`'s whole messages for the hub. */
  push(bytes: Uint8Array, hub: string): void {
    this.#queue.push({ bytes, hub });
    this.#bytes += bytes.length;
    this.#wake?.();
  }

  /**
   * Takes no more, and gives up what is held (a port that closes drops
   * what it reads then): the port reads its end.
   */
  end(): { bytes: Uint8Array; hub: string }[] {
    const left = this.#queue;
    this.#queue = [];
    this.#bytes = 0;
    this.#ended = true;
    this.#wake?.();
    return left;
  }

  /**
   * A readable for one port, and a function that stops it handing out
   * anything more (its port is gone).
   */
  readable(): { readable: ReadableStream<Uint8Array>; stop: () => void } {
    let reading = true;
    const readable = new ReadableStream<Uint8Array>({
      pull: (controller) => {
        // Hands the next chunk, or the end; false if there is none yet.
        const give = (): boolean => {
          if (!reading) return true;
          const next = this.#queue.shift();
          if (next) {
            this.#bytes -= next.bytes.length;
            controller.enqueue(next.bytes);
          } else if (this.#ended) {
            controller.close();
          } else {
            return false;
          }
          return true;
        };
        if (give()) return;
        const { promise, resolve } = Promise.withResolvers<void>();
        this.#wake = () => {
          this.#wake = undefined;
          give();
          resolve();
        };
        return promise;
      },
      cancel: () => {
        reading = false;
      },
    }, { highWaterMark: 0 }); // nothing waits in the stream: all is here
    return { readable, stop: () => reading = false };
  }
}

/** What the hub handed one port of the bridge's, and what the bridge took. */
export class Ledger {
  handed = 0;
  handedBytes = 0;
  taken = 0;
  takenBytes = 0;
  /** The hub cut the port off. */
  cut = false;

  /** Counts whole messages that the hub handed. */
  hand(bytes: Uint8Array): void {
    this.handed += countMessages(bytes);
    this.handedBytes += bytes.length;
  }

  /** Counts whole messages that the bridge took, and says how many. */
  take(bytes: Uint8Array): number {
    const n = countMessages(bytes);
    this.taken += n;
    this.takenBytes += bytes.length;
    return n;
  }

  /** What was handed and not taken since the last call: the hub's drop. */
  settle(): { dropped: number; droppedBytes: number } {
    const dropped = this.handed - this.taken;
    const droppedBytes = this.handedBytes - this.takenBytes;
    this.handed = this.taken;
    this.handedBytes = this.takenBytes;
    return { dropped, droppedBytes };
  }
}

/**
 * Counts in `ledger` what the hub queues for the bridge's port (through its
 * enqueue, the way a hub queues for any client), and calls `cut` when the
 * hub cuts the port off (its abort), at once, before the hub relays its next
 * message.
 */
export function tap(port: SocketPort, ledger: Ledger, cut: () => void): void {
  const enqueue = port.enqueue.bind(port);
  const abort = port.abort.bind(port);
  port.enqueue = (bytes, sender) => {
    enqueue(bytes, sender);
    ledger.hand(bytes);
  };
  port.abort = (reason) => {
    if (!ledger.cut) {
      ledger.cut = true;
      cut();
    }
    return abort(reason);
  };
}

/**
 * A client of the hub that stands in for the bridge while it is out of the
 * hub (a full hub): it takes whatever the hub relays, at once, and counts
 * it in `ledger`.
 */
export function standIn(name: string, ledger: Ledger): HubClient {
  return {
    name,
    queuedBytes: 0,
    droppedBytes: 0,
    enqueue: (bytes) => ledger.hand(bytes),
    waitForRoom: () => Promise.resolve(),
    abort: () => Promise.resolve(),
  };
}

/** MIDI messages and bytes dropped and not reported yet, by reason. */
export class Drops {
  #pending = new Map<
    NatsDropReason,
    { dropped: number; droppedBytes: number }
  >();

  /** Adds a drop. */
  add(reason: NatsDropReason, dropped: number, droppedBytes: number): void {
    const pending = this.#pending.get(reason);
    if (pending) {
      pending.dropped += dropped;
      pending.droppedBytes += droppedBytes;
    } else {
      this.#pending.set(reason, { dropped, droppedBytes });
    }
  }

  /** Takes the drops of one reason, to report them; undefined if none. */
  take(
    reason: NatsDropReason,
  ): { dropped: number; droppedBytes: number } | undefined {
    const pending = this.#pending.get(reason);
    this.#pending.delete(reason);
    return pending;
  }
}
