// Copyright 2026 the midisock authors. MIT license.
// The events: each is made from an init object, `new XEvent(type, init)`,
// and the old constructors that some still take give the same fields.

import assert from "node:assert/strict";
import {
  DropEvent,
  FilterEvent,
  message,
  PortEvent,
  ReconnectEvent,
  RejectEvent,
  ReleaseEvent,
  SocketPort,
  type Transport,
} from "../mod.ts";
import { HubEvent } from "../nats.ts";

/** The type and the own fields of an event, to compare two events by. */
function fields(event: Event): Record<string, unknown> {
  const own = Object.entries(event);
  return { type: event.type, ...Object.fromEntries(own) };
}

/** A port over a pipe in memory, whose other end is never read. */
function pipePort(name: string): SocketPort {
  const { readable } = new TransformStream<Uint8Array, Uint8Array>();
  const { writable } = new TransformStream<Uint8Array, Uint8Array>();
  const transport: Transport = {
    readable,
    writable,
    close() {
      readable.cancel().catch(() => {});
      writable.abort().catch(() => {});
    },
  };
  return new SocketPort(transport, { name, closeTimeout: 0 });
}

const notes = [
  message("note_off", { note: 60 }),
  message("control_change", { control: 64 }),
];

Deno.test("DropEvent from an init has the port and counts of the old form, and counts default to 0", () => {
  const port = { name: "keys" };
  const counts = { skippedBytes: 7, discardedMessages: 2, oversizedSysex: 1 };
  const event = new DropEvent("drop", { port, ...counts });
  assert.deepEqual(fields(event), {
    type: "drop",
    port,
    skippedBytes: 7,
    discardedMessages: 2,
    oversizedSysex: 1,
  });
  assert.deepEqual(fields(new DropEvent(port, counts)), fields(event));
  assert.deepEqual(fields(new DropEvent("drop", { port })), {
    type: "drop",
    port,
    skippedBytes: 0,
    discardedMessages: 0,
    oversizedSysex: 0,
  });
  // A copy of an event, as a server passes its client's drops on.
  const copy = new DropEvent("drop", event);
  assert.notEqual(copy, event);
  assert.deepEqual(fields(copy), fields(event));
});

Deno.test("PortEvent from an init has the fields of each old form, and counts default to 0", async () => {
  await using port = pipePort("keys");
  const init = { port, droppedBytes: 512, messages: 3 };
  const event = new PortEvent("disconnect", init);
  assert.deepEqual(fields(event), {
    type: "disconnect",
    ...init,
    lostMessages: 0,
  });
  assert.deepEqual(
    fields(new PortEvent("disconnect", port, 512, 3)),
    fields(event),
  );
  assert.deepEqual(
    fields(new PortEvent("disconnect", { ...init, lostMessages: 2 })),
    { ...fields(event), lostMessages: 2 },
  );
  assert.deepEqual(fields(new PortEvent("connect", port)), {
    type: "connect",
    port,
    droppedBytes: 0,
    messages: 0,
    lostMessages: 0,
  });
  assert.deepEqual(
    fields(new PortEvent("slowclient", port, 64)),
    fields(new PortEvent("slowclient", { port, droppedBytes: 64 })),
  );
  assert.deepEqual(
    fields(new PortEvent("connect", { port })),
    fields(new PortEvent("connect", port)),
  );
});

Deno.test("RejectEvent from an init has the address and reason of the old form", () => {
  const init = { address: "10.0.0.9:5000", reason: "not on the allow-list" };
  const event = new RejectEvent("reject", init);
  assert.deepEqual(fields(event), { type: "reject", ...init });
  assert.deepEqual(fields(new RejectEvent(init.address, init.reason)), {
    type: "reject",
    ...init,
  });
});

Deno.test("ReleaseEvent from an init has the port and messages of the old form", async () => {
  await using port = pipePort("keys");
  const event = new ReleaseEvent("release", { port, messages: notes });
  assert.deepEqual(fields(event), {
    type: "release",
    port,
    messages: notes,
  });
  const old = new ReleaseEvent(port, notes);
  assert.deepEqual(fields(old), fields(event));
  assert.deepEqual([old.notes, old.pedals], [1, 1]);
  assert.deepEqual([event.notes, event.pedals], [1, 1]);
});

Deno.test("FilterEvent from an init has the port, message and reason of the old form", async () => {
  await using port = pipePort("keys");
  const init = { port, message: message("sysex"), reason: "sysex" };
  const event = new FilterEvent("filtered", init);
  assert.deepEqual(fields(event), { type: "filtered", ...init });
  assert.deepEqual(
    fields(new FilterEvent(port, init.message, init.reason)),
    fields(event),
  );
});

Deno.test("ReconnectEvent from an init has its fields, each 0 or undefined by default", () => {
  const error = new Error("Connection refused");
  assert.deepEqual(
    fields(
      new ReconnectEvent("reconnecting", { attempt: 2, delay: 400, error }),
    ),
    { type: "reconnecting", attempt: 2, delay: 400, error, downtime: 0 },
  );
  assert.deepEqual(fields(new ReconnectEvent("disconnect")), {
    type: "disconnect",
    attempt: 0,
    delay: 0,
    error: undefined,
    downtime: 0,
  });
});

Deno.test("HubEvent from an init has the hub, reason and messages of the old form, and defaults to none", () => {
  const event = new HubEvent("hubleave", {
    hub: "studio-b",
    reason: "timeout",
    messages: notes,
  });
  assert.deepEqual(fields(event), {
    type: "hubleave",
    hub: "studio-b",
    reason: "timeout",
    messages: notes,
    lost: 0,
    lostBatches: 0,
    overflowed: 0,
  });
  assert.equal(event.notes, 1);
  assert.deepEqual(
    fields(
      new HubEvent("hubleave", "studio-b", {
        reason: "timeout",
        messages: notes,
      }),
    ),
    fields(event),
  );
  const joined = {
    type: "hubjoin",
    hub: "studio-b",
    reason: "",
    messages: [],
    lost: 0,
    lostBatches: 0,
    overflowed: 0,
  };
  assert.deepEqual(
    fields(new HubEvent("hubjoin", { hub: "studio-b" })),
    joined,
  );
  assert.deepEqual(fields(new HubEvent("hubjoin", "studio-b")), joined);
});

Deno.test("An event from an init takes the DOM's event options", () => {
  const event = new RejectEvent("reject", {
    address: "127.0.0.1:5000",
    reason: "over maxClients (0)",
    cancelable: true,
  });
  assert.equal(event.cancelable, true);
  assert.equal(new RejectEvent("127.0.0.1:5000", "x").cancelable, false);
});
