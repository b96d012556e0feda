// Copyright 2026 the midisock authors. MIT license.
// Private: opens a TCP connection, with errors that name the address. Used
// by connect() and by the CLI's raw `send --hex`.

import { timeoutSignal } from "../util/abort.ts";
import { hostsFor, isLoopback, unbracket } from "./hosts.ts";
import { formatAddress } from "./address.ts";

/** How long connect() waits for a TLS handshake, in milliseconds. */
export const TLS_TIMEOUT = 10_000;

/** The name of a connection to `host:port`: `[v6]:port` for IPv6. */
export function dialName(host: string, port: number): string {
  return formatAddress(unbracket(host), port);
}

/** The error, with a message that names the address it was for. */
function named(error: unknown, name: string): unknown {
  // A signal's reason (AbortError, TimeoutError) stays as it is.
  if (!(error instanceof Error) || error instanceof DOMException) return error;
  if (error instanceof Deno.errors.ConnectionRefused) {
    return new Deno.errors.ConnectionRefused(
      `Cannot connect to ${name}: connection refused`,
      { cause: error },
    );
  }
  const Ctor = error.constructor as new (
    message: string,
    options: ErrorOptions,
  ) => Error;
  return new Ctor(`Cannot connect to ${name}: ${error.message}`, {
    cause: error,
  });
}

/** TLS for a connection: `true`, or the CA certificates to trust (PEM). */
export type DialTls = boolean | { caCerts?: string[] };

/**
 * The rule for a token in clear text: without TLS, a client sends a token
 * only to a loopback host (see isLoopback), or when told to (`insecure`).
 * Throws a TypeError that names the address otherwise, before anything is
 * dialed.
 */
export function checkClearToken(
  host: string,
  name: string,
  tls: DialTls | undefined,
  insecure: boolean | undefined,
): void {
  if (tls || insecure || isLoopback(host)) return;
  throw new TypeError(
    `Cannot send a token to ${name} in clear text: connect with tls, or set insecureToken to send it anyway`,
  );
}

/**
 * Whether a TLS handshake failed in a way that says the peer does not
 * speak TLS: it closed or reset the connection, or sent bytes that are no
 * TLS record.
 */
function notTls(error: unknown): boolean {
  return error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe ||
    (error instanceof Deno.errors.InvalidData &&
      /corrupt message|InvalidContentType/i.test(error.message));
}

/**
 * Connects to `host:port`, trying each address of the host in turn
 * (`localhost` is 127.0.0.1, then ::1; `""` is this machine) until one
 * answers. A failure keeps the class of the last address's error
 * (ConnectionRefused and the like), and its message names the address:
 * "Cannot connect to NAME: ...".
 *
 * With `tls`, it connects with TLS (to the name as given, which the
 * server's certificate must carry) and finishes the handshake, so that an
 * untrusted certificate fails here, named, rather than at the first read.
 */
export async function dial(
  host: string,
  port: number,
  name: string,
  signal?: AbortSignal,
  tls?: DialTls,
): Promise<Deno.TcpConn | Deno.TlsConn> {
  if (tls) {
    signal?.throwIfAborted();
    const caCerts = tls === true ? undefined : tls.caCerts;
    // A peer that does not speak TLS never answers the handshake: give up
    // at TLS_TIMEOUT, or when the caller's signal aborts.
    using timeout = timeoutSignal(TLS_TIMEOUT);
    const deadline = signal
      ? AbortSignal.any([signal, timeout.signal])
      : timeout.signal;
    let conn: Deno.TlsConn | undefined;
    try {
      conn = await Deno.connectTls({
        hostname: host === "" ? "127.0.0.1" : unbracket(host),
        port,
        caCerts,
      });
      const open = conn;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          open.close(); // ends the handshake in flight
          reject(
            signal?.aborted ? signal.reason : new Deno.errors.TimedOut(
              `no TLS handshake within ${TLS_TIMEOUT} ms (does the server speak TLS?)`,
            ),
          );
        };
        if (deadline.aborted) return onAbort();
        deadline.addEventListener("abort", onAbort, { once: true });
        open.handshake().then(() => resolve(), reject).finally(() =>
          deadline.removeEventListener("abort", onAbort)
        );
      });
      return open;
    } catch (error) {
      try {
        conn?.close();
      } catch {
        // Already closed.
      }
      if (notTls(error)) {
        const Ctor = (error as Error).constructor as ErrorConstructor;
        throw new Ctor(
          `Cannot connect to ${name}: the TLS handshake failed (does the server speak TLS?): ${
            (error as Error).message
          }`,
          { cause: error },
        );
      }
      throw named(error, name);
    }
  }
  const hosts = host === "" ? ["127.0.0.1"] : hostsFor(host);
  let failure: unknown;
  for (const hostname of hosts) {
    try {
      return await Deno.connect({ hostname, port, transport: "tcp", signal });
    } catch (error) {
      if (signal?.aborted) throw error;
      failure = error;
    }
  }
  throw named(failure, name);
}
