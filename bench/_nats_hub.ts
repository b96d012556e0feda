// Copyright 2026 the midisock authors. MIT license.
/**
 * nats_bench.ts's hub: a PortServer with relay, bridged to a bus on NATS,
 * in a process of its own, so that its memory can be measured alone. It
 * speaks `_mem_child.ts`'s protocol (prints its port, answers `count` and
 * `mem`, exits when stdin ends).
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 --v8-flags=--expose-gc bench/_nats_hub.ts nats://127.0.0.1:4222 BUS HUB
 * ```
 *
 * @module
 */

import { PortServer } from "../mod.ts";
import { joinNats } from "../nats.ts";
import { answer } from "./_mem_child.ts";

const [servers, bus, hub] = Deno.args;
const server = new PortServer("127.0.0.1", 0, { relay: true });
const bridge = await joinNats(server, { servers, bus, hub });
await answer(
  server.port,
  () => server.stats.clients - 1, // not the bridge
  async () => {
    await bridge.close();
    await server.close();
  },
);
