// Copyright 2026 the midisock authors. MIT license.
// Private: waits that end with an AbortSignal, the one way this library
// times anything out (with AbortSignal.timeout and AbortSignal.any, as
// denoland/std's async/deadline.ts does).

/**
 * Makes a waiter give up when `signal` aborts: `cancel()` takes it off
 * whatever list it waits in, and it rejects with the signal's reason. The
 * listener goes once the waiter settles.
 */
export function rejectOnAbort(
  signal: AbortSignal | undefined,
  waiter: { promise: Promise<unknown>; reject: (reason: unknown) => void },
  cancel: () => void,
): void {
  if (!signal) return;
  const onAbort = () => {
    cancel();
    waiter.reject(signal.reason);
  };
  signal.addEventListener("abort", onAbort, { once: true });
  waiter.promise.finally(() => signal.removeEventListener("abort", onAbort))
    .catch(() => {});
}

/** Resolves when `signal` aborts (at once if it has). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

/**
 * A signal that aborts with a TimeoutError after `ms` milliseconds, like
 * AbortSignal.timeout(), but whose timer goes when it is disposed (`using`):
 * Deno 2.9's AbortSignal.timeout() keeps the process alive until it fires,
 * so a program that closes a port would wait out its closeTimeout to exit.
 */
export function timeoutSignal(
  ms: number,
): { signal: AbortSignal; [Symbol.dispose](): void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new DOMException("Signal timed out.", "TimeoutError"),
      ),
    ms,
  );
  return {
    signal: controller.signal,
    [Symbol.dispose]: () => clearTimeout(timer),
  };
}

/** Waits `ms` milliseconds, or less if `signal` aborts; the timer goes. */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  using wait = timeoutSignal(ms);
  await whenAborted(AbortSignal.any([wait.signal, signal]));
}
