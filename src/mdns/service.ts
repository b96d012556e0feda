// Copyright 2026 the midisock authors. MIT license.
// The kinds of service that midisock advertises and discovers over
// DNS-SD, and the records that say what each one offers.

/**
 * A kind of MIDI service on the LAN, by its DNS-SD service type:
 * - `midisock`: `_midisock._tcp`, a midisock server (mido's TCP protocol);
 * - `apple-midi`: `_apple-midi._udp`, RTP-MIDI (a Mac's Network MIDI,
 *   rtpMIDI, rtpmidid);
 * - `midi2`: `_midi2._udp`, Network MIDI 2.0 (UMP over UDP);
 * - `http`: `_http._tcp`, a web page (midisock's browser page).
 */
export type ServiceKind = "midisock" | "apple-midi" | "midi2" | "http";

/** The DNS-SD service type of each kind: name and protocol. */
export const SERVICE_TYPES: Readonly<
  Record<
    ServiceKind,
    { readonly type: string; readonly protocol: "tcp" | "udp" }
  >
> = Object.freeze({
  "midisock": { type: "midisock", protocol: "tcp" },
  "apple-midi": { type: "apple-midi", protocol: "udp" },
  "midi2": { type: "midi2", protocol: "udp" },
  "http": { type: "http", protocol: "tcp" },
});

/** Every kind, in the order that discovery lists them. */
export const SERVICE_KINDS: readonly ServiceKind[] = Object.freeze(
  Object.keys(SERVICE_TYPES) as ServiceKind[],
);

/**
 * The DNS-SD name of a kind's type: `_midisock._tcp`.
 *
 * @param kind The kind.
 * @returns Its service type, without `.local`.
 *
 * @example
 * ```ts
 * import { serviceType } from "@x/midisock/mdns";
 * import assert from "node:assert/strict";
 *
 * assert.equal(serviceType("apple-midi"), "_apple-midi._udp");
 * ```
 */
export function serviceType(kind: ServiceKind): string {
  const { type, protocol } = SERVICE_TYPES[kind];
  return `_${type}._${protocol}`;
}

/** A service to advertise: its kind, its port and its TXT record. */
export interface Service {
  /** What it is. */
  readonly kind: ServiceKind;
  /** Its port, 1 to 65535. */
  readonly port: number;
  /** Its TXT record's keys and values. */
  readonly txt: Readonly<Record<string, string>>;
}

/**
 * The `_midisock._tcp` service of a server: its TCP port, and TXT keys for
 * what a client needs to know before it dials: `tls=1` (dial with TLS),
 * `token=1` (a token is needed: the token itself is never published) and
 * `relay=1` (the server relays, so clients hear each other).
 *
 * @param port The server's TCP port.
 * @param options What holds of the server.
 * @returns The service.
 *
 * @example
 * ```ts
 * import { midisockService } from "@x/midisock/mdns";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(midisockService(8080, { relay: true, token: true }), {
 *   kind: "midisock",
 *   port: 8080,
 *   txt: { token: "1", relay: "1" },
 * });
 * ```
 */
export function midisockService(
  port: number,
  options: { tls?: boolean; token?: boolean; relay?: boolean } = {},
): Service {
  const txt: Record<string, string> = {};
  if (options.tls) txt.tls = "1";
  if (options.token) txt.token = "1";
  if (options.relay) txt.relay = "1";
  return service("midisock", port, txt);
}

/**
 * The `_http._tcp` service of a web page (`serve --web`), with its path
 * (RFC 6763's `path` key).
 *
 * @param port The page's TCP port.
 * @param path The page's path.
 * @returns The service.
 *
 * @example
 * ```ts
 * import { httpService } from "@x/midisock/mdns";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(httpService(8081).txt, { path: "/" });
 * ```
 */
export function httpService(port: number, path = "/"): Service {
  return service("http", port, { path });
}

/**
 * FOR THE LEAD, WHEN `serve --rtp` IS MERGED: the `_apple-midi._udp`
 * service of an RTP-MIDI session, its control port (the data port is the
 * next one). A Mac's MIDI Network Setup lists it in its Directory. It has
 * no TXT keys.
 *
 * @param port The session's control port (UDP).
 * @returns The service.
 *
 * @example
 * ```ts
 * import { appleMidiService } from "@x/midisock/mdns";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(appleMidiService(5004), {
 *   kind: "apple-midi",
 *   port: 5004,
 *   txt: {},
 * });
 * ```
 */
export function appleMidiService(port: number): Service {
  return service("apple-midi", port, {});
}

/**
 * FOR THE LEAD, WHEN `serve --midi2` IS MERGED: the `_midi2._udp` service
 * of a Network MIDI 2.0 endpoint, with the TXT keys that the specification
 * gives it: `UMPEndpointName` and `ProductInstanceId`.
 *
 * @param port The endpoint's UDP port.
 * @param options Its UMP endpoint name and product instance id.
 * @returns The service.
 *
 * @example
 * ```ts
 * import { midi2Service } from "@x/midisock/mdns";
 * import assert from "node:assert/strict";
 *
 * const s = midi2Service(5506, {
 *   endpointName: "midisock",
 *   productInstanceId: "a1b2",
 * });
 * assert.deepEqual(s.txt, {
 *   UMPEndpointName: "midisock",
 *   ProductInstanceId: "a1b2",
 * });
 * ```
 */
export function midi2Service(
  port: number,
  options: { endpointName: string; productInstanceId: string },
): Service {
  return service("midi2", port, {
    UMPEndpointName: options.endpointName,
    ProductInstanceId: options.productInstanceId,
  });
}

function service(
  kind: ServiceKind,
  port: number,
  txt: Record<string, string>,
): Service {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(
      `Invalid port ${port} for the ${
        serviceType(kind)
      } service: expected 1 to 65535`,
    );
  }
  return Object.freeze({ kind, port, txt: Object.freeze(txt) });
}
