// Copyright 2026 the midisock authors. MIT license.
/**
 * One bus across many machines: hubs (each a {@linkcode PortServer} with
 * `relay: true`) bridged through NATS. Every hub bridged to the same bus
 * behaves as one relay, and the notes of a hub that disappears are released
 * on the others. It is its own module so that the core module stays free of
 * the NATS client (npm `@nats-io/nats-core`). The guide is
 * [A bus across machines](docs/nats.md), in the package's `docs/` folder.
 *
 * @example A hub event, as the CLI prints it
 * ```ts
 * import { HubEvent } from "@x/midisock/nats";
 * import assert from "node:assert/strict";
 *
 * const event = new HubEvent("hubjoin", { hub: "studio-b" });
 * assert.equal(`# ${event.type} ${event.hub}`, "# hubjoin studio-b");
 * ```
 *
 * @module
 */

export {
  joinNats,
  type NatsBridgeOptions,
  type NatsTlsOptions,
} from "./src/nats/join_nats.ts";
export {
  NatsBridge,
  type NatsBridgeEventMap,
  type NatsBridgeStats,
} from "./src/nats/nats_bridge.ts";
export {
  HubEvent,
  type HubEventInit,
  NatsDropEvent,
  type NatsDropEventInit,
  type NatsDropReason,
} from "./src/nats/events.ts";
