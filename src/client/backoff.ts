// Copyright 2026 the midisock authors. MIT license.

/**
 * How long to wait before a reconnect attempt, in milliseconds, given the
 * attempt's number (1 for the first).
 */
export type Backoff = (attempt: number) => number;

/** Options for {@linkcode exponentialBackoff}. */
export interface ExponentialBackoffOptions {
  /**
   * The wait before the first attempt, in milliseconds.
   *
   * @default {100}
   */
  minInterval?: number;
  /**
   * The longest wait, in milliseconds.
   *
   * @default {5000}
   */
  maxInterval?: number;
  /**
   * How much each wait grows over the one before.
   *
   * @default {2}
   */
  multiplier?: number;
  /**
   * How much of each wait is random, from 0 (none) to 1: a wait of `w`
   * becomes one between `w * (1 - jitter)` and `w`, so that many clients of
   * a server that restarts do not all come back at once.
   *
   * @default {0}
   */
  jitter?: number;
}

/**
 * A backoff that waits `minInterval`, then `multiplier` times longer each
 * attempt, up to `maxInterval`, less a random part of up to `jitter`.
 *
 * @param options The intervals, the multiplier and the jitter.
 * @returns The backoff.
 * @throws {RangeError} For an option out of range, named.
 *
 * @example The waits, attempt by attempt
 * ```ts
 * import { exponentialBackoff } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const backoff = exponentialBackoff({ minInterval: 100, maxInterval: 1000 });
 * assert.deepEqual([1, 2, 3, 4, 5, 6].map(backoff), [100, 200, 400, 800, 1000, 1000]);
 * ```
 */
export function exponentialBackoff(
  options: ExponentialBackoffOptions = {},
): Backoff {
  const {
    minInterval = 100,
    maxInterval = 5000,
    multiplier = 2,
    jitter = 0,
  } = options;
  const check = (name: string, value: number, ok: boolean, want: string) => {
    if (typeof value !== "number" || !ok) {
      throw new RangeError(
        `Invalid ${name} option: expected ${want}, got ${value}`,
      );
    }
  };
  check("minInterval", minInterval, minInterval >= 0, "a number >= 0");
  check(
    "maxInterval",
    maxInterval,
    maxInterval >= minInterval,
    `a number >= minInterval (${minInterval})`,
  );
  check("multiplier", multiplier, multiplier >= 1, "a number >= 1");
  check("jitter", jitter, jitter >= 0 && jitter <= 1, "a number in 0..1");
  return (attempt: number) => {
    const n = Math.max(1, Math.floor(attempt));
    const wait = Math.min(maxInterval, minInterval * multiplier ** (n - 1));
    return jitter === 0 ? wait : wait * (1 - jitter * Math.random());
  };
}
