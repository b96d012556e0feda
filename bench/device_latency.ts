// Copyright 2026 the midisock authors. MIT license.
/**
 * Latency from a MIDI device to a MIDI device through a server on loopback,
 * as a user deploys it: `midisock serve --relay`, `midisock connect --in
 * KEYS` and `midisock connect --out SYNTH`, each a process of its own, on a
 * JACK server (dummy driver, real-time, 48 kHz, 256 frames a period) that this script
 * starts and stops. This process plays a virtual output ("keys"), which
 * stands in for a keyboard, and listens on a virtual input ("synth"). Next
 * to it, the same path with JACK alone: the keys connected straight to the
 * synth, which is the floor that JACK's periods set.
 *
 * ```sh
 * deno task build:jack
 * deno run -A bench/device_latency.ts            # 1000 notes a path
 * deno run -A bench/device_latency.ts --quick    # 200
 * ```
 *
 * Each note is sent once the one before it has arrived (or after 2 s, when
 * it counts as lost), so the figures are one message's trip, not a queue's.
 *
 * @module
 */

import { message } from "../mod.ts";
import { type DevicePort, openInput, openOutput } from "../src/device/mod.ts";
import { Child } from "../tests/_child.ts";
import {
  Jack,
  jackConnect,
  midisockWithDevices,
  waitForPort,
} from "../tests/_jack.ts";

const NOTES = Deno.args.includes("--quick") ? 200 : 1000;
const WARMUP = 20;
const LOST_AFTER_MS = 2000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Sends notes one at a time and times each trip, in milliseconds. */
async function trips(keys: DevicePort, synth: DevicePort) {
  const times: number[] = [];
  let lost = 0;
  for (let i = 0; i < WARMUP + NOTES; i++) {
    const note = i % 128;
    const start = performance.now();
    await keys.send(message("note_on", { note, velocity: 1 + (i % 127) }));
    try {
      // Skip anything else: each trip waits for its own note.
      const signal = AbortSignal.timeout(LOST_AFTER_MS);
      while (true) {
        const msg = await synth.receive({ signal });
        if (msg.type === "note_on" && msg.note === note) break;
      }
      if (i >= WARMUP) times.push(performance.now() - start);
    } catch {
      if (i >= WARMUP) lost++;
    }
  }
  times.sort((a, b) => a - b);
  return {
    p50: percentile(times, 0.5),
    p99: percentile(times, 0.99),
    max: times.at(-1) ?? NaN,
    lost,
  };
}

function line(name: string, r: Awaited<ReturnType<typeof trips>>): string {
  return `${name.padEnd(44)} p50 ${r.p50.toFixed(2)} ms  p99 ${
    r.p99.toFixed(2)
  } ms  max ${r.max.toFixed(2)} ms  lost ${r.lost}/${NOTES}`;
}

await using _jack = await Jack.start();
await using keys = await openOutput("keys", { virtual: true });
await using synth = await openInput("synth", { virtual: true });
const keysPort = await waitForPort("keys");
const synthPort = await waitForPort("synth");

// JACK alone: the keys straight into the synth.
await jackConnect(keysPort, synthPort);
const direct = await trips(keys, synth);
{
  await using disconnect = new Child("jack_disconnect", [keysPort, synthPort]);
  await disconnect.result();
}

// Through midisock: keys -> connect --in -> serve --relay -> connect --out
// -> synth.
await using serve = midisockWithDevices([
  "serve",
  "--relay",
  "--quiet",
  "127.0.0.1:0",
]);
const [, port] = await serve.waitForMatch(
  "stderr",
  /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
);
const address = `127.0.0.1:${port}`;
await using player = midisockWithDevices([
  "connect",
  address,
  "--in",
  keysPort,
]);
await player.waitForMatch("stderr", /^midisock: playing /);
await using listener = midisockWithDevices([
  "connect",
  address,
  "--out",
  synthPort,
]);
await listener.waitForMatch("stderr", /^midisock: playing /);
const bridged = await trips(keys, synth);

console.log(
  `Device to device, ${NOTES} notes each, one at a time (JACK dummy driver, 48 kHz, 256 frames a period = 5.33 ms):`,
);
console.log(line("JACK alone (keys -> synth)", direct));
console.log(
  line("midisock (connect --in, serve --relay, connect --out)", bridged),
);
for (const child of [listener, player, serve]) child.kill("SIGINT");
for (const child of [listener, player, serve]) await child.result();
