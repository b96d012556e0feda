// Copyright 2026 the midisock authors. MIT license.
// `midisock discover`: lists the MIDI services that answer on the LAN, over
// mDNS/DNS-SD.

import { parseCommand, UsageError } from "./args.ts";
import { DISCOVER_HELP, PROGRAM } from "./help.ts";
import { type Lines, stdoutStatus } from "./lines.ts";
import { onStop } from "./on_stop.ts";

/**
 * The CLI's Bonjour module, loaded by a specifier that Deno does not follow
 * ahead of time (as the device module is): a user who never advertises,
 * discovers or dials a name never downloads npm @homebridge/ciao and
 * multicast-dns.
 */
const MDNS_MODULE = "./mdns.ts";
export function mdnsModule(): Promise<typeof import("./mdns.ts")> {
  return import(MDNS_MODULE);
}

/** The kinds that --kind takes. */
const KINDS = ["midisock", "apple-midi", "midi2", "http"] as const;

/**
 * Runs `midisock discover` with its arguments (after the command word):
 * listens for `--timeout` seconds (default 3), and prints each service that
 * answers as soon as it is resolved, one a line.
 *
 * @returns The exit status: 0.
 */
export async function discoverCommand(
  args: string[],
  options: { signal?: AbortSignal },
  out: Lines,
): Promise<number> {
  const { values, positionals } = parseCommand("discover", args, {
    options: {
      json: { type: "boolean" },
      timeout: { type: "string" },
      kind: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await out.write(DISCOVER_HELP);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `discover takes no arguments, got ${
        positionals.map((p) => JSON.stringify(p)).join(" ")
      } (see ${PROGRAM} discover --help)`,
    );
  }
  const text = values.timeout ?? "3";
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(seconds > 0) || seconds > 3600) {
    throw new UsageError(
      `Invalid --timeout ${
        JSON.stringify(text)
      }: expected a number of seconds above 0, at most 3600 (see ${PROGRAM} discover --help)`,
    );
  }
  const kinds = values.kind?.map((kind) => {
    const known = KINDS.find((k) => k === kind);
    if (!known) {
      throw new UsageError(
        `Invalid --kind ${JSON.stringify(kind)}: expected ${
          KINDS.join(", ")
        } (see ${PROGRAM} discover --help)`,
      );
    }
    return known;
  });
  const mdns = await mdnsModule();
  const stop = new AbortController();
  const removeStop = onStop(() => stop.abort(), options.signal);
  out.onError = () => stop.abort();
  try {
    await mdns.listServices(
      { timeout: seconds * 1000, kinds, signal: stop.signal },
      (service) => out.write(mdns.serviceLine(service, !!values.json)),
    );
  } finally {
    removeStop();
  }
  return stdoutStatus(out);
}
