// Copyright 2026 the midisock authors. MIT license.
// How serve, monitor and connect stop: on Ctrl-C, SIGTERM or main()'s signal.

/**
 * The signals that stop `serve` and `monitor`. Windows has no SIGTERM to
 * listen for (Deno listens only for SIGINT and SIGBREAK there).
 */
const STOP_SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM"];

/**
 * Calls `stop` once, on Ctrl-C (SIGINT), on SIGTERM or when the signal
 * aborts. The returned function removes the listeners. After the first
 * SIGINT or SIGTERM the listeners are gone, so a second one ends the program
 * at once.
 */
export function onStop(stop: () => void, signal?: AbortSignal): () => void {
  let listening = true;
  const remove = () => {
    if (listening) {
      listening = false;
      for (const name of STOP_SIGNALS) {
        Deno.removeSignalListener(name, handler);
      }
    }
    signal?.removeEventListener("abort", handler);
  };
  const handler = () => {
    remove();
    stop();
  };
  for (const name of STOP_SIGNALS) Deno.addSignalListener(name, handler);
  if (signal?.aborted) handler();
  else signal?.addEventListener("abort", handler, { once: true });
  return remove;
}
