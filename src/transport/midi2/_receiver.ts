// Copyright 2026 the midisock authors. MIT license.
// Private: the receiving side of a Network MIDI 2.0 session's UMP Data. It
// delivers each command once, in the order of its sequence numbers: it drops
// the copies that FEC and duplicated datagrams bring, holds commands that
// come before the ones they follow, and says which numbers are missing, so
// that the session can ask for them (Retransmit Request) or give them up
// after a bounded wait. It knows nothing of sockets or clocks.

import { seqDiff } from "./_sender.ts";

/** The most commands held ahead of a missing one. */
export const MAX_HELD = 1024;

/** The counters of a receiver. */
export interface UmpReceiverStats {
  /** UMP Data commands delivered, each once. */
  delivered: number;
  /** Copies dropped: FEC repeats and duplicated datagrams. */
  duplicates: number;
  /** Commands whose first copy came as another datagram's FEC. */
  fecRecovered: number;
  /** Commands that came after later ones (reordered), and were held. */
  reordered: number;
  /** Commands that came in answer to a Retransmit Request. */
  retransmitRecovered: number;
  /** Commands given up: never came within the wait, or the sender had them no more. */
  lost: number;
}

/** A run of missing sequence numbers. */
export interface Gap {
  /** The first missing number. */
  from: number;
  /** How many are missing, up to the first one held. */
  count: number;
}

/** The UMP Data side of a session that receives. */
export class UmpReceiver {
  #next = 0;
  #held = new Map<number, readonly number[]>();
  #highest = -1; // the distance of the newest number held, from #next
  #requested: Gap | undefined;
  #stats: UmpReceiverStats = {
    delivered: 0,
    duplicates: 0,
    fecRecovered: 0,
    reordered: 0,
    retransmitRecovered: 0,
    lost: 0,
  };

  /** The counters since this receiver was made. */
  get stats(): Readonly<UmpReceiverStats> {
    return { ...this.#stats };
  }

  /** The number expected next. */
  get next(): number {
    return this.#next;
  }

  /** Starts again from sequence number 0 (a Session Reset). */
  reset(): void {
    this.#next = 0;
    this.#held.clear();
    this.#highest = -1;
    this.#requested = undefined;
  }

  /** How many commands are held after a missing one. */
  get held(): number {
    return this.#held.size;
  }

  /** The missing numbers before the first one held, if any. */
  get gap(): Gap | undefined {
    if (this.#held.size === 0) return undefined;
    let count = 1;
    while (!this.#held.has((this.#next + count) & 0xffff)) count++;
    return { from: this.#next, count };
  }

  /** Notes that the session asked for `gap` again. */
  requested(gap: Gap): void {
    this.#requested = gap;
  }

  /**
   * Takes one UMP Data command, and returns the words to deliver now, in
   * order (none, or this command's, and any held ones it lets through).
   *
   * @param sequence Its sequence number.
   * @param words Its UMP words.
   * @param fec Whether it came before the newest command of its datagram
   * (a FEC copy, in the senders that put the new one last).
   */
  accept(
    sequence: number,
    words: readonly number[],
    fec: boolean,
  ): (readonly number[])[] {
    const ahead = seqDiff(sequence, this.#next);
    if (ahead < 0 || this.#held.has(sequence)) {
      this.#stats.duplicates++;
      return [];
    }
    const stats = this.#stats;
    const requested = this.#requested;
    if (
      requested && seqDiff(sequence, requested.from) >= 0 &&
      seqDiff(sequence, requested.from) < requested.count
    ) {
      stats.retransmitRecovered++;
    } else if (fec) {
      stats.fecRecovered++;
    } else if (ahead < this.#highest) {
      stats.reordered++;
    }
    if (ahead > 0) {
      this.#held.set(sequence, words);
      if (ahead > this.#highest) this.#highest = ahead;
      if (this.#held.size > MAX_HELD) return this.skip();
      return [];
    }
    const out: (readonly number[])[] = [words];
    this.#advance(1);
    this.#drain(out);
    return out;
  }

  /**
   * Gives up the numbers of the first gap (counted as lost), and returns the
   * held commands that follow it, in order.
   */
  skip(): (readonly number[])[] {
    const gap = this.gap;
    if (gap === undefined) return [];
    this.#stats.lost += gap.count;
    this.#advance(gap.count);
    const out: (readonly number[])[] = [];
    this.#drain(out);
    return out;
  }

  #advance(count: number): void {
    this.#next = (this.#next + count) & 0xffff;
    this.#highest -= count;
    if (this.#requested) {
      const left = this.#requested.count -
        seqDiff(this.#next, this.#requested.from);
      if (left <= 0) this.#requested = undefined;
    }
  }

  #drain(out: (readonly number[])[]): void {
    this.#stats.delivered += out.length;
    for (;;) {
      const words = this.#held.get(this.#next);
      if (words === undefined) break;
      this.#held.delete(this.#next);
      out.push(words);
      this.#stats.delivered++;
      this.#advance(1);
    }
    if (this.#held.size === 0) this.#highest = -1;
  }
}
