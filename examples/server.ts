// Copyright 2026 the midisock authors. MIT license.
/**
 * A simple server: it prints each message that a client sends, after the
 * client's name. Run it, then play into it with examples/client.ts:
 *
 * ```sh
 * deno run --allow-net examples/server.ts [PORT]
 * ```
 *
 * PORT defaults to 8080; 0 picks a free one. Ctrl-C stops the server.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { formatMessage, PortServer } from "@x/midisock";

const { positionals } = parseArgs({ args: Deno.args, allowPositionals: true });
const port = Number(positionals[0] ?? 8080);
if (positionals.length > 1 || !Number.isInteger(port) || port < 0) {
  console.error("Usage: deno run --allow-net examples/server.ts [PORT]");
  Deno.exit(2);
}

await using server = listen(port);
const stop = () => server.close();
Deno.addSignalListener("SIGINT", stop);
console.log(`Listening on ${server.name}; press Ctrl-C to stop`);
try {
  // Ends when the server closes.
  for await (const { port: client, message } of server.withPorts()) {
    console.log(`${client.name} ${formatMessage(message)}`);
  }
} finally {
  Deno.removeSignalListener("SIGINT", stop);
}

/** A server on localhost:PORT, or one line on stderr and exit status 1. */
function listen(port: number): PortServer {
  try {
    return new PortServer("localhost", port);
  } catch (error) {
    // Such as "Cannot listen on localhost:8080: Address already in use".
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(1);
  }
}
