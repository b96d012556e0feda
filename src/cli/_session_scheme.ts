// Copyright 2026 the midisock authors. MIT license.
// Private: a scheme of dial.ts's SCHEMES for a transport whose sessions
// this end invites (rtp://, midi2://): a port over one session, and
// `midisock ping` with the session's own round trip.

import type { RoundTrip } from "../client/echo_round_trip.ts";
import { SocketPort } from "../port/socket_port.ts";
import type { Transport } from "../transport/transport.ts";
import type { Link } from "./args.ts";

/** A session that measures its own round trip. */
interface PingingSession extends Transport {
  ping(signal?: AbortSignal): Promise<number>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The scheme `scheme` (`rtp:`), whose `target` checks the rest of an
 * address (a usage error names the fault) and says how to open a session.
 */
export function sessionScheme(
  scheme: string,
  example: string,
  target: (rest: string, link: Link) => {
    name: string;
    open(signal: AbortSignal): Promise<PingingSession>;
  },
) {
  return {
    scheme,
    example,
    parse(rest: string, link: Link) {
      const { name, open } = target(rest, link);
      return {
        name,
        dial: async (signal: AbortSignal) =>
          new SocketPort(await open(signal), { name }),
      };
    },
    /** `midisock ping`: round trips of the session's own exchange. */
    ping(rest: string, link: Link) {
      const { name, open } = target(rest, link);
      return {
        name,
        open: async (signal: AbortSignal): Promise<RoundTrip> => {
          const session = await open(signal);
          return {
            rtt: (stop?: AbortSignal) => session.ping(stop),
            close: () => session[Symbol.asyncDispose](),
          };
        },
      };
    },
  };
}
