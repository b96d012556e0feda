// Copyright 2026 the midisock authors. MIT license.
// Where connect, monitor, send, record, play and ping reach a bus: the
// address on the command line, with or without a scheme, as one port.

import { connect, firstConnection } from "../client/connect.ts";
import { dialName } from "../transport/dial.ts";
import { ReconnectingPort } from "../client/reconnecting_port.ts";
import type { SocketPort } from "../port/socket_port.ts";
import { address, type Link, UsageError } from "./args.ts";
import { PROGRAM } from "./help.ts";
import { RTP_SCHEME } from "./rtp.ts";

/** The port a command talks to the bus through. */
export type BusPort = SocketPort | ReconnectingPort;

/**
 * A way to reach a bus other than mido's TCP protocol, by the scheme of its
 * address (`rtp://HOST:PORT`, ...). `parse` checks the rest of the address
 * (a usage error names what is wrong) and returns its name and how to open
 * one connection; reconnecting around it is done here, once, for all.
 */
export interface Scheme {
  /** The scheme, with its colon: `rtp:`. */
  readonly scheme: string;
  /** What an address of this scheme looks like, for errors. */
  readonly example: string;
  /** Checks the address (after the scheme and `//`) and says how to dial it. */
  parse(rest: string, link: Link): {
    name: string;
    dial(signal: AbortSignal): Promise<SocketPort>;
  };
}

/**
 * The schemes that the CLI dials besides plain `HOST:PORT` (mido's TCP
 * protocol, which has no scheme). A transport that can be dialed adds its
 * entry here, and every command that takes an address takes it.
 */
export const SCHEMES: readonly Scheme[] = [RTP_SCHEME];

/**
 * Splits `scheme://rest`, or `scheme:rest` for a scheme in {@linkcode SCHEMES}
 * (`mdns:NAME`); undefined for an address with no scheme, such as
 * `localhost:8080` or `[::1]:80`.
 */
export function splitScheme(
  text: string,
): { scheme: string; rest: string } | undefined {
  const match = /^([a-z][a-z0-9+.-]*:)(\/\/)?(.*)$/i.exec(text);
  if (!match) return undefined;
  const scheme = match[1].toLowerCase();
  if (match[2] === undefined && !SCHEMES.some((s) => s.scheme === scheme)) {
    return undefined;
  }
  return { scheme, rest: match[3] };
}

/** An address from the command line, checked, before anything is opened. */
export interface BusAddress {
  /** The name of the bus's port: `host:port`, or the scheme's name. */
  readonly name: string;
  /**
   * Opens the port to the bus: with `reconnect`, a port that dials again
   * with backoff when the connection ends.
   */
  open(options: { reconnect: boolean }): Promise<BusPort>;
}

/**
 * Checks the address `text` as the command line gave it (a usage error says
 * what is wrong), and says how to open a port to it.
 */
export function busAddress(text: string, link: Link): BusAddress {
  const split = splitScheme(text);
  if (split === undefined) {
    const { host, port } = address(text, true);
    return {
      name: dialName(host, port),
      open: async ({ reconnect }) =>
        reconnect
          ? await connect(host, port, { ...link, reconnect: true })
          : await connect(host, port, link),
    };
  }
  const scheme = SCHEMES.find((s) => s.scheme === split.scheme);
  if (scheme === undefined) {
    const known = SCHEMES.map((s) => s.example);
    throw new UsageError(
      `Invalid address ${JSON.stringify(text)}: unknown scheme ${
        JSON.stringify(split.scheme)
      }; give HOST:PORT${
        known.length ? ` or ${known.join(", ")}` : ""
      } (see ${PROGRAM} --help)`,
    );
  }
  const { name, dial } = scheme.parse(split.rest, link);
  return {
    name,
    open: async ({ reconnect }) => {
      if (!reconnect) return await dial(AbortSignal.timeout(DIAL_TIMEOUT_MS));
      // As connect() does: the first connection is made before the port is
      // handed out, so that nothing sent at once is dropped as sent while
      // disconnected, and an address that does not answer fails at once.
      return await firstConnection(new ReconnectingPort(dial, { name }));
    },
  };
}

/** How long a port with no reconnect waits for its first connection. */
const DIAL_TIMEOUT_MS = 10_000;

/** {@linkcode busAddress}, then its port opened at once. */
export function dialBus(
  text: string,
  link: Link,
  options: { reconnect: boolean },
): Promise<BusPort> {
  return busAddress(text, link).open(options);
}
