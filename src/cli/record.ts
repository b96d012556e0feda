// Copyright 2026 the midisock authors. MIT license.
// `midisock record`: keeps what a bus plays as a Standard MIDI File.

import { RecordingFile } from "../smf/recording_file.ts";
import {
  addressAndFile,
  clientLink,
  numberOption,
  parseCommand,
  TLS_CLIENT_OPTIONS,
} from "./args.ts";
import { busAddress } from "./dial.ts";
import { RECORD_HELP } from "./help.ts";
import { type Lines, stdoutStatus } from "./lines.ts";
import { onStop } from "./on_stop.ts";

/**
 * Runs `midisock record ADDR FILE` with its arguments (after the command
 * word): connects to a bus and writes what it plays into a type 0 Standard
 * MIDI File, flushed once a second, until Ctrl-C, SIGTERM, `--duration`,
 * `options.signal` or the end of the connection. Prints one line at the end.
 *
 * @returns The exit status: 0.
 */
export async function record(
  args: string[],
  options: { signal?: AbortSignal },
  out: Lines,
): Promise<number> {
  const { values, positionals } = parseCommand("record", args, {
    options: {
      ppq: { type: "string" },
      bpm: { type: "string" },
      duration: { type: "string" },
      ...TLS_CLIENT_OPTIONS,
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await out.write(RECORD_HELP);
    return 0;
  }
  const [where, path] = addressAndFile("record", positionals);
  const ticksPerBeat = numberOption("record", "ppq", values.ppq, 480, {
    min: 1,
    max: 32767,
    integer: true,
  });
  const bpm = numberOption("record", "bpm", values.bpm, 120, {
    min: 1,
    max: 1000,
  });
  const seconds = numberOption("record", "duration", values.duration, 0, {
    min: 0,
    max: 1e9,
  });
  const link = await clientLink(values);
  const bus = await busAddress(where, link).open({ reconnect: false });
  const started = performance.now();
  const file = await RecordingFile.create(path, { ticksPerBeat, bpm });
  const stop = new AbortController();
  const removeStop = onStop(() => stop.abort(), options.signal);
  const timer = seconds > 0
    ? setTimeout(() => stop.abort(), seconds * 1000)
    : undefined;
  stop.signal.addEventListener("abort", () => bus.close(), { once: true });
  // At least once a second, what came is on disk, in a valid file.
  let flushing = Promise.resolve();
  const flusher = setInterval(() => {
    flushing = flushing.then(() => file.flush());
  }, 1000);
  try {
    for await (const { message, time } of bus.withTimes()) {
      file.add(message, time);
    }
  } finally {
    clearInterval(flusher);
    clearTimeout(timer);
    removeStop();
    await bus.close();
    await flushing;
    await file.close();
  }
  const duration = (performance.now() - started) / 1000;
  await out.write(
    `recorded ${file.messages} messages in ${
      duration.toFixed(1)
    } s to ${path} (${file.size} bytes)`,
  );
  return stdoutStatus(out);
}
