// Copyright 2026 the midisock authors. MIT license.
// `midisock ping`: the round trip to a bus, and its jitter.

import { waitUntil } from "../util/wait_until.ts";
import { timeoutSignal } from "../util/abort.ts";
import {
  clientLink,
  numberOption,
  onePositional,
  parseCommand,
  TLS_CLIENT_OPTIONS,
} from "./args.ts";
import { busRoundTrip } from "./dial.ts";
import { PING_HELP } from "./help.ts";
import { type Lines, stdoutStatus } from "./lines.ts";
import { onStop } from "./on_stop.ts";

/**
 * Runs `midisock ping ADDR` with its arguments (after the command word):
 * `--count` round trips, one each `--interval` ms (each to its own time
 * from the start, so waits never add up), each lost that has no answer
 * within `--timeout` ms; then the last line, `rtt p50=… ms p99=… ms max=…
 * ms jitter=… ms lost=N/M`. Ctrl-C or SIGTERM ends it early, with that
 * line for the samples so far.
 *
 * @returns The exit status: 0, or 1 if every sample was lost.
 */
export async function ping(
  args: string[],
  options: { signal?: AbortSignal },
  out: Lines,
): Promise<number> {
  const { values, positionals } = parseCommand("ping", args, {
    options: {
      count: { type: "string", short: "c" },
      interval: { type: "string", short: "i" },
      timeout: { type: "string", short: "W" },
      verbose: { type: "boolean", short: "v" },
      ...TLS_CLIENT_OPTIONS,
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await out.write(PING_HELP);
    return 0;
  }
  const where = onePositional("ping", positionals);
  const count = numberOption("ping", "count", values.count, 10, {
    min: 1,
    max: 1_000_000,
    integer: true,
  });
  const interval = numberOption("ping", "interval", values.interval, 200, {
    min: 0,
    max: 3_600_000,
  });
  const timeout = numberOption("ping", "timeout", values.timeout, 1000, {
    min: 0,
    max: 3_600_000,
    aboveMin: true,
  });
  const target = busRoundTrip(where, await clientLink(values));
  const stop = new AbortController();
  const removeStop = onStop(() => stop.abort(), options.signal);
  const samples: number[] = [];
  let sent = 0;
  try {
    using opening = timeoutSignal(10_000);
    const trips = await target.open(
      AbortSignal.any([stop.signal, opening.signal]),
    );
    try {
      const start = performance.now();
      for (let seq = 0; seq < count && !stop.signal.aborted; seq++) {
        await waitUntil(start + seq * interval, stop.signal);
        if (stop.signal.aborted) break;
        sent++;
        using wait = timeoutSignal(timeout);
        let line: string;
        try {
          const ms = await trips.rtt(
            AbortSignal.any([stop.signal, wait.signal]),
          );
          samples.push(ms);
          line = `seq=${seq} rtt=${ms.toFixed(3)} ms`;
        } catch (error) {
          if (stop.signal.aborted) {
            sent--; // cut short by Ctrl-C: no sample
            break;
          }
          if (!wait.signal.aborted) throw error; // the connection ended
          line = `seq=${seq} lost (no answer within ${timeout} ms)`;
        }
        if (values.verbose) await out.write(line);
      }
    } finally {
      await trips.close();
    }
  } finally {
    removeStop();
  }
  await out.write(summary(samples, sent));
  if (sent > 0 && samples.length === 0) {
    throw new Error(
      `Cannot ping ${target.name}: none of ${sent} round trips came back within ${timeout} ms`,
    );
  }
  return stdoutStatus(out);
}

/**
 * The last line: `rtt p50=… ms p99=… ms max=… ms jitter=… ms lost=N/M`.
 * p50 and p99 are nearest-rank percentiles of the round trips that came
 * back; jitter is the mean of the differences between one round trip and
 * the next (RFC 3550's idea, without its smoothing).
 */
export function summary(samples: readonly number[], sent: number): string {
  const lost = `lost=${sent - samples.length}/${sent}`;
  if (samples.length === 0) {
    return `rtt p50=- ms p99=- ms max=- ms jitter=- ms ${lost}`;
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  let jitter = 0;
  for (let i = 1; i < samples.length; i++) {
    jitter += Math.abs(samples[i] - samples[i - 1]);
  }
  if (samples.length > 1) jitter /= samples.length - 1;
  const ms = (value: number) => value.toFixed(3);
  return `rtt p50=${ms(rank(0.5))} ms p99=${ms(rank(0.99))} ms max=${
    ms(sorted[sorted.length - 1])
  } ms jitter=${ms(jitter)} ms ${lost}`;
}
