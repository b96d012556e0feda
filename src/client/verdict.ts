// Copyright 2026 the midisock authors. MIT license.
// A client's side of the verdict line: a client whose hello line asks for
// it (`verdict=1`) reads the server's reply, `MIDISOCK/1 verdict=ok` or
// `MIDISOCK/1 verdict=refused reason=token`, as its port's `hello`.

import type { SocketPort } from "../port/socket_port.ts";
import {
  HELLO_TIMEOUT,
  HTTP_OPENING,
  TLS_OPENING,
} from "../transport/hello.ts";
import { timeoutSignal, whenAborted } from "../util/abort.ts";
import { RefusedError } from "./refused_error.ts";

// How long a client with a token waits for the server's verdict, in ms: a
// server that has neither answered nor closed the connection by then (an
// older one, which never answers) took it in. It is the servers' default
// helloTimeout, within which any server decides.
const VERDICT_TIMEOUT = HELLO_TIMEOUT;

/**
 * Why a client's server did not take it in, from what it answered: the
 * server turned it away (a {@linkcode RefusedError}), or it speaks TLS or
 * HTTP rather than plain MIDI. Undefined if none of these.
 *
 * @param port A client's port that asked for a verdict.
 * @param address The server's address, for the message.
 * @param tokenSent Whether the client sent a token.
 * @returns The error, or undefined.
 */
export function verdictError(
  port: SocketPort,
  address: string,
  tokenSent: boolean,
): Error | undefined {
  const hello = port.hello;
  if (hello?.verdict === "refused") {
    return new RefusedError(address, hello.reason ?? "unknown", { tokenSent });
  }
  if (hello !== null) return undefined;
  if (port.helloError === TLS_OPENING) {
    return new Deno.errors.InvalidData(
      `Cannot connect to ${address}: the server speaks TLS; connect with tls`,
    );
  }
  if (port.helloError === HTTP_OPENING) {
    return new Deno.errors.InvalidData(
      `Cannot connect to ${address}: the server speaks HTTP, not MIDI`,
    );
  }
  return undefined;
}

/**
 * Waits for the server's verdict on a client's hello line: it resolves once
 * the server took the client in (its reply says so, or MIDI comes first,
 * or it says nothing for VERDICT_TIMEOUT while the connection stays open),
 * and rejects, with the port closed, if the server turned it away, speaks
 * TLS or HTTP, or closed the connection first.
 *
 * @param port The client's port, which reads the reply as its `hello`.
 * @param address The server's address, for errors.
 * @param tokenSent Whether the client sent a token.
 * @param signal A signal to give up: the port is closed, and the promise
 * rejects with its reason.
 */
export async function awaitVerdict(
  port: SocketPort,
  address: string,
  tokenSent: boolean,
  signal?: AbortSignal,
): Promise<void> {
  if (port.hello === undefined) {
    using timeout = timeoutSignal(VERDICT_TIMEOUT);
    const stop = signal
      ? AbortSignal.any([signal, timeout.signal])
      : timeout.signal;
    const known = new Promise<void>((resolve) =>
      port.addEventListener("hello", () => resolve(), { once: true })
    );
    await Promise.race([known, whenAborted(stop)]);
  }
  if (signal?.aborted) {
    await port.close();
    throw signal.reason;
  }
  if (port.hello === undefined) return; // an older server took it in
  const error = verdictError(port, address, tokenSent) ??
    // The end of the stream before a word or a byte of MIDI.
    (port.hello === null && port.closed && port.stats.messages === 0
      ? port.error ??
        new Deno.errors.UnexpectedEof(
          `Cannot connect to ${address}: the server closed the connection before it took the client in`,
        )
      : undefined);
  if (error) {
    await port.close();
    throw error;
  }
}
