// Copyright 2026 the midisock authors. MIT license.
/**
 * Playback accuracy on loopback: a dense file (10,000 messages over 10 s,
 * one a millisecond) played by `midisock play` (a child process) into a
 * PortServer in this process, which takes each message's arrival time when
 * its bytes are read. Beside it, in the same run, the same schedule with no
 * socket: a bare `setTimeout` to each absolute time (the raw platform), and
 * `waitUntil()` (the player's wait: a timer, then yields), these two in
 * turns of 500 times each, so that both meet the same load; and a bare
 * Deno.Conn player (`bench/_raw_player.ts`) that waits with waitUntil().
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --allow-read --allow-write=/tmp --allow-run bench/play_bench.ts
 * ```
 *
 * Deviation is each message's time minus its scheduled time. For the two
 * waits without a socket, both are on this process's clock. For `midisock
 * play`, the arrival times are on this process's clock and the schedule on
 * the player's, so each deviation is taken against the median offset
 * between them (the file's start as the server heard it): what is left is
 * the scatter around the schedule, which is what a listener hears. Figures
 * are of |deviation|, in ms. Flags: `--events=N` (default 10000),
 * `--seconds=S` (default 10).
 *
 * @module
 */

import {
  message,
  playSchedule,
  PortServer,
  type TrackEvent,
  writeMidiFile,
} from "../mod.ts";
import { waitUntil } from "../src/util/wait_until.ts";
import { numberFlag } from "./_flags.ts";

const EVENTS = numberFlag("events", 10_000);
const SECONDS = numberFlag("seconds", 10);
const PPQ = 1000; // at 120 bpm, 2 ticks a ms
const BLOCK = 500; // times waited for with one wait, then with the other

// A dense file: note_on and note_off in turn, evenly spaced.
const track: TrackEvent[] = [];
const gapTicks = SECONDS * 1000 * 2 / EVENTS;
let lastTick = 0;
for (let i = 0; i < EVENTS; i++) {
  const tick = Math.round(i * gapTicks);
  const note = 36 + (i >> 1) % 48;
  track.push({
    delta: tick - lastTick,
    message: i % 2 === 0
      ? message("note_on", { note, velocity: 90 })
      : message("note_off", { note }),
  });
  lastTick = tick;
}
const file = {
  format: 0 as const,
  division: { ticksPerBeat: PPQ },
  tracks: [track],
};
const { messages } = playSchedule(file);
const times = messages.map((m) => m.time);

function figures(deviations: number[]): string {
  const sorted = deviations.map(Math.abs).sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  const ms = (v: number) => v.toFixed(3).padStart(7);
  return `p50 ${ms(rank(0.5))}  p90 ${ms(rank(0.9))}  p99 ${
    ms(rank(0.99))
  }  max ${ms(sorted[sorted.length - 1])} ms`;
}

/**
 * Each time's deviation when loops wait for them with each of `waits`, in
 * turns of BLOCK times (a block with one, the same block with the next),
 * so that each meets the same load of the machine.
 */
async function waitLoops(
  waits: ((due: number) => Promise<void>)[],
): Promise<number[][]> {
  const out = waits.map(() => new Array<number>(times.length));
  for (let from = 0; from < times.length; from += BLOCK) {
    const to = Math.min(times.length, from + BLOCK);
    for (let w = 0; w < waits.length; w++) {
      const start = performance.now() + 5 - times[from];
      for (let i = from; i < to; i++) {
        const due = start + times[i];
        await waits[w](due);
        out[w][i] = performance.now() - due;
      }
    }
  }
  return out;
}

const never = new AbortController().signal;
const rows: [string, string][] = [];

const [timer, yielding] = await waitLoops([
  async (due) => {
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  },
  (due) => waitUntil(due, never),
]);
rows.push(["setTimeout to each time, no socket (raw)", figures(timer)]);
rows.push(["waitUntil() to each time, no socket", figures(yielding)]);

// Plays the file with a child process that connects to a server here, and
// gives the scatter of the arrivals around the schedule.
async function arrivals(
  args: (port: number) => string[],
): Promise<[string, string]> {
  await using server = new PortServer("127.0.0.1", 0);
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      `--allow-read`,
      ...args(server.port),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const arrived: number[] = [];
  for await (const { time } of server.withPorts()) {
    arrived.push(time);
    if (arrived.length === times.length) break;
  }
  const { stdout, stderr, success } = await child.output();
  if (!success) throw new Error(new TextDecoder().decode(stderr));
  const offsets = arrived.map((t, i) => t - times[i]);
  const median = [...offsets].sort((a, b) => a - b)[offsets.length >> 1];
  return [
    figures(offsets.map((o) => o - median)),
    new TextDecoder().decode(stdout).trim(),
  ];
}

const path = await Deno.makeTempFile({ suffix: ".mid" });
await Deno.writeFile(path, writeMidiFile(file));
const here = (name: string) => new URL(name, import.meta.url).pathname;
{
  const [figure] = await arrivals(
    (port) => [here("_raw_player.ts"), String(port), path, "yield"],
  );
  rows.push(["Deno.Conn writes after waitUntil(), at the server", figure]);
}
const [figure, said] = await arrivals(
  (port) => [here("../src/cli/main.ts"), "play", `127.0.0.1:${port}`, path],
);
rows.push(["midisock play, at the server", figure]);
rows.push(["  (the player said)", said]);
await Deno.remove(path);

console.log(
  `Playback accuracy: ${EVENTS} messages over ${SECONDS} s, |deviation from schedule|`,
);
for (const [what, figure] of rows) console.log(`${what.padEnd(50)} ${figure}`);
