// Copyright 2026 the midisock authors. MIT license.
// Private: what a host name means to a listener and to a dialer.

/** An IPv6 address without its brackets: `[::1]` is `::1`. */
export function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/**
 * The addresses of a host, in the order to try them: `localhost` is both
 * loopbacks, 127.0.0.1 then ::1, as on most systems' hosts file; any other
 * host is itself (the system resolves a name).
 */
export function hostsFor(host: string): string[] {
  const bare = unbracket(host);
  if (bare.toLowerCase() === "localhost") return ["127.0.0.1", "::1"];
  return [bare];
}

/**
 * Whether a host, as given to dial or listen, is this machine's loopback:
 * `localhost`, `""` (this machine), 127.0.0.0/8 or ::1 (in brackets or
 * not). A DNS name other than localhost is not, whatever it resolves to.
 */
export function isLoopback(host: string): boolean {
  const bare = unbracket(host).toLowerCase();
  return bare === "" || bare === "localhost" || bare === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}
