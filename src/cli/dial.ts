// Copyright 2026 the midisock authors. MIT license.
// Where connect, monitor, send, record, play and ping reach a bus: the
// address on the command line, with or without a scheme, as one port.

import { connect } from "../client/connect.ts";
import { dialName } from "../transport/dial.ts";
import { ReconnectingPort } from "../client/reconnecting_port.ts";
import { SocketPort } from "../port/socket_port.ts";
import { formatAddress, parseAddress } from "../transport/address.ts";
import { dialMidi2 } from "../transport/midi2/dial_midi2.ts";
import { Midi2RefusedError } from "../transport/midi2/midi2_refused_error.ts";
import { RefusedError } from "../client/refused_error.ts";
import { oneLine } from "../util/error_text.ts";
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
}

/**
 * The schemes that the CLI dials besides plain `HOST:PORT` (mido's TCP
 * protocol, which has no scheme). A transport that can be dialed adds its
 * entry here, and every command that takes an address takes it.
 */
export const SCHEMES: readonly Scheme[] = [
  {
    // Network MIDI 2.0: midi2://HOST:PORT. The specification has no default
    // port (a host says its own, in its settings or over mDNS), so the port
    // is required.
    scheme: "midi2:",
    example: "midi2://HOST:PORT",
    parse(rest, link) {
      let host: string, port: number;
      try {
        ({ host, port } = parseAddress(rest));
      } catch (error) {
        throw new UsageError(
          `Invalid address ${JSON.stringify(`midi2://${rest}`)}: ${
            oneLine(error).replace(/^Invalid address "[^"]*": /, "")
          }; give midi2://HOST:PORT, with the host's UDP port`,
        );
      }
      if (port === 0) {
        throw new UsageError(
          `Invalid address ${
            JSON.stringify(`midi2://${rest}`)
          }: port 0 is no host's port`,
        );
      }
      const name = `midi2://${formatAddress(host, port)}`;
      const credentials = link.midi2 ?? {};
      return {
        name,
        dial: async (signal) => {
          try {
            const session = await dialMidi2(host, port, {
              ...credentials,
              name: link.hello.name,
              signal,
            });
            return new SocketPort(session, { name });
          } catch (error) {
            if (!(error instanceof Midi2RefusedError)) throw error;
            // A full host is tried again; a wrong secret, or a host that
            // turns this client away, is not.
            throw new Midi2Refused(
              formatAddress(host, port),
              error.reason,
              !error.retryable,
            );
          }
        },
      };
    },
  },
];

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
