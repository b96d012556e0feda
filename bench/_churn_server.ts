// Copyright 2026 the midisock authors. MIT license.
/**
 * soak_churn.ts's server, in a process of its own: a relay (`new
 * PortServer("127.0.0.1", 0, { relay: true })`) with a reader that counts
 * what it reads. It prints `{"port":N}` once it listens, then answers each
 * line on stdin with one JSON line on stdout: the messages its reader got,
 * by type, the `disconnect` events, and `server.stats`. It exits when
 * stdin ends.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 bench/_churn_server.ts
 * ```
 *
 * @module
 */

import { PortServer } from "../mod.ts";

const server = new PortServer("127.0.0.1", 0, { relay: true });
const read: Record<string, number> = {};
let disconnects = 0;
server.addEventListener("disconnect", () => disconnects++);
const reading = (async () => {
  for await (const msg of server) read[msg.type] = (read[msg.type] ?? 0) + 1;
})();

console.log(JSON.stringify({ port: server.port }));
const input = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
for await (const chunk of input) {
  for (const _ of chunk.matchAll(/\n/g)) {
    console.log(JSON.stringify({ read, disconnects, stats: server.stats }));
  }
}
await server.close();
await reading;
