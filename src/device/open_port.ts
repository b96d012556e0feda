// Copyright 2026 the midisock authors. MIT license.

import { Buffer } from "node:buffer";
import { type Binding, loadBinding, rtmidi } from "./_binding.ts";
import { checkName, matchPort } from "./_match.ts";
import {
  DevicePort,
  type DevicePortOptions,
  type MidiDevice,
} from "./device_port.ts";

/** Options for {@linkcode openInput} and {@linkcode openOutput}. */
export interface OpenPortOptions
  extends Omit<DevicePortOptions, "maxMessageBytes"> {
  /**
   * Create a virtual port named `name`, for other programs to connect to,
   * instead of opening one that exists (as mido's `virtual=True`). ALSA,
   * JACK and CoreMIDI have virtual ports; Windows has none, and asking for
   * one there is a `Deno.errors.NotSupported`.
   *
   * @default {false}
   */
  virtual?: boolean;
}

/**
 * The names of the MIDI inputs of this machine: the ports that
 * {@linkcode openInput} can open (keyboards, and other programs' outputs).
 *
 * Needs `--allow-ffi --allow-read --allow-env`.
 *
 * @returns The names, in the system's order.
 * @throws {Error} If RtMidi cannot start (on Linux, ALSA without
 * /dev/snd/seq); the message says what to do.
 *
 * @example A virtual output of this program is an input for the others
 * ```ts ignore
 * import { listInputs, openOutput } from "@x/midisock/device";
 * import assert from "node:assert/strict";
 *
 * await using _bus = await openOutput("midisock-listed", { virtual: true });
 * const inputs = await listInputs();
 * assert.ok(inputs.some((name) => name.includes("midisock-listed")));
 * ```
 */
export async function listInputs(): Promise<string[]> {
  const binding = await loadBinding();
  return rtmidi(
    binding,
    "list MIDI inputs",
    () => binding.midi.Input.getPortNames(),
  );
}

/**
 * The names of the MIDI outputs of this machine: the ports that
 * {@linkcode openOutput} can open (synths, and other programs' inputs).
 *
 * Needs `--allow-ffi --allow-read --allow-env`.
 *
 * @returns The names, in the system's order.
 * @throws {Error} If RtMidi cannot start; the message says what to do.
 *
 * @example A virtual input of this program is an output for the others
 * ```ts ignore
 * import { listOutputs, openInput } from "@x/midisock/device";
 * import assert from "node:assert/strict";
 *
 * await using _keys = await openInput("midisock-listed", { virtual: true });
 * const outputs = await listOutputs();
 * assert.ok(outputs.some((name) => name.includes("midisock-listed")));
 * ```
 */
export async function listOutputs(): Promise<string[]> {
  const binding = await loadBinding();
  return rtmidi(
    binding,
    "list MIDI outputs",
    () => binding.midi.Output.getPortNames(),
  );
}

/** What RtMidi's Input and Output have alike, for opening one. */
interface RtPort {
  getPortCount(): number;
  getPortName(port: number): string;
  openPort(port: number): void;
  openVirtualPort(name: string): void;
  closePort(): void;
  destroy(): void;
}

/** An RtMidi port that is open, with the name it was opened by. */
interface Opened<T extends RtPort> {
  rt: T;
  name: string;
  options: DevicePortOptions;
}

/**
 * Opens an RtMidi Input or Output: by name (matched among the ports that
 * it lists), or as a virtual port. On failure, lets go of it.
 */
async function openRt<T extends RtPort>(
  kind: "input" | "output",
  name: string,
  options: OpenPortOptions,
  make: (binding: Binding) => T,
): Promise<Opened<T>> {
  checkName(name, kind);
  const { virtual, ...portOptions } = options;
  if (virtual && Deno.build.os === "windows") {
    throw new Deno.errors.NotSupported(
      `Cannot create virtual MIDI ${kind} ${
        JSON.stringify(name)
      }: Windows has no virtual MIDI ports`,
    );
  }
  const binding = await loadBinding();
  const what = `open MIDI ${kind} ${JSON.stringify(name)}`;
  const rt = rtmidi(binding, what, () => make(binding));
  try {
    const portName = rtmidi(binding, what, () => {
      if (virtual) {
        rt.openVirtualPort(name);
        return name;
      }
      const names = [];
      for (let i = 0; i < rt.getPortCount(); i++) names.push(rt.getPortName(i));
      const index = matchPort(names, name, kind);
      rt.openPort(index);
      return names[index];
    });
    return {
      rt,
      name: portName,
      options: { ...portOptions, maxMessageBytes: binding.maxMessageBytes },
    };
  } catch (error) {
    rt.destroy();
    throw error;
  }
}

/** Closes an RtMidi port and lets go of it (and of its JACK client). */
function closeRt(rt: RtPort): void {
  rt.closePort();
  rt.destroy();
}

/**
 * Opens a MIDI input of this machine, such as a keyboard, as a port that
 * receives what it plays. The name is the port's whole name, or a piece
 * of it, in any case, that no other input's name has. With `virtual`, it
 * creates an input that other programs can play into.
 *
 * Every message comes in, sysex and real-time ones too, and goes through
 * the same parser as the network's. Needs `--allow-ffi --allow-read
 * --allow-env`.
 *
 * @param name The input's name, or a piece of it (or the virtual port's
 * name).
 * @param options Virtual or not, and the port's options.
 * @returns The port, named with the input's whole name.
 * @throws {RangeError} If no input matches the name, or more than one does;
 * the message lists the inputs there are.
 *
 * @example Playing a keyboard into a server
 * ```ts ignore
 * import { openInput, openOutput } from "@x/midisock/device";
 * import { connect, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * // A virtual output stands in for a keyboard.
 * await using keyboard = await openOutput("midisock-keys", { virtual: true });
 * await using server = new PortServer("127.0.0.1", 0);
 *
 * await using keys = await openInput("midisock-keys");
 * await using client = await connect("127.0.0.1", server.port);
 * await keyboard.send(message("note_on", { note: 60, velocity: 100 }));
 * await client.send(await keys.receive({ signal: AbortSignal.timeout(5000) }));
 * assert.deepEqual(await server.receive(), message("note_on", { note: 60, velocity: 100 }));
 * ```
 */
export async function openInput(
  name: string,
  options: OpenPortOptions = {},
): Promise<DevicePort> {
  const opened = await openRt(
    "input",
    name,
    options,
    (binding) => new binding.midi.Input(),
  );
  const input = opened.rt;
  // Sysex, timing and active sensing: let everything in.
  input.ignoreTypes(false, false, false);
  const device: MidiDevice = {
    name: opened.name,
    listen(receive) {
      input.on("messageBuffer", (_delta, bytes) => receive(bytes));
    },
    close: () => closeRt(input),
  };
  return new DevicePort(device, opened.options);
}

/**
 * Opens a MIDI output of this machine, such as a synth, as a port that
 * plays what is sent to it. The name is the port's whole name, or a piece
 * of it, in any case, that no other output's name has. With `virtual`, it
 * creates an output that other programs can listen to.
 *
 * Closing the port first ends the notes that it left sounding (see
 * {@linkcode DevicePort.release}). Needs `--allow-ffi --allow-read
 * --allow-env`.
 *
 * @param name The output's name, or a piece of it (or the virtual port's
 * name).
 * @param options Virtual or not, and the port's options.
 * @returns The port, named with the output's whole name.
 * @throws {RangeError} If no output matches the name, or more than one
 * does; the message lists the outputs there are.
 *
 * @example Playing a server on a synth
 * ```ts ignore
 * import { openInput, openOutput, releaseOnDisconnect } from "@x/midisock/device";
 * import { connect, message, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * // A virtual input stands in for a synth.
 * await using synthInput = await openInput("midisock-synth", { virtual: true });
 * await using server = new PortServer("127.0.0.1", 0);
 *
 * await using synth = await openOutput("midisock-synth");
 * await using client = await connect("127.0.0.1", server.port);
 * using _release = releaseOnDisconnect(client, synth); // no stuck notes
 * await server.send(message("note_on", { note: 60, velocity: 100 }));
 * await synth.send(await client.receive());
 * assert.deepEqual(
 *   await synthInput.receive({ signal: AbortSignal.timeout(5000) }),
 *   message("note_on", { note: 60, velocity: 100 }),
 * );
 * ```
 */
export async function openOutput(
  name: string,
  options: OpenPortOptions = {},
): Promise<DevicePort> {
  const opened = await openRt(
    "output",
    name,
    options,
    (binding) => new binding.midi.Output(),
  );
  const output = opened.rt;
  const device: MidiDevice = {
    name: opened.name,
    // The package takes a Buffer (a Uint8Array is not one): a view, no copy.
    send: (bytes) =>
      output.sendMessage(
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      ),
    close: () => closeRt(output),
  };
  return new DevicePort(device, opened.options);
}
