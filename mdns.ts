// Copyright 2026 the midisock authors. MIT license.

/**
 * Zero-configuration MIDI on the LAN, over mDNS/DNS-SD (Bonjour): publish
 * a bus and its page with {@linkcode advertise}, and find every MIDI
 * service that answers (midisock servers, Apple's Network MIDI and
 * rtpMIDI, Network MIDI 2.0, web pages) with {@linkcode discover}. It sits
 * in its own export, so the core module stays free of its npm packages
 * (@homebridge/ciao to publish, multicast-dns to browse).
 *
 * @example The records of a bus
 * ```ts
 * import { midisockService, serviceType } from "@x/midisock/mdns";
 * import assert from "node:assert/strict";
 *
 * const bus = midisockService(8080, { relay: true, tls: true });
 * assert.equal(serviceType(bus.kind), "_midisock._tcp");
 * assert.deepEqual(bus.txt, { tls: "1", relay: "1" });
 * ```
 *
 * @module
 */

export {
  appleMidiService,
  httpService,
  midi2Service,
  midisockService,
  type Service,
  SERVICE_KINDS,
  SERVICE_TYPES,
  type ServiceKind,
  serviceType,
} from "./src/mdns/service.ts";
export {
  advertise,
  Advertisement,
  type AdvertiseOptions,
  defaultServiceName,
  type PublishedService,
} from "./src/mdns/advertise.ts";
export {
  discover,
  type DiscoveredService,
  type DiscoverOptions,
  findService,
} from "./src/mdns/discover.ts";
