// Copyright 2026 the midisock authors. MIT license.
import assert from "node:assert/strict";
import { Inbox, wireSize } from "../src/port/_inbox.ts";
import { message } from "../mod.ts";

Deno.test("Inbox counts its fullness in wire bytes, so big sysex messages fill it sooner", async () => {
  const inbox = new Inbox(64 * 1024, wireSize);
  const sysex = message("sysex", { data: new Uint8Array(40_000) });
  inbox.push(sysex);
  assert.equal(inbox.weight, 40_002);
  assert.equal(inbox.space(), undefined); // room left
  inbox.push(sysex);
  assert.equal(inbox.weight, 80_004);
  const space = inbox.space();
  assert.ok(space instanceof Promise, "full after 80 kB, not after 1024 items");
  let released = false;
  space.then(() => released = true);
  assert.equal(inbox.shift(), sysex);
  await space;
  assert.equal(released, true);
  assert.equal(inbox.weight, 40_002);
  inbox.push(message("note_on"));
  assert.equal(inbox.weight, 40_005);
  assert.equal(inbox.length, 2);
});

Deno.test("Inbox.next() gives the items in order, then undefined once it has ended", async () => {
  const inbox = new Inbox<number>(10, () => 1);
  const waiting = inbox.next();
  inbox.push(1);
  inbox.push(2);
  assert.equal(await waiting, 1);
  inbox.end();
  assert.equal(await inbox.next(), 2);
  assert.equal(await inbox.next(), undefined);
});

Deno.test("Inbox.next() rejects with the signal's reason when it aborts", async () => {
  const inbox = new Inbox<number>(10, () => 1);
  const controller = new AbortController();
  const waiting = inbox.next(controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(waiting, { message: "stop" });
});
