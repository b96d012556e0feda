// Copyright 2026 the midisock authors. MIT license.
// Private: opens a TCP connection, with errors that name the address. Used
// by connect() and by the CLI's raw `send --hex`.

import { formatAddress } from "./address.ts";

// "" means this machine; a bracketed IPv6 address loses its brackets.
function hostFor(host: string): string {
  if (host === "") return "127.0.0.1";
  if (host.startsWith("[") && host.endsWith("]")) return host.slice(1, -1);
  return host;
}

/** The name of a connection to `host:port`: `[v6]:port` for IPv6. */
export function dialName(host: string, port: number): string {
  return formatAddress(host === "" ? host : hostFor(host), port);
}

/**
 * Connects to `host:port`. A failure keeps its class (ConnectionRefused and
 * the like) and its message names the address: "Cannot connect to NAME: ...".
 */
export async function dial(
  host: string,
  port: number,
  name: string,
  signal?: AbortSignal,
): Promise<Deno.TcpConn> {
  try {
    return await Deno.connect({
      hostname: hostFor(host),
      port,
      transport: "tcp",
      signal,
    } as Deno.ConnectOptions);
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) {
      throw new Deno.errors.ConnectionRefused(
        `Cannot connect to ${name}: connection refused`,
        { cause: error },
      );
    }
    if (error instanceof Error && error.name !== "AbortError") {
      const Ctor = error.constructor as new (
        message: string,
        options: ErrorOptions,
      ) => Error;
      throw new Ctor(`Cannot connect to ${name}: ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
}
