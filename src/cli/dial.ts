// Copyright 2026 the midisock authors. MIT license.
// Where connect, monitor, send, record, play and ping reach a bus: the
// address on the command line, with or without a scheme, as one port.

import { connect, firstConnection } from "../client/connect.ts";
import { dialName } from "../transport/dial.ts";
import { ReconnectingPort } from "../client/reconnecting_port.ts";
import { SocketPort } from "../port/socket_port.ts";
import { EchoRoundTrip, type RoundTrip } from "../client/echo_round_trip.ts";
import { address, type Link, UsageError } from "./args.ts";
import { PROGRAM } from "./help.ts";
import { RTP_SCHEME } from "./rtp.ts";
import { MIDI2_SCHEME } from "./midi2.ts";
import { dialIpMidi, ipMidiAddress } from "./ipmidi.ts";
import { mdnsModule } from "./discover.ts";

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
export const SCHEMES: readonly Scheme[] = [
  RTP_SCHEME,
  MIDI2_SCHEME,
  {
    scheme: "ipmidi:",
    example: "ipmidi://N",
    parse(rest) {
      const options = ipMidiAddress(rest);
      return {
        name: `ipmidi:${options.port}`,
        dial: () => dialIpMidi(options),
      };
    },
  },
  {
    scheme: "mdns:",
    example: "mdns:NAME",
    parse(rest, link) {
      if (rest.trim() === "") {
        throw new UsageError(
          `Invalid address "mdns:": give the name of a service, as ${PROGRAM} discover lists it`,
        );
      }
      return { name: rest, dial: (signal) => dialByName(rest, link, signal) };
    },
  },
];

/** The scheme that dials each kind of service that discovery finds. */
const KIND_SCHEMES: Record<string, string> = {
  "apple-midi": "rtp:",
  "midi2": "midi2:",
};

/**
 * Finds the service named `name` on the LAN (Bonjour), and dials it: a
 * midisock server over TCP (with TLS if it says tls=1), any other kind
 * with its scheme's entry, where this program has one.
 */
async function dialByName(
  name: string,
  link: Link,
  signal: AbortSignal,
): Promise<SocketPort> {
  const mdns = await mdnsModule();
  const found = await mdns.findDialable(name, signal);
  if (found === undefined) {
    throw new Error(
      `Cannot reach ${
        JSON.stringify(name)
      }: it is neither HOST:PORT nor the name of a service that answered on the LAN within ${
        mdns.FIND_TIMEOUT_MS / 1000
      } s (${PROGRAM} discover lists those that do)`,
    );
  }
  const { kind, host, port, txt } = found;
  if (kind === "midisock") {
    const tls = link.tls ?? (txt.tls === "1" ? true : undefined);
    return await connect(host, port, { ...link, tls, signal });
  }
  const scheme = SCHEMES.find((s) => s.scheme === KIND_SCHEMES[kind]);
  if (scheme === undefined) {
    throw new Error(
      `Cannot dial ${
        JSON.stringify(name)
      }: it is ${kind} (${host}:${port}), which this ${PROGRAM} cannot dial`,
    );
  }
  return await scheme.parse(dialName(host, port), link).dial(signal);
}

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
  if (split === undefined && !text.includes(":") && !/^\d+$/.test(text)) {
    // No HOST:PORT: a service's name, found on the LAN.
    return busAddress(`mdns:${text}`, link);
  }
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
      const port = await bus.open({ reconnect: false });
      if (!(port instanceof SocketPort)) {
        await port.close();
        throw new TypeError(`Cannot ping ${bus.name}: not a byte stream`);
      }
      // A server says that it echoes before any MIDI byte, or not at all,
      // and a server without a token takes a client onto the bus before
      // it has read its hello line: a busy bus (or its snapshot) may send
      // MIDI first. Then one echo request asks.
      try {
        return await EchoRoundTrip.start(port);
      } catch (error) {
        await port.close();
        throw error;
      }
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
