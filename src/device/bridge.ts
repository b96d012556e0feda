// Copyright 2026 the midisock authors. MIT license.

import type { Message } from "../midi/message.ts";
import type { MidiPort } from "../port/midi_port.ts";
import type { DevicePort } from "./device_port.ts";
import { releaseOnDisconnect } from "./release_on_disconnect.ts";

/** Options for {@linkcode bridge}. */
export interface BridgeOptions {
  /**
   * Ports whose messages are sent to the port, such as keyboards
   * ({@linkcode openInput}).
   *
   * @default {[]}
   */
  // deno-lint-ignore no-explicit-any
  inputs?: readonly MidiPort<any>[];
  /**
   * Outputs that play what the port receives, such as synths
   * ({@linkcode openOutput}). Each lets go of its notes as soon as the port
   * loses its server (see {@linkcode releaseOnDisconnect}).
   *
   * @default {[]}
   */
  outputs?: readonly DevicePort[];
  /**
   * Called for a message that an output could not play (such as a sysex
   * longer than the device takes); the bridge goes on. Without it, such an
   * error ends the bridge, and its promise rejects with it.
   */
  onOutputError?: (error: unknown, output: DevicePort, msg: Message) => void;
  /** Stops the bridge. */
  signal?: AbortSignal;
}

/**
 * mido's `mido-connect`, both ways: plays each input into `port` (a
 * connection to a server), and what `port` receives on each output, until
 * `port` closes (its server went away, or it was closed) or the signal
 * aborts. When `port` loses its server, the outputs get the note_offs for
 * the notes they hold at once: when it closes, or, for a port that
 * reconnects, from the port itself, which releases what the server left on
 * for its readers. It closes neither the port nor the devices: they are
 * yours.
 *
 * @param port The port to bridge, such as what {@linkcode connect} returns.
 * @param options The inputs and outputs, what to do with a message that an
 * output cannot play, and a signal to stop.
 * @returns When the bridge ends.
 * @throws The first error of an input or of the port (or of an output,
 * without `onOutputError`); the bridge has ended then.
 *
 * @example A keyboard and a synth (in memory here) on a server
 * ```ts
 * import { bridge, DevicePort } from "@x/midisock/device";
 * import { connect, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const keys: { play?: (bytes: Uint8Array) => void } = {};
 * await using keyboard = new DevicePort({
 *   name: "keyboard",
 *   listen: (receive) => (keys.play = receive),
 *   close() {},
 * });
 * const played: string[] = [];
 * await using synth = new DevicePort({
 *   name: "synth",
 *   send: (bytes) => played.push([...bytes].join(" ")),
 *   close() {},
 * });
 * const server = new PortServer("127.0.0.1", 0);
 * await using client = await connect("127.0.0.1", server.port);
 * const bridged = bridge(client, { inputs: [keyboard], outputs: [synth] });
 *
 * keys.play!(new Uint8Array([0x90, 60, 100]));
 * assert.deepEqual(await server.receive(), message("note_on", { note: 60, velocity: 100 }));
 * await server.send(message("note_on", { note: 64, velocity: 90 }));
 * await server.close(); // with note 64 held on the synth
 * await bridged;
 * assert.deepEqual(played, ["144 64 90", "128 64 64"]);
 * ```
 */
export async function bridge(
  // deno-lint-ignore no-explicit-any
  port: MidiPort<any>,
  options: BridgeOptions = {},
): Promise<void> {
  const { inputs = [], outputs = [], onOutputError } = options;
  const stop = new AbortController();
  const signal = options.signal
    ? AbortSignal.any([options.signal, stop.signal])
    : stop.signal;
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => {
    failure ??= { error };
    stop.abort();
  };
  const releases = outputs.map((output) => releaseOnDisconnect(port, output));
  // Each input plays into the port until it, or the port, closes.
  const feeding = inputs.map(async (input) => {
    try {
      while (!signal.aborted) {
        const msg = await input.receive({ signal });
        await port.send(msg);
      }
    } catch (error) {
      if (!signal.aborted && !port.closed && !input.closed) fail(error);
    }
  });
  try {
    while (!signal.aborted) {
      let msg: Message;
      try {
        msg = await port.receive({ signal });
      } catch (error) {
        if (signal.aborted || port.closed) break;
        throw error;
      }
      for (const output of outputs) {
        try {
          await output.send(msg);
        } catch (error) {
          if (!onOutputError) throw error;
          onOutputError(error, output, msg);
        }
      }
    }
  } catch (error) {
    fail(error);
  } finally {
    stop.abort();
    await Promise.all(feeding);
    for (const release of releases) release[Symbol.dispose]();
    // The port's close event may come after this: release here too.
    if (port.closed) {
      for (const output of outputs) await output.release().catch(fail);
    }
  }
  if (failure) throw failure.error;
}
