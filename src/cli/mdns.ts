// Copyright 2026 the midisock authors. MIT license.
// Bonjour in the CLI: `serve --advertise`, `midisock discover`, and a
// service's name where an address goes. Loaded only when one of them is
// used (see mdnsModule() in discover.ts), so that a user who never uses
// them never downloads their npm packages.

import {
  advertise,
  type Advertisement,
  defaultServiceName,
} from "../mdns/advertise.ts";
import {
  discover,
  type DiscoveredService,
  findService,
} from "../mdns/discover.ts";
import {
  appleMidiService,
  httpService,
  midi2Service,
  midisockService,
  type Service,
  type ServiceKind,
  serviceType,
} from "../mdns/service.ts";

export { appleMidiService, defaultServiceName, midi2Service };

/** What serve publishes: its bus, and its page if it has one. */
export interface ServeServices {
  /** The bus's TCP port, and what holds of it. */
  bus: { port: number; tls: boolean; token: boolean; relay: boolean };
  /** The web page's port, with --web. */
  web?: number;
  /**
   * More services, such as the RTP-MIDI session's (`appleMidiService()`)
   * and the Network MIDI 2.0 endpoint's (`midi2Service()`).
   */
  more?: Service[];
}

/** The services that `serve --advertise` publishes. */
export function serveServices(options: ServeServices): Service[] {
  return [
    midisockService(options.bus.port, options.bus),
    ...(options.web === undefined ? [] : [httpService(options.web)]),
    ...(options.more ?? []),
  ];
}

/**
 * Publishes `services` under `name`, and prints one line for each, as
 * `midisock: advertised "NAME" as _midisock._tcp on port 8080`, with `say`.
 */
export async function startAdvertising(
  services: Service[],
  name: string,
  say: (line: string) => Promise<void>,
): Promise<Advertisement> {
  const ad = await advertise(services, { name });
  for (const service of ad.services) {
    await say(
      `advertised ${JSON.stringify(service.name)} as ${
        serviceType(service.kind)
      } on port ${service.port}${txtText(service.txt)}`,
    );
  }
  return ad;
}

/** One line for a service found: kind, name, host, port, TXT. */
export function serviceLine(service: DiscoveredService, json: boolean): string {
  const { kind, name, host, port, txt } = service;
  if (json) return JSON.stringify({ kind, name, host, port, txt });
  return `${kind} ${JSON.stringify(name)} ${host} ${port}${txtText(txt)}`;
}

function txtText(txt: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(txt).map(([k, v]) =>
    /[\s"]/.test(`${k}${v}`) ? JSON.stringify(`${k}=${v}`) : `${k}=${v}`
  );
  return pairs.length ? ` ${pairs.join(" ")}` : "";
}

/** Lists what answers, a line each as it is found (`midisock discover`). */
export async function listServices(
  options: { timeout: number; kinds?: ServiceKind[]; signal?: AbortSignal },
  line: (service: DiscoveredService) => Promise<void>,
): Promise<number> {
  // Printed in order, each as it comes.
  let printing = Promise.resolve();
  const found = await discover({
    ...options,
    onService: (service) => {
      printing = printing.then(() => line(service));
    },
  });
  await printing;
  return found.length;
}

/** How long a name is looked for before it is given up, in ms. */
export const FIND_TIMEOUT_MS = 3000;

/**
 * The service named `name` that a command can dial (not a web page), or
 * undefined if none answered within 3 s.
 */
export function findDialable(
  name: string,
  signal?: AbortSignal,
): Promise<DiscoveredService | undefined> {
  return findService(name, {
    kinds: ["midisock", "apple-midi", "midi2"],
    timeout: FIND_TIMEOUT_MS,
    signal,
  });
}
