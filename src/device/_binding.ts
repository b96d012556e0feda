// Copyright 2026 the midisock authors. MIT license.
// Private: loads RtMidi, through npm @julusian/midi, once. By default that is
// the package as npm has it, with its prebuilt binary (ALSA on Linux,
// CoreMIDI on macOS, WinMM on Windows). MIDISOCK_RTMIDI=<folder> loads the
// same package from a folder instead, such as the JACK build that
// `deno task build:jack` makes in .cache/rtmidi-jack/: the same JS code,
// with the binary in <folder>/build/Release/midi.node.

import { errorText } from "../util/error_text.ts";
import { createRequire } from "node:module";
import type * as Midi from "@julusian/midi";

/** The package's surface: Input and Output, with getPortNames(). */
export type MidiModule = typeof Midi;

/** A loaded RtMidi: the package, and what its build can do. */
export interface Binding {
  midi: MidiModule;
  /** Where it came from, for error messages. */
  source: string;
  /**
   * The longest message it can send, in bytes, if it has a limit: RtMidi's
   * JACK output drops a message that does not fit its 16 KiB ring buffer
   * (with its 4-byte length), without a word.
   */
  maxMessageBytes: number;
}

/** The environment variable that names a folder to load RtMidi from. */
const RTMIDI_ENV = "MIDISOCK_RTMIDI";

// RtMidi's JACK ring buffer holds 16384 bytes, one of which stays free,
// and each message goes in after its length (an int).
const JACK_MAX_MESSAGE_BYTES = 16384 - 1 - 4;

let loading: Promise<Binding> | undefined;

/**
 * Loads RtMidi once (again after a failure). MIDISOCK_RTMIDI is read on the
 * first call.
 */
export function loadBinding(): Promise<Binding> {
  loading ??= load().catch((error) => {
    loading = undefined;
    if (error instanceof Deno.errors.NotCapable) {
      throw new Error(
        `Cannot load RtMidi: ${errorText(error)}; ${PERMISSIONS}`,
        {
          cause: error,
        },
      );
    }
    throw error;
  });
  return loading;
}

/** What MIDI ports need, said after a permission error. */
const PERMISSIONS =
  "MIDI ports need --allow-ffi --allow-read --allow-env (see docs/devices.md)";

async function load(): Promise<Binding> {
  const folder = Deno.env.get(RTMIDI_ENV);
  if (folder === undefined || folder === "") {
    const midi = await import("@julusian/midi");
    return {
      midi: midi as MidiModule,
      source: "npm:@julusian/midi",
      maxMessageBytes: Number.POSITIVE_INFINITY,
    };
  }
  const root = folder.endsWith("/") ? folder : `${folder}/`;
  let build: { api?: string } = {};
  try {
    build = JSON.parse(await Deno.readTextFile(`${root}midisock-build.json`));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    // A folder of the package built some other way: no known limits.
  }
  try {
    await Deno.stat(`${root}build/Release/midi.node`);
  } catch (error) {
    throw new Error(
      `Cannot load RtMidi from ${RTMIDI_ENV}=${folder}: it has no build/Release/midi.node (run deno task build:jack)`,
      { cause: error },
    );
  }
  const base = root.startsWith("/") ? root : `${Deno.cwd()}/${root}`;
  // A path made at run time: Deno's module graph must not take the folder's
  // entry point for a file of this package.
  const entry = `${base}dist/midi.js`;
  const midi = createRequire(base)(entry) as MidiModule;
  midi.verifyLibraryLoaded();
  return {
    midi,
    source: `${RTMIDI_ENV}=${folder}`,
    maxMessageBytes: build.api === "jack"
      ? JACK_MAX_MESSAGE_BYTES
      : Number.POSITIVE_INFINITY,
  };
}

/**
 * Runs a call into RtMidi, and makes its bare "Failed to initialise RtMidi"
 * say what to do.
 */
export function rtmidi<T>(binding: Binding, what: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    // Ours (a name that matches no port): as it is.
    if (error instanceof RangeError || error instanceof TypeError) throw error;
    const text = errorText(error);
    if (error instanceof Deno.errors.NotCapable) {
      throw new Error(`Cannot ${what}: ${text}; ${PERMISSIONS}`, {
        cause: error,
      });
    }
    if (/Failed to initialise RtMidi/i.test(text)) {
      throw new Error(
        `Cannot ${what}: RtMidi (${binding.source}) failed to start its MIDI API${
          Deno.build.os === "linux"
            ? ": ALSA needs /dev/snd/seq; without it, build RtMidi with JACK (deno task build:jack), run jackd, and set MIDISOCK_RTMIDI"
            : ""
        }`,
        { cause: error },
      );
    }
    throw new Error(`Cannot ${what}: ${text}`, { cause: error });
  }
}
