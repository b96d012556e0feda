// Copyright 2026 the midisock authors. MIT license.

/** What a {@linkcode BufferBudget} asks of a port: to let go of a message. */
export interface BudgetHolder {
  /**
   * Discards the partial message that the port's parser holds.
   *
   * @returns The bytes of memory let go.
   */
  discardPartial(): number;
}

/**
 * A bound on the bytes that many ports hold, together, for messages that
 * have not finished arriving (a sysex in progress). Each port tells the
 * budget what it holds after each chunk it reads; when the total passes
 * the bound, the port that holds the most is told to discard its partial
 * message (which it counts and reports as a drop), until the total is
 * within the bound again. So a few hundred clients that each send most of
 * a 1 MiB sysex cannot take the server's memory with them.
 *
 * A {@linkcode PortServer} has one for its clients (`maxBufferedBytes`).
 *
 * @example Two holders over a budget of 100 bytes
 * ```ts
 * import { BufferBudget } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const budget = new BufferBudget(100);
 * const held = new Map<object, number>();
 * const holder = (name: string) => {
 *   const h = {
 *     discardPartial() {
 *       const n = held.get(h)!;
 *       held.set(h, 0);
 *       return n;
 *     },
 *     name,
 *   };
 *   return h;
 * };
 * const a = holder("a");
 * const b = holder("b");
 * held.set(a, 60);
 * budget.hold(a, 60);
 * held.set(b, 70);
 * budget.hold(b, 70); // 130 > 100: b, the largest, lets go
 * assert.equal(held.get(b), 0);
 * assert.equal(budget.heldBytes, 60);
 * assert.equal(budget.discards, 1);
 * ```
 */
export class BufferBudget {
  #max: number;
  #held = new Map<BudgetHolder, number>();
  #total = 0;
  #discards = 0;

  /**
   * Makes a budget.
   *
   * @param maxBytes The most bytes that the holders may hold together.
   * @throws {RangeError} If it is not a positive integer.
   */
  constructor(maxBytes: number) {
    if (!Number.isInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(
        `Invalid maxBufferedBytes option: expected a positive integer, got ${maxBytes}`,
      );
    }
    this.#max = maxBytes;
  }

  /** The bound, in bytes. */
  get maxBytes(): number {
    return this.#max;
  }

  /** The bytes held now, by every holder together. */
  get heldBytes(): number {
    return this.#total;
  }

  /** Partial messages discarded to keep within the bound. */
  get discards(): number {
    return this.#discards;
  }

  /**
   * Says how many bytes a holder holds now. If the total passes the bound,
   * the largest holders discard their partial messages until it is within.
   *
   * @param holder The holder (a port).
   * @param bytes What it holds now.
   */
  hold(holder: BudgetHolder, bytes: number): void {
    this.#set(holder, bytes);
    while (this.#total > this.#max) {
      let largest: BudgetHolder | undefined;
      let most = 0;
      for (const [h, n] of this.#held) {
        if (n > most) {
          most = n;
          largest = h;
        }
      }
      if (largest === undefined) break;
      largest.discardPartial();
      this.#discards++;
      this.#set(largest, 0);
    }
  }

  /**
   * Forgets a holder (a port that closed): what it held is no longer held.
   *
   * @param holder The holder.
   */
  release(holder: BudgetHolder): void {
    this.#set(holder, 0);
  }

  #set(holder: BudgetHolder, bytes: number): void {
    this.#total += bytes - (this.#held.get(holder) ?? 0);
    if (bytes === 0) this.#held.delete(holder);
    else this.#held.set(holder, bytes);
  }
}
