// Copyright 2026 the midisock authors. MIT license.

/** A host and a TCP port, as {@linkcode parseAddress} returns them. */
export interface Address {
  /** A DNS name, an IPv4 or IPv6 address (no brackets), or `""` for every interface (only from `defaultHost: ""`). */
  host: string;
  /** The TCP port, 0..65535. 0 asks the system for a free port. */
  port: number;
}

/** Options for {@linkcode parseAddress}. */
export interface ParseAddressOptions {
  /**
   * The host to use when the text has none (`":8080"` or `"8080"`). It is
   * `localhost` unless you say otherwise: an address with no host never
   * means every interface by accident. Give `""` for every interface.
   *
   * @default {"localhost"}
   */
  defaultHost?: string;
}

/**
 * Parses `HOST:PORT`, `[IPV6]:PORT`, `:PORT` or `PORT`. The port must be an
 * integer in 0..65535. With no host (`:PORT` or `PORT`) the host is
 * `localhost`, as in the CLI: to listen on every interface, say so, with
 * `0.0.0.0:PORT`, `[::]:PORT` or the `defaultHost` option.
 *
 * @param text The address.
 * @param options The host to use when the text has none.
 * @returns The host and port.
 * @throws {SyntaxError} For a bad address. The message quotes it and says
 * what is wrong.
 *
 * @example Parsing addresses
 * ```ts
 * import { parseAddress } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseAddress("localhost:8080"), { host: "localhost", port: 8080 });
 * assert.deepEqual(parseAddress("[::1]:9000"), { host: "::1", port: 9000 });
 * assert.deepEqual(parseAddress(":8080"), { host: "localhost", port: 8080 });
 * assert.throws(() => parseAddress("host:"), SyntaxError);
 * ```
 */
export function parseAddress(
  text: string,
  options: ParseAddressOptions = {},
): Address {
  const bad = (why: string): never => {
    throw new SyntaxError(`Invalid address ${JSON.stringify(text)}: ${why}`);
  };
  if (typeof text !== "string") bad("expected a string such as localhost:8080");
  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) bad("missing ] after the IPv6 address");
    host = text.slice(1, close);
    if (!host.includes(":")) bad("only IPv6 addresses go in brackets");
    const rest = text.slice(close + 1);
    if (!rest.startsWith(":")) bad("expected :PORT after the ]");
    portText = rest.slice(1);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) {
      if (/^\d+$/.test(text)) {
        host = options.defaultHost ?? "localhost";
        portText = text;
      } else {
        return bad("expected HOST:PORT, such as localhost:8080");
      }
    } else {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
      if (host.includes(":")) {
        bad("put an IPv6 address in brackets, such as [::1]:8080");
      }
      if (host === "") host = options.defaultHost ?? "localhost";
    }
  }
  if (portText === "") bad("missing port after the colon");
  if (!/^\d+$/.test(portText)) {
    bad(`port ${JSON.stringify(portText)} is not an integer`);
  }
  const port = Number(portText);
  if (port > 65535) bad(`port must be in 0..65535, got ${portText}`);
  if (/\s/.test(host)) bad("the host has white space");
  return { host, port };
}

/**
 * Formats a host and port as a port name: `host:port`, or `[v6]:port` for an
 * IPv6 address. (mido writes them with no colon at all.)
 *
 * @param host A host name or address, or `""`.
 * @param port A TCP port.
 * @returns The name.
 *
 * @example Formatting addresses
 * ```ts
 * import { formatAddress } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatAddress("127.0.0.1", 8080), "127.0.0.1:8080");
 * assert.equal(formatAddress("::1", 8080), "[::1]:8080");
 * ```
 */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** `host:port` of an address; an IPv4 peer of a dual-stack socket as IPv4. */
export function addressName(addr: Deno.Addr | undefined): string | undefined {
  if (addr?.transport !== "tcp" && addr?.transport !== "udp") return undefined;
  const host = addr.hostname.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
  return formatAddress(host, addr.port);
}
