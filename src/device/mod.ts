// Copyright 2026 the midisock authors. MIT license.
/**
 * Local MIDI devices: the keyboards and synths of this machine, as ports
 * with the same surface as a network port, so that a keyboard in one room
 * can play a synth in another (what mido's `mido-serve` and `mido-connect`
 * do). It goes through npm `@julusian/midi` (RtMidi, the backend that mido
 * uses), which ships prebuilt binaries for ALSA (Linux), CoreMIDI (macOS)
 * and WinMM (Windows). The core module, `@x/midisock`, does not import this
 * one, so a program that never touches devices needs neither the binding
 * nor `--allow-ffi`.
 *
 * Needs `--allow-ffi --allow-read --allow-env`. On Linux without
 * /dev/snd/seq (containers, CI), build RtMidi with JACK
 * (`deno task build:jack`), run `jackd`, and point `MIDISOCK_RTMIDI` at the
 * build. The guide is [Local MIDI devices](docs/devices.md), in the
 * package's `docs/` folder (a link from the package's root, as JSR
 * resolves it).
 *
 * - {@linkcode listInputs} and {@linkcode listOutputs} list the ports.
 * - {@linkcode openInput} and {@linkcode openOutput} open one by name (the
 *   whole name, or a piece that no other port's name has), or create a
 *   virtual one; each is a {@linkcode DevicePort}.
 * - {@linkcode bridge} plays inputs into a server and the server on
 *   outputs (mido-connect, both ways), and {@linkcode releaseOnDisconnect}
 *   ends an output's notes when the server that feeds it goes away.
 *
 * @example A virtual output, listed and opened from the other side
 * ```ts ignore
 * import { listInputs, openInput, openOutput } from "@x/midisock/device";
 * import { message } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using out = await openOutput("midisock-doc", { virtual: true });
 * const name = (await listInputs()).find((n) => n.includes("midisock-doc"));
 * assert.ok(name);
 * await using input = await openInput(name);
 * await out.send(message("note_on", { note: 60, velocity: 100 }));
 * assert.deepEqual(
 *   await input.receive({ signal: AbortSignal.timeout(5000) }),
 *   message("note_on", { note: 60, velocity: 100 }),
 * );
 * ```
 *
 * @module
 */

export {
  DevicePort,
  type DevicePortEventMap,
  type DevicePortOptions,
  type DevicePortStats,
  type MidiDevice,
} from "./device_port.ts";
export {
  listInputs,
  listOutputs,
  openInput,
  openOutput,
  type OpenPortOptions,
} from "./open_port.ts";
export { bridge, type BridgeOptions } from "./bridge.ts";
export { releaseOnDisconnect } from "./release_on_disconnect.ts";
