// Copyright 2026 the midisock authors. MIT license.
// Waiting for a time on the monotonic clock (performance.now()), to well
// within a millisecond: what a player waits with, for each message's time.

import { sleep } from "./abort.ts";

/**
 * How long before its time a wait stops sleeping on a timer and yields to
 * the event loop instead until the time comes, in ms. A timer fires late by
 * up to a millisecond or two, or more on a busy machine; a yield (a
 * MessageChannel message, which no timer clamp delays) comes back within
 * microseconds, and lets I/O run meanwhile. bench/play_bench.ts measures it.
 */
const YIELD_MS = 2;

/**
 * Waits until `performance.now()` reaches `due`, or `signal` aborts (then
 * it resolves early; the caller checks the signal). It sleeps on a timer
 * until {@linkcode YIELD_MS} before, then yields to the event loop until
 * the time. Each wait is to an absolute time, so errors never add up.
 *
 * @param due The time, on the clock of `performance.now()`, in ms.
 * @param signal A signal to stop waiting.
 */
export async function waitUntil(
  due: number,
  signal: AbortSignal,
): Promise<void> {
  const early = due - performance.now() - YIELD_MS;
  if (early > 0) await sleep(early, signal);
  if (performance.now() >= due || signal.aborted) return;
  const channel = new MessageChannel();
  try {
    let wake: () => void = () => {};
    channel.port1.onmessage = () => wake();
    while (performance.now() < due && !signal.aborted) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        channel.port2.postMessage(null);
      });
    }
  } finally {
    channel.port1.close();
    channel.port2.close();
  }
}
