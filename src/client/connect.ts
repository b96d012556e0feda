// Copyright 2026 the midisock authors. MIT license.

import { checkClearToken, dial, dialName } from "../transport/dial.ts";
import { PortClosedError } from "../port/errors.ts";
import { awaitVerdict } from "./verdict.ts";
import { ECHO_FIELD } from "../transport/echo.ts";
import {
  ReconnectingPort,
  type ReconnectingPortOptions,
} from "./reconnecting_port.ts";
import {
  checkPortOptions,
  SocketPort,
  type SocketPortOptions,
} from "../port/socket_port.ts";

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
  /**
   * Return a {@linkcode ReconnectingPort}, which outlives its connection:
   * when the connection ends, it dials again with backoff (`true`, or the
   * `backoff` and `maxAttempts` to use). The first connection is tried
   * once, as without `reconnect`: connect() fails at once if the server
   * is not there, with the same error. It turns on
   * `activeSensing` (1000 ms) unless that option is given, so that a
   * server that vanishes is noticed.
   *
   * @default {false}
   */
  reconnect?: boolean | ReconnectOptions;
  /**
   * Send the hello line's token without TLS to a host that is not this
   * machine's loopback (`localhost`, 127.0.0.0/8, ::1). Without it, such a
   * connect() fails with a TypeError before it dials: anyone who can watch
   * the network could read a token sent in clear text.
   *
   * @default {false}
   */
  insecureToken?: boolean;
  /**
   * Ask the server for the echo that `midisock ping` measures round trips
   * with (`echo=1` in the hello line). connect() then waits for the
   * server's verdict, as with a token, and the port's `hello` says
   * `echo: "1"` if the server answers echo requests. A server that never
   * answers the hello line (mido's) leaves `hello` undefined after 2 s.
   *
   * @default {false}
   */
  echo?: boolean;
}

/** How {@linkcode connect} reconnects: the backoff, and how many attempts. */
export type ReconnectOptions = Omit<ReconnectingPortOptions, "name">;

/**
 * Connects to a socket-port server (a {@linkcode PortServer}, or mido's
 * `PortServer` or `mido-serve`) and returns a port that sends to and
 * receives from it.
 *
 * @param host A DNS name, an IPv4 or IPv6 address, or `""` for this machine.
 * @param port The server's TCP port.
 * A client that sends a hello line asks the server for its verdict
 * (`verdict=1`) and reads the reply as its port's `hello`: `{ verdict: "ok"
 * }`, or `{ verdict: "refused", reason: "token" }`. With a token, connect()
 * resolves only once the server has taken the client in (or said nothing
 * for 2 s while it keeps the connection open: an older server, which never
 * answers), and rejects with a {@linkcode RefusedError} that names the
 * reason if it turned the client away. Without a token, it does not wait,
 * and a refusal closes the port, with its `hello` saying why.
 *
 * @param options Port options, and a signal to give up.
 * @returns The connected port, named `host:port`.
 * @throws {Deno.errors.ConnectionRefused} If no one listens there. Like
 * every connection error, its message names `host:port`.
 * @throws {RefusedError} If the server turned a client with a token away.
 * @throws {TypeError} For a token without TLS to a host beyond loopback,
 * unless `insecureToken` is set.
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
export function connect(
  host: string,
  port: number,
  options: ConnectOptions & { reconnect: true | ReconnectOptions },
): Promise<ReconnectingPort>;
/**
 * Connects to a socket-port server, and returns a port for that one
 * connection (without `reconnect`).
 *
 * @param host A DNS name, an IPv4 or IPv6 address, or `""` for this machine.
 * @param port The server's TCP port.
 * @param options Port options, and a signal to give up.
 * @returns The connected port, named `host:port`.
 *
 * @example Connecting
 * ```ts
 * import { connect, PortServer } from "@x/midisock";
 *
 * await using server = new PortServer("127.0.0.1", 0);
 * await using port = await connect("127.0.0.1", server.port);
 * ```
 */
export function connect(
  host: string,
  port: number,
  options?: ConnectOptions,
): Promise<SocketPort>;
export async function connect(
  host: string,
  port: number,
  options: ConnectOptions = {},
): Promise<SocketPort | ReconnectingPort> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(
      `Invalid port for ${
        JSON.stringify(host)
      }: expected an integer in 1..65535, got ${port}`,
    );
  }
  const name = options.name ?? dialName(host, port);
  const { reconnect, signal, tls, insecureToken, echo, ...rest } = options;
  const portOptions = clientOptions({
    ...(reconnect ? { activeSensing: 1000 } : {}),
    ...rest,
    name,
  }, echo);
  checkPortOptions(portOptions); // before anything is opened
  const tokenSent = rest.hello?.token !== undefined;
  if (tokenSent) checkClearToken(host, name, tls, insecureToken);
  if (!reconnect) {
    const conn = await dial(host, port, name, signal, tls);
    const opened = new SocketPort(conn, portOptions);
    if (tokenSent || echo) {
      await awaitVerdict(opened, name, tokenSent, signal);
    }
    return opened;
  }
  // Once a server has answered a hello line, each connection waits for
  // its verdict, so that a refusal is no reconnect.
  let answers = false;
  const reconnecting = new ReconnectingPort(async (stop, hint) => {
    const conn = await dial(host, port, name, stop, tls);
    const opened = new SocketPort(conn, {
      ...portOptions,
      expectSensing: hint.sensing > 0 && (portOptions.activeSensing ?? 0) > 0,
    });
    opened.addEventListener("hello", () => {
      if (opened.hello) answers = true;
    }, { once: true });
    if (tokenSent || answers) await awaitVerdict(opened, name, tokenSent, stop);
    return opened;
  }, { ...(reconnect === true ? {} : reconnect), name });
  return await firstConnection(reconnecting, signal);
}

/**
 * Waits for a reconnecting port's first connection, and returns the port;
 * if it fails, closes the port and throws why (not that the port closed).
 * Not public: connect() and the CLI's schemes (src/cli/dial.ts) use it.
 */
export async function firstConnection(
  reconnecting: ReconnectingPort,
  signal?: AbortSignal,
): Promise<ReconnectingPort> {
  try {
    await reconnecting.ready(signal);
  } catch (error) {
    await reconnecting.close();
    // Why the attempts ran out, rather than that the port is closed.
    throw error instanceof PortClosedError && error.cause ? error.cause : error;
  }
  return reconnecting;
}

/**
 * A client's port options. A client that says hello (a name, a token,
 * active sensing) asks for the server's verdict, and reads the reply line
 * as its port's `hello`.
 */
function clientOptions(
  options: SocketPortOptions,
  echo?: boolean,
): SocketPortOptions {
  const says = options.hello !== undefined ||
    (options.activeSensing ?? 0) > 0 || echo;
  if (!says) return options;
  // The hello option's type names the fields that users give; a hello
  // line takes any (unknown ones are ignored).
  const hello = {
    ...options.hello,
    verdict: "1",
    ...(echo ? { [ECHO_FIELD]: "1" } : {}),
  } as SocketPortOptions["hello"];
  return { ...options, hello, readHello: true };
}
