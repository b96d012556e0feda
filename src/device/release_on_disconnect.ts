// Copyright 2026 the midisock authors. MIT license.

import type { DevicePort } from "./device_port.ts";

/**
 * Ends the notes that `output` holds as soon as `port` closes: its server
 * went away, or it was closed. The output then gets a note_off for each
 * note it holds and control_change 64 value 0 for each pedal left down
 * (see {@linkcode DevicePort.release}).
 *
 * Use it for an output that plays what a server sends: if the server goes
 * away between a note_on and its note_off, the note would sound forever.
 * Messages that arrived before the close and are played after it are held
 * again, and released when the output closes.
 *
 * A port that reconnects (`connect(host, port, { reconnect: true })`) does
 * not close when its server goes away: it releases what the server left on
 * for its readers itself, at once, as note_offs in the stream it gives, so
 * an output that plays that stream gets them without this function (and
 * this function would send them twice). Here it covers such a port's
 * close.
 *
 * @param port The port whose peer feeds the output, such as the one that
 * {@linkcode connect} returns.
 * @param output The output that plays it.
 * @returns A Disposable that stops listening (for `using`).
 *
 * @example A synth that plays a server, and lets go when it goes
 * ```ts
 * import { DevicePort, releaseOnDisconnect } from "@x/midisock/device";
 * import { connect, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const played: string[] = [];
 * await using synth = new DevicePort({
 *   name: "synth",
 *   send: (bytes) => played.push([...bytes].join(" ")),
 *   close() {},
 * });
 * const server = new PortServer("127.0.0.1", 0);
 * await using client = await connect("127.0.0.1", server.port);
 * using _release = releaseOnDisconnect(client, synth);
 * await server.send(message("note_on", { note: 60, velocity: 100 }));
 * await synth.send(await client.receive());
 * const gone = new Promise((resolve) => client.addEventListener("close", resolve));
 * await server.close(); // the server goes away with the note held
 * await gone;
 * assert.deepEqual(played, ["144 60 100", "128 60 64"]);
 * ```
 */
export function releaseOnDisconnect(
  port: EventTarget,
  output: DevicePort,
): Disposable {
  const release = () => {
    // A closed output has nothing to release; it released on close.
    output.release().catch(() => {});
  };
  port.addEventListener("close", release);
  return {
    [Symbol.dispose]() {
      port.removeEventListener("close", release);
    },
  };
}
