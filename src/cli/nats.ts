// Copyright 2026 the midisock authors. MIT license.
// `midisock serve --nats`: joins the server to a bus on NATS and prints the
// bridge's events. serve.ts imports this module only when --nats is given, so
// that the NATS client is loaded only then.

import { joinNats, type NatsBridgeOptions } from "../nats/join_nats.ts";
import type { NatsBridge } from "../nats/nats_bridge.ts";
import type { PortServer } from "../bus/port_server.ts";
import { oneLine } from "../util/error_text.ts";

/** Prints an event line: JSON with --json, the # line otherwise. */
export type LineWriter = (
  json: Record<string, unknown>,
  text: string,
) => Promise<void>;

/** Joins `server` to the bus, and prints the bridge's events with `line`. */
export async function startBridge(
  server: PortServer,
  options: NatsBridgeOptions,
  line: LineWriter,
): Promise<NatsBridge> {
  const bridge = await joinNats(server, options);
  const { bus, hub } = bridge;
  line(
    { event: "nats", state: "connected", bus, hub },
    `# nats connected bus=${bus} hub=${hub}`,
  );
  let dropped = 0; // bytes dropped before this outage
  bridge.addEventListener("disconnect", ({ error }) => {
    dropped = bridge.stats.droppedBytes;
    const why = error ? oneLine(error) : undefined;
    line(
      { event: "nats", state: "disconnected", error: why },
      `# nats disconnected${why ? ` ${why}` : ""}`,
    );
  });
  bridge.addEventListener("reconnecting", ({ attempt, delay }) => {
    const ms = Math.round(delay);
    line(
      { event: "nats", state: "reconnecting", attempt, delay: ms },
      `# nats reconnecting attempt=${attempt} delay=${ms}ms`,
    );
  });
  bridge.addEventListener("reconnect", ({ attempt, downtime }) => {
    const ms = Math.round(downtime);
    // What this hub's clients sent while the link was down, and so lost.
    const lost = bridge.stats.droppedBytes - dropped;
    line(
      {
        event: "nats",
        state: "reconnected",
        attempts: attempt,
        downtime: ms,
        droppedBytes: lost,
      },
      `# nats reconnected attempts=${attempt} downtime=${ms}ms dropped=${lost}`,
    );
  });
  bridge.addEventListener("hubjoin", ({ hub }) => {
    line({ event: "hubjoin", hub }, `# hubjoin ${hub}`);
  });
  for (const type of ["hubleave", "hubgap"] as const) {
    bridge.addEventListener(type, (event) => {
      const { hub, reason, notes } = event;
      line(
        { event: type, hub, reason, notes },
        `# ${type} ${hub}${
          type === "hubgap" ? "" : ` ${reason}`
        } released=${notes}`,
      );
    });
  }
  bridge.addEventListener("close", () => {
    // What the bridge carried, and what it could not.
    const { published, received, droppedBytes, lost, overflowed, ignored } =
      bridge.stats;
    line(
      {
        event: "nats",
        state: "closed",
        published,
        received,
        droppedBytes,
        lost,
        overflowed,
        ignored,
      },
      `# nats closed published=${published} received=${received} dropped=${droppedBytes} lost=${lost} overflowed=${overflowed} ignored=${ignored}`,
    );
  });
  return bridge;
}
