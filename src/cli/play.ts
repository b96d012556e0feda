// Copyright 2026 the midisock authors. MIT license.
// `midisock play`: plays a Standard MIDI File into a bus, on time.

import type { Message } from "../midi/message.ts";
import { NoteTracker } from "../midi/note_tracker.ts";
import { playSchedule } from "../smf/play_schedule.ts";
import { readMidiFile } from "../smf/read_midi_file.ts";
import { oneLine } from "../util/error_text.ts";
import { waitUntil } from "../util/wait_until.ts";
import {
  addressAndFile,
  clientLink,
  numberOption,
  parseCommand,
  readBytes,
  TLS_CLIENT_OPTIONS,
} from "./args.ts";
import { type BusAddress, busAddress, type BusPort } from "./dial.ts";
import { PLAY_HELP } from "./help.ts";
import { type Lines, stdoutStatus } from "./lines.ts";
import { onStop } from "./on_stop.ts";

/**
 * Runs `midisock play ADDR FILE` with its arguments (after the command
 * word): reads the file, connects, and sends each message at its time from
 * the file's start on the monotonic clock (`--speed`, `--loop`), until the
 * file ends, Ctrl-C, SIGTERM or `options.signal`. However it ends, the
 * notes it left on get their note_off, and the pedals it left down CC64=0;
 * on a lost connection, over a new one. Prints one line at the end.
 *
 * @returns The exit status: 0, or 1 if the connection was lost.
 */
export async function play(
  args: string[],
  options: { signal?: AbortSignal },
  out: Lines,
): Promise<number> {
  const { values, positionals } = parseCommand("play", args, {
    options: {
      speed: { type: "string" },
      loop: { type: "boolean" },
      ...TLS_CLIENT_OPTIONS,
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await out.write(PLAY_HELP);
    return 0;
  }
  const [where, path] = addressAndFile("play", positionals);
  const speed = numberOption("play", "speed", values.speed, 1, {
    min: 0,
    max: 1000,
    aboveMin: true,
  });
  const bus = busAddress(where, await clientLink(values));
  const schedule = playSchedule(await readFile(path), { speed });
  if (values.loop && schedule.duration === 0) {
    throw new Error(
      `Cannot loop ${path}: it lasts no time (its End of Track is at its start)`,
    );
  }
  const port = await bus.open({ reconnect: false });
  const stop = new AbortController();
  const removeStop = onStop(() => stop.abort(), options.signal);
  // The bus's messages are read and dropped (a port that is not read
  // would fall behind, and be cut off); its end is a lost connection.
  let lost = false;
  const draining = (async () => {
    try {
      for await (const _ of port) { /* dropped */ }
    } catch { /* ended */ }
    if (!stop.signal.aborted) lost = true;
    stop.abort();
  })();
  const held = new NoteTracker();
  const started = performance.now();
  let played = 0;
  try {
    const { messages, duration } = schedule;
    let base = started;
    do {
      for (const { time, message } of messages) {
        await waitUntil(base + time, stop.signal);
        if (stop.signal.aborted) break;
        held.track(message);
        await port.send(message);
        played++;
      }
      if (!values.loop) break;
      // The next pass starts at the End of Track, which may be later.
      base += duration;
      await waitUntil(base, stop.signal);
    } while (!stop.signal.aborted);
  } catch (error) {
    if (!port.closed) throw error;
    lost = true; // a send failed as the connection ended
  } finally {
    removeStop();
  }
  const releases = held.release();
  const seconds = (performance.now() - started) / 1000;
  let released = "";
  if (releases.length > 0) {
    released = lost
      ? await releaseAgain(bus, releases)
      : await send(port, releases);
  }
  stop.abort();
  await port.close();
  await draining;
  await out.write(
    `played ${played} messages in ${seconds.toFixed(1)} s${released}`,
  );
  if (lost) {
    throw new Error(
      `Lost the connection to ${bus.name} after ${played} messages`,
    );
  }
  return stdoutStatus(out);
}

/** The file's MIDI, read; an error names the file, the chunk and the byte. */
async function readFile(path: string) {
  const bytes = await readBytes(path);
  try {
    return readMidiFile(bytes);
  } catch (error) {
    // "Cannot read MIDI file: MTrk 2 at byte 40: ...", with the file.
    throw new Error(
      oneLine(error).replace(/^Cannot read MIDI file:/, `Cannot read ${path}:`),
    );
  }
}

/** Sends the releases; says what they were, for the last line. */
async function send(port: BusPort, releases: Message[]): Promise<string> {
  for (const msg of releases) await port.send(msg);
  return `, released ${what(releases)}`;
}

/**
 * Sends the releases over a new connection, the old one being lost (a bus
 * releases a client's notes when it leaves, unless told not to; a peer
 * that is not a midisock bus does not).
 */
async function releaseAgain(
  bus: BusAddress,
  releases: Message[],
): Promise<string> {
  try {
    const again = await bus.open({ reconnect: false });
    try {
      return await send(again, releases) + " over a new connection";
    } finally {
      await again.close();
    }
  } catch (error) {
    return `; could not release ${what(releases)}: ${oneLine(error)}`;
  }
}

/** "3 notes and 1 pedal". */
function what(releases: Message[]): string {
  const pedals = releases.filter((m) => m.type === "control_change").length;
  const notes = releases.length - pedals;
  const plural = (n: number, word: string) =>
    `${n} ${word}${n === 1 ? "" : "s"}`;
  return pedals === 0
    ? plural(notes, "note")
    : `${plural(notes, "note")} and ${plural(pedals, "pedal")}`;
}
