// Copyright 2026 the midisock authors. MIT license.
// `midisock serve --midi2 [HOST:]PORT`: a Network MIDI 2.0 host whose
// sessions join the server's bus, its options and credential files, and the
// lines it prints; and the credentials of a `midi2://` address.

import type { PortServer } from "../bus/port_server.ts";
import { RefusedError } from "../client/refused_error.ts";
import { formatAddress, parseAddress } from "../transport/address.ts";
import { dialMidi2 } from "../transport/midi2/dial_midi2.ts";
import { Midi2RefusedError } from "../transport/midi2/midi2_refused_error.ts";
import type { Midi2Session } from "../transport/midi2/midi2_session.ts";
import {
  listenMidi2,
  type Midi2Listener,
  type Midi2ListenerOptions,
} from "../transport/midi2/midi2_listener.ts";
import type { Midi2Event } from "../transport/midi2/events.ts";
import { oneLine } from "../util/error_text.ts";
import { type Link, readSecretFile, readText, UsageError } from "./args.ts";
import { PROGRAM } from "./help.ts";
import { sessionScheme } from "./_session_scheme.ts";

/** Prints an event line: JSON with --json, the # line otherwise. */
export type LineWriter = (
  json: Record<string, unknown>,
  text: string,
) => Promise<void>;

/** The values of serve's --midi2 options. */
export interface Midi2Values {
  midi2?: string;
  "midi2-secret-file"?: string;
  "midi2-users"?: string;
  "midi2-protocol"?: string;
  "midi2-group"?: string;
  "midi2-fec"?: string;
  "midi2-name"?: string;
}

/** serve's options for --midi2, for parseArgs. */
export const MIDI2_SERVE_OPTIONS = {
  midi2: { type: "string" },
  "midi2-secret-file": { type: "string" },
  "midi2-users": { type: "string" },
  "midi2-protocol": { type: "string" },
  "midi2-group": { type: "string" },
  "midi2-fec": { type: "string" },
  "midi2-name": { type: "string" },
} as const;

/**
 * A users file: one `user:password` a line, UTF-8; `#` starts a comment
 * line, and blank lines are skipped. The password is everything after the
 * first colon. A bad line is an error that names the file and the line.
 */
export function parseUsers(text: string, file: string): Map<string, string> {
  const users = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const colon = line.indexOf(":");
    const where = `--midi2-users ${file} line ${i + 1}`;
    if (colon <= 0) {
      throw new Error(`${where}: expected user:password`);
    }
    const user = line.slice(0, colon);
    if (users.has(user)) {
      throw new Error(`${where}: user ${JSON.stringify(user)} again`);
    }
    users.set(user, line.slice(colon + 1));
  });
  if (users.size === 0) {
    throw new Error(`--midi2-users ${file}: no user:password line`);
  }
  return users;
}

function integer(
  option: string,
  text: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) {
    throw new UsageError(
      `Invalid ${option} ${
        JSON.stringify(text)
      }: expected an integer in ${min}..${max} (see ${PROGRAM} serve --help)`,
    );
  }
  return n;
}

/**
 * The listener's options from serve's values, checked (a usage error names
 * the option); undefined without --midi2.
 */
export async function midi2Options(
  values: Midi2Values,
  defaultHost: string,
): Promise<Midi2ListenerOptions | undefined> {
  if (values.midi2 === undefined) {
    for (const flag of Object.keys(MIDI2_SERVE_OPTIONS)) {
      if (flag !== "midi2" && values[flag as keyof Midi2Values] !== undefined) {
        throw new UsageError(
          `--${flag} needs --midi2 (see ${PROGRAM} serve --help)`,
        );
      }
    }
    return undefined;
  }
  let host: string, port: number;
  try {
    ({ host, port } = parseAddress(values.midi2, { defaultHost }));
  } catch (error) {
    throw new UsageError(`Invalid --midi2 address: ${oneLine(error)}`);
  }
  const secretFile = values["midi2-secret-file"];
  const usersFile = values["midi2-users"];
  const protocol = integer("--midi2-protocol", values["midi2-protocol"], 1, 2);
  return {
    hostname: host,
    port,
    name: values["midi2-name"],
    secret: secretFile === undefined
      ? undefined
      : await readSecretFile("--midi2-secret-file", secretFile),
    users: usersFile === undefined
      ? undefined
      : parseUsers(await readText("--midi2-users", usersFile), usersFile),
    protocol: protocol as 1 | 2 | undefined,
    group: integer("--midi2-group", values["midi2-group"], 0, 15),
    fec: integer("--midi2-fec", values["midi2-fec"], 0, 10),
  };
}

/**
 * Starts the Network MIDI 2.0 host: each session it establishes joins
 * `server` through admit() (the allow-list and maxClients apply), and its
 * events are printed with `line`: `# midi2 session NAME`, `# midi2 end NAME
 * REASON`, `# midi2 refused ADDRESS REASON`, and `# midi2 drop NAME count=N
 * REASON` (at most ten drop lines a second; the rest are summed into the
 * next).
 */
export async function startMidi2(
  server: PortServer,
  options: Midi2ListenerOptions,
  line: LineWriter,
): Promise<Midi2Listener> {
  const listener = await listenMidi2(
    options,
    (session) => server.admit(session, { name: session.name }),
  );
  const print = (
    kind: string,
    event: { name: string; reason: string; code?: number; count: number },
    extra = "",
  ) =>
    line(
      {
        event: "midi2",
        kind,
        name: event.name,
        reason: event.reason || undefined,
        code: event.code,
        count: kind === "drop" ? event.count : undefined,
      },
      `# midi2 ${kind} ${event.name}${extra}${
        event.reason ? ` ${event.reason}` : ""
      }`,
    );
  listener.addEventListener("session", (event) => print("session", event));
  listener.addEventListener("end", (event) => print("end", event));
  listener.addEventListener("refused", (event) => print("refused", event));
  // Drops: every one counted, at most ten lines a second.
  let lines = 0;
  let held = 0;
  let window = performance.now();
  listener.addEventListener("drop", (event) => {
    const now = performance.now();
    if (now - window >= 1000) {
      window = now;
      lines = 0;
    }
    if (lines >= 10) {
      held += event.count;
      return;
    }
    lines++;
    const count = event.count + held;
    held = 0;
    print("drop", { ...fields(event), count }, ` count=${count}`);
  });
  return listener;
}

function fields(event: Midi2Event) {
  const { name, reason, code, count } = event;
  return { name, reason, code, count };
}

/**
 * The closing line of the host: its counters, and its sessions' drops that
 * the rate limit held back.
 */
export function midi2Summary(listener: Midi2Listener): {
  json: Record<string, unknown>;
  text: string;
} {
  const s = listener.stats;
  return {
    json: { event: "midi2", kind: "stats", ...s },
    text:
      `# midi2 stats datagrams=${s.datagrams} malformed=${s.malformed} sessions=${s.sessions} refused=${s.refused} nosession=${s.noSession} naks=${s.naksSent}`,
  };
}

/**
 * A Network MIDI 2.0 host's refusal, as the RefusedError that a
 * ReconnectingPort stops at (unless the host is only full).
 */
class Midi2Refused extends RefusedError {
  #final: boolean;
  constructor(address: string, reason: string, final: boolean) {
    super(address, reason);
    this.#final = final;
  }
  override get final(): boolean {
    return this.#final;
  }
}

/**
 * Checks the rest of a `midi2://HOST:PORT` address with the command's link
 * (`--name` is this end's endpoint name; `--secret-file`, or `--user` and
 * `--password-file`, its credentials), and says how to open a session to it:
 * `midisock ping midi2://` measures with the session's ping(). The
 * specification has no default port (a host says its own, in its settings
 * or over mDNS), so the port is required. A refusal is a RefusedError, final
 * unless the host was full.
 *
 * @throws {UsageError} Naming the fault.
 */
export function midi2Target(rest: string, link: Link): {
  name: string;
  open(signal: AbortSignal): Promise<Midi2Session>;
} {
  const text = `midi2://${rest}`;
  if (link.tls) {
    throw new UsageError(
      `midi2:// has no TLS: drop --tls and --ca (see ${PROGRAM} --help)`,
    );
  }
  if (link.hello.token !== undefined) {
    throw new UsageError(
      `midi2:// has no token: give --secret-file, or --user and --password-file, for a host that asks; drop --token-file and MIDISOCK_TOKEN (see ${PROGRAM} --help)`,
    );
  }
  let host: string, port: number;
  try {
    ({ host, port } = parseAddress(rest.replace(/\/$/, "")));
  } catch (error) {
    throw new UsageError(
      `Invalid address ${JSON.stringify(text)}: ${
        oneLine(error).replace(/^Invalid address "[^"]*": /, "")
      }; give midi2://HOST:PORT, with the host's UDP port`,
    );
  }
  if (port === 0) {
    throw new UsageError(
      `Invalid address ${JSON.stringify(text)}: cannot connect to port 0`,
    );
  }
  const where = formatAddress(host, port);
  const credentials = link.midi2 ?? {};
  return {
    name: `midi2://${where}`,
    async open(signal) {
      try {
        return await dialMidi2(host, port, {
          ...credentials,
          name: link.hello.name,
          signal,
        });
      } catch (error) {
        if (!(error instanceof Midi2RefusedError)) throw error;
        throw new Midi2Refused(where, error.reason, !error.retryable);
      }
    },
  };
}

/**
 * `midi2://HOST:PORT`: a Network MIDI 2.0 session that this end invites, as
 * a port (an entry of dial.ts's SCHEMES).
 */
export const MIDI2_SCHEME = sessionScheme(
  "midi2:",
  "midi2://HOST:PORT",
  midi2Target,
);
