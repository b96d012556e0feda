// Copyright 2026 the midisock authors. MIT license.
// The records that serve --advertise publishes (no multicast: the
// publishing and browsing are tested against avahi in tests/netns/mdns.ts,
// through tests/lan_test.ts).

import assert from "node:assert/strict";
import { serveServices } from "../src/cli/mdns.ts";
import {
  appleMidiService,
  httpService,
  midi2Service,
  midisockService,
  SERVICE_KINDS,
  serviceType,
} from "../mdns.ts";

Deno.test("serve --advertise publishes the bus with tls, token and relay where they hold, and the page with its path", () => {
  assert.deepEqual(
    serveServices({
      bus: { port: 8080, tls: true, token: true, relay: true },
      web: 8081,
    }),
    [
      {
        kind: "midisock",
        port: 8080,
        txt: { tls: "1", token: "1", relay: "1" },
      },
      { kind: "http", port: 8081, txt: { path: "/" } },
    ],
  );
  assert.deepEqual(
    serveServices({ bus: { port: 9, tls: false, token: false, relay: false } }),
    [{ kind: "midisock", port: 9, txt: {} }],
  );
});

Deno.test("serveServices takes the RTP-MIDI and Network MIDI 2.0 services as more", () => {
  const services = serveServices({
    bus: { port: 8080, tls: false, token: false, relay: true },
    more: [
      appleMidiService(5004),
      midi2Service(5506, { endpointName: "midisock", productInstanceId: "x1" }),
    ],
  });
  assert.deepEqual(services.map((s) => [serviceType(s.kind), s.port]), [
    ["_midisock._tcp", 8080],
    ["_apple-midi._udp", 5004],
    ["_midi2._udp", 5506],
  ]);
  assert.deepEqual(services[2].txt, {
    UMPEndpointName: "midisock",
    ProductInstanceId: "x1",
  });
});

Deno.test("A service's port must be 1 to 65535, and every kind has its DNS-SD type", () => {
  assert.throws(
    () => midisockService(0),
    /Invalid port 0 for the _midisock\._tcp service: expected 1 to 65535/,
  );
  assert.throws(() => httpService(70000), RangeError);
  assert.deepEqual(SERVICE_KINDS.map(serviceType), [
    "_midisock._tcp",
    "_apple-midi._udp",
    "_midi2._udp",
    "_http._tcp",
  ]);
});
