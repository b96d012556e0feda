// Copyright 2026 the midisock authors. MIT license.
/**
 * The protocol of net_bench.ts's memory servers, each in a process of its
 * own. The server prints `{"port":N}` once it listens, then answers each
 * line on stdin with one JSON line on stdout: `count` with `{"clients":N}`,
 * and `mem` with `{"clients","rss","heapUsed","external"}` from
 * `Deno.memoryUsage()`, taken after garbage collection when the process
 * runs with `--v8-flags=--expose-gc`. It exits when stdin ends.
 *
 * @module
 */

/** What a memory server reports for `mem`. */
export interface MemoryReport {
  /** The clients that the server holds. */
  clients: number;
  /** Resident set size, in bytes. */
  rss: number;
  /** V8's used heap, in bytes. */
  heapUsed: number;
  /** Memory outside the heap that V8 knows about, in bytes. */
  external: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

async function report(clients: number): Promise<MemoryReport> {
  // Collect, and let finalizers and timers run, a few times over.
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const m = Deno.memoryUsage();
  return { clients, rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

/**
 * Prints the port, answers commands from stdin until it ends, then closes
 * the server.
 *
 * @param port The port that the server listens on.
 * @param clients How many clients the server holds now.
 * @param close Closes the server.
 */
export async function answer(
  port: number,
  clients: () => number,
  close: () => Promise<void> | void,
): Promise<void> {
  console.log(JSON.stringify({ port }));
  let text = "";
  const input = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  for await (const chunk of input) {
    text += chunk;
    let nl: number;
    while ((nl = text.indexOf("\n")) >= 0) {
      const command = text.slice(0, nl).trim();
      text = text.slice(nl + 1);
      if (command === "count") {
        console.log(JSON.stringify({ clients: clients() }));
      } else if (command === "mem") {
        console.log(JSON.stringify(await report(clients())));
      } else {
        console.log(JSON.stringify({ error: `Unknown command: ${command}` }));
      }
    }
  }
  await close();
}
