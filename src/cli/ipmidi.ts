// Copyright 2026 the midisock authors. MIT license.
// ipMIDI in the CLI: `serve --ipmidi [N] [--ipmidi-interface ADDR]` (one
// more client of the bus) and the address `ipmidi://N` of monitor, send,
// connect and record.

import type { PortServer } from "../bus/port_server.ts";
import { DropEvent } from "../port/events.ts";
import { SocketPort } from "../port/socket_port.ts";
import {
  IPMIDI_MAX_PORT,
  IpMidiTransport,
} from "../transport/ipmidi_transport.ts";
import { exponentialBackoff } from "../client/backoff.ts";
import { sleep, whenAborted } from "../util/abort.ts";
import { oneLine } from "../util/error_text.ts";
import { UsageError } from "./args.ts";
import { PROGRAM } from "./help.ts";

/** An ipMIDI port number from the command line: 1 to 20. */
export function ipMidiNumber(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > IPMIDI_MAX_PORT) {
    throw new UsageError(
      `Invalid ${what} ${
        JSON.stringify(text)
      }: expected an ipMIDI port from 1 to ${IPMIDI_MAX_PORT} (see ${PROGRAM} --help)`,
    );
  }
  return n;
}

/**
 * Checks the rest of an `ipmidi://N` address (`N`, or
 * `N?interface=ADDR`), for dial.ts's scheme.
 */
export function ipMidiAddress(
  rest: string,
): { port: number; interface?: string } {
  const [number, query] = rest.split("?", 2);
  const port = ipMidiNumber(number, "ipMIDI address");
  if (query === undefined) return { port };
  const params = new URLSearchParams(query);
  const iface = params.get("interface");
  const unknown = [...params.keys()].find((k) => k !== "interface");
  if (iface === null || unknown !== undefined) {
    throw new UsageError(
      `Invalid ipMIDI address "ipmidi://${rest}": expected ipmidi://N or ipmidi://N?interface=ADDR`,
    );
  }
  return { port, interface: iface };
}

/**
 * Opens ipMIDI port N as a port (the dial of `ipmidi://N`): its drops are
 * the port's `drop` events.
 */
export async function dialIpMidi(
  options: { port: number; interface?: string },
): Promise<SocketPort> {
  const transport = await open(options);
  const port = new SocketPort(transport, { name: `ipmidi:${options.port}` });
  reportDrops(transport, port);
  return port;
}

/**
 * Joins ipMIDI port N to the bus as one more client, named `ipmidi:N`,
 * which the bus vouches for (no token) and sends no snapshot (the group
 * is other buses and players, not a late joiner). Its drops are its port's
 * `drop` events, which the server passes on.
 */
export async function joinIpMidi(
  server: PortServer,
  options: { port: number; interface?: string },
): Promise<SocketPort> {
  const transport = await open(options);
  const port = server.join(transport, {
    name: `ipmidi:${options.port}`,
    snapshot: false,
  });
  reportDrops(transport, port);
  return port;
}

/**
 * Keeps ipMIDI port N on the bus: joins it (as {@linkcode joinIpMidi}
 * does), and whenever the hub lets it go while the server is open (cut off
 * as a slow client, a failed send), joins it again, after a wait that
 * grows with each attempt in a row (100 ms, doubling, at most 5 s), as a
 * ReconnectingPort dials again. The group has no session to lose: a new
 * socket on it hears what is sent from then on. The server prints its
 * `# disconnect` and `# connect` lines.
 *
 * @returns Once it has joined the first time; `stop()` ends the loop.
 */
export async function keepIpMidi(
  server: PortServer,
  options: { port: number; interface?: string },
): Promise<{ stop(): Promise<void> }> {
  const stopped = new AbortController();
  const backoff = exponentialBackoff();
  let port = await joinIpMidi(server, options);
  const loop = (async () => {
    for (let attempt = 0; !stopped.signal.aborted;) {
      await Promise.race([whenClosed(port), whenAborted(stopped.signal)]);
      if (stopped.signal.aborted || server.closed) return;
      try {
        await sleep(backoff(++attempt), stopped.signal);
        if (server.closed) return;
        port = await joinIpMidi(server, options);
        attempt = 0;
      } catch {
        // Stopped, or the group could not be joined now: try again.
        if (stopped.signal.aborted || server.closed) return;
      }
    }
  })();
  return {
    async stop() {
      stopped.abort();
      await loop;
    },
  };
}

// Resolves once the port is closed.
function whenClosed(port: SocketPort): Promise<void> {
  if (port.closed) return Promise.resolve();
  return new Promise((resolve) =>
    port.addEventListener("close", () => resolve(), { once: true })
  );
}

async function open(
  options: { port: number; interface?: string },
): Promise<IpMidiTransport> {
  try {
    return await IpMidiTransport.open(options);
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof RangeError) {
      throw new UsageError(oneLine(error));
    }
    throw error;
  }
}

function reportDrops(transport: IpMidiTransport, port: SocketPort): void {
  transport.addEventListener("drop", (event) => {
    port.dispatchEvent(
      new DropEvent("drop", {
        port,
        skippedBytes: event.bytes,
        discardedMessages: event.messages,
      }),
    );
  });
}
