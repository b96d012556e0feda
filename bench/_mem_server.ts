// Copyright 2026 the midisock authors. MIT license.
/**
 * net_bench.ts's memory server for midisock: a PortServer used as a port
 * (one poll() makes it adopt and read every client), in a process of its
 * own. See `_mem_child.ts` for what it prints.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --v8-flags=--expose-gc bench/_mem_server.ts
 * ```
 *
 * @module
 */

import { PortServer } from "../mod.ts";
import { answer } from "./_mem_child.ts";

const server = new PortServer("127.0.0.1", 0);
server.poll(); // a port from now on: it adopts every client and reads it
await answer(server.port, () => server.stats.clients, () => server.close());
