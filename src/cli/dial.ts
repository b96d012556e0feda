// Copyright 2026 the midisock authors. MIT license.
// Where connect, monitor, send, record, play and ping reach a bus: the
// address on the command line, with or without a scheme, as one port.

import { connect } from "../client/connect.ts";
import { dialName } from "../transport/dial.ts";
import { ReconnectingPort } from "../client/reconnecting_port.ts";
import { SocketPort } from "../port/socket_port.ts";
import { EchoRoundTrip, type RoundTrip } from "../client/echo_round_trip.ts";
import { address, type Link, UsageError } from "./args.ts";
import { PROGRAM } from "./help.ts";

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
  /**
   * How `midisock ping` measures a round trip to an address of this scheme
   * with the transport's own exchange (RTP-MIDI's CK, Network MIDI 2.0's
   * Ping), if it has one: checks the address as `parse` does, and opens a
   * session. Without it, ping dials the port and asks the server for
   * midisock's echo in its hello line, which only a byte stream with a
   * hello line carries.
   */
  ping?(rest: string, link: Link): {
    name: string;
    open(signal: AbortSignal): Promise<RoundTrip>;
  };
}

/**
 * The schemes that the CLI dials besides plain `HOST:PORT` (mido's TCP
 * protocol, which has no scheme). A transport that can be dialed adds its
 * entry here, and every command that takes an address takes it.
 */
export const SCHEMES: readonly Scheme[] = [];

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
    open: async ({ reconnect }) =>
      reconnect
        ? new ReconnectingPort(dial, { name })
        : await dial(AbortSignal.timeout(DIAL_TIMEOUT_MS)),
  };
}

/**
 * Checks the address `text` as {@linkcode busAddress} does, and says how to
 * measure round trips to it: the scheme's own exchange where it has one
 * (`Scheme.ping`), else midisock's echo over the bus's port, which fails
 * (with nothing sent) if the server does not say that it answers it.
 */
export function busRoundTrip(
  text: string,
  link: Link,
): { name: string; open(signal: AbortSignal): Promise<RoundTrip> } {
  const split = splitScheme(text);
  const scheme = split && SCHEMES.find((s) => s.scheme === split.scheme);
  if (scheme?.ping) return scheme.ping(split!.rest, link);
  const bus = busAddress(text, { ...link, echo: true });
  return {
    name: bus.name,
    open: async () => {
      // A server says that it echoes before any MIDI byte, or not at all,
      // and a server without a token takes a client onto the bus before
      // it has read its hello line: a busy bus may send it MIDI first. A
      // new connection gives the server another chance.
      for (let attempt = 1;; attempt++) {
        const port = await bus.open({ reconnect: false });
        if (!(port instanceof SocketPort)) {
          await port.close();
          throw new TypeError(`Cannot ping ${bus.name}: not a byte stream`);
        }
        const midiFirst = port.hello === null;
        try {
          return new EchoRoundTrip(port);
        } catch (error) {
          await port.close();
          if (!midiFirst || attempt === ECHO_ATTEMPTS) throw error;
        }
      }
    },
  };
}

/** How many connections ping opens to a server that sends MIDI first. */
const ECHO_ATTEMPTS = 8;

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
