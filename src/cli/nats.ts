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
  let dropped = 0; // MIDI messages dropped before this outage
  bridge.addEventListener("disconnect", ({ error }) => {
    dropped = bridge.stats.dropped;
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
    // The MIDI messages of this hub's clients lost with the link (the
    // `# nats dropped` lines before this one say how).
    const lost = bridge.stats.dropped - dropped;
    line(
      {
        event: "nats",
        state: "reconnected",
        attempts: attempt,
        downtime: ms,
        dropped: lost,
      },
      `# nats reconnected attempts=${attempt} downtime=${ms}ms dropped=${lost}`,
    );
  });
  // Each loss of this hub's clients' messages: MIDI messages, and bytes.
  bridge.addEventListener("drop", (event) => {
    const { hub, reason, dropped: messages, droppedBytes } = event;
    line(
      { event: "nats", state: "dropped", hub, reason, messages, droppedBytes },
      `# nats dropped hub=${hub} messages=${messages} droppedBytes=${droppedBytes} reason=${reason}`,
    );
  });
  bridge.addEventListener("hubjoin", ({ hub }) => {
    line({ event: "hubjoin", hub }, `# hubjoin ${hub}`);
  });
  bridge.addEventListener("hubleave", (event) => {
    const { hub, reason, notes } = event;
    line(
      { event: "hubleave", hub, reason, notes },
      `# hubleave ${hub} ${reason} released=${notes}`,
    );
  });
  // Each loss of another hub's messages: MIDI messages lost on the way
  // (and NATS messages of unknown size, from a hub that sends no count),
  // or dropped here.
  bridge.addEventListener("hubgap", (event) => {
    const { hub, notes, lost, lostBatches, overflowed } = event;
    line(
      {
        event: "hubgap",
        hub,
        reason: "gap",
        notes,
        lost,
        lostBatches,
        overflowed,
      },
      `# hubgap ${hub} lost=${lost}${
        lostBatches ? ` lostBatches=${lostBatches}` : ""
      }${overflowed ? ` overflowed=${overflowed}` : ""} released=${notes}`,
    );
  });
  bridge.addEventListener("close", () => {
    // What the bridge carried, and what it could not: MIDI messages.
    const s = bridge.stats;
    const totals = {
      published: s.published,
      received: s.received,
      dropped: s.dropped,
      droppedBytes: s.droppedBytes,
      hubDropped: s.hubDropped,
      lost: s.lost,
      lostBatches: s.lostBatches,
      overflowed: s.overflowed,
      ignored: s.ignored,
    };
    line(
      { event: "nats", state: "closed", ...totals },
      `# nats closed ${
        Object.entries(totals).map(([k, v]) => `${k}=${v}`).join(" ")
      }`,
    );
  });
  return bridge;
}
