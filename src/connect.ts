// Copyright 2026 the midisock authors. MIT license.

import { dial, dialName } from "./_dial.ts";
import {
  checkPortOptions,
  SocketPort,
  type SocketPortOptions,
} from "./socket_port.ts";

/** Options for {@linkcode connect}. */
export interface ConnectOptions extends SocketPortOptions {
  /** A signal to give up connecting. */
  signal?: AbortSignal;
  /**
   * Connect with TLS: `true` trusts the system's certificate authorities,
   * and `{ caCerts }` the given ones (PEM text), such as a private CA. The
   * server's certificate must carry the host name given to connect().
   * A certificate that is not trusted fails connect() with an error that
   * names the address.
   *
   * @default {false}
   */
  tls?: boolean | { caCerts?: string[] };
}

/**
 * Connects to a socket-port server (a {@linkcode PortServer}, or mido's
 * `PortServer` or `mido-serve`) and returns a port that sends to and
 * receives from it.
 *
 * @param host A DNS name, an IPv4 or IPv6 address, or `""` for this machine.
 * @param port The server's TCP port.
 * @param options Port options, and a signal to give up.
 * @returns The connected port, named `host:port`.
 * @throws {Deno.errors.ConnectionRefused} If no one listens there. Like
 * every connection error, its message names `host:port`.
 *
 * @example Connecting and sending
 * ```ts
 * import { connect, message, PortServer } from "@x/midisock";
 *
 * await using server = new PortServer("localhost", 0);
 * await using output = await connect("localhost", server.port);
 * await output.send(message("note_on", { note: 60 }));
 * ```
 *
 * @example A refused connection names the address
 * ```ts
 * import { connect, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * const server = new PortServer("127.0.0.1", 0);
 * const port = server.port;
 * await server.close();
 * await assert.rejects(connect("127.0.0.1", port), {
 *   name: "ConnectionRefused",
 *   message: `Cannot connect to 127.0.0.1:${port}: connection refused`,
 * });
 * ```
 */
export async function connect(
  host: string,
  port: number,
  options: ConnectOptions = {},
): Promise<SocketPort> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(
      `Invalid port for ${
        JSON.stringify(host)
      }: expected an integer in 1..65535, got ${port}`,
    );
  }
  checkPortOptions(options); // before anything is opened
  const name = options.name ?? dialName(host, port);
  const conn = await dial(host, port, name, options.signal, options.tls);
  return new SocketPort(conn, { ...options, name });
}
