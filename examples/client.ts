// Copyright 2026 the midisock authors. MIT license.
/**
 * A client that plays a short phrase into a server (examples/server.ts,
 * `midisock serve`, or mido's `mido-serve`): an arpeggio of note_on and
 * note_off pairs. Then it closes the connection, which sends what is still
 * queued first.
 *
 * ```sh
 * deno run --allow-net examples/client.ts [PORT]
 * ```
 *
 * It connects to localhost:PORT; PORT defaults to 8080.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { connect, message } from "@x/midisock";

const { positionals } = parseArgs({ args: Deno.args, allowPositionals: true });
const port = Number(positionals[0] ?? 8080);
if (positionals.length > 1 || !Number.isInteger(port) || port < 1) {
  console.error("Usage: deno run --allow-net examples/client.ts [PORT]");
  Deno.exit(2);
}

const PHRASE = [60, 64, 67, 72]; // C, E, G, C: a C major arpeggio
const NOTE_MS = 150;

await using output = await connect("localhost", port).catch((error) => {
  // Such as "Cannot connect to localhost:8080: connection refused".
  console.error(error instanceof Error ? error.message : error);
  Deno.exit(1);
});
for (const note of PHRASE) {
  await output.send(message("note_on", { note, velocity: 100 }));
  await new Promise((resolve) => setTimeout(resolve, NOTE_MS));
  await output.send(message("note_off", { note }));
}
console.log(`Played ${PHRASE.length} notes to ${output.name}`);
