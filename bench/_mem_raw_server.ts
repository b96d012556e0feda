// Copyright 2026 the midisock authors. MIT license.
/**
 * net_bench.ts's memory server for raw Deno.Conn: an accept loop that keeps
 * each connection with one read pending into a 2 KiB buffer of its own (the
 * size of an idle midisock client's read buffer), in a process of its own.
 * See `_mem_child.ts` for what it prints.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --v8-flags=--expose-gc bench/_mem_raw_server.ts
 * ```
 *
 * @module
 */

import { answer } from "./_mem_child.ts";

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const conns = new Set<Deno.TcpConn>();

/** Reads a connection until it ends, as a server that waits for data does. */
async function hold(conn: Deno.TcpConn): Promise<void> {
  conns.add(conn);
  const buf = new Uint8Array(2 * 1024);
  try {
    while (await conn.read(buf) !== null) {
      // Idle clients send nothing; anything that comes is dropped.
    }
  } catch {
    // Reset, or closed by close() below.
  } finally {
    conns.delete(conn);
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

const accepting = (async () => {
  try {
    for await (const conn of listener) hold(conn);
  } catch {
    // The listener was closed.
  }
})();

await answer(listener.addr.port, () => conns.size, async () => {
  listener.close();
  await accepting;
  for (const conn of [...conns]) conn.close();
});
