// Copyright 2026 the midisock authors. MIT license.
// Clients that come and go one after another (issue 19, defect 3): each
// connects, sends one message and closes at once, as mido's one-shot
// clients do, against `midisock serve --relay` in a process of its own.
// Every message arrives, and a client that has left frees its place at
// once: the server never turns a client away under --max-clients when no
// more than a few were ever connected at once.

import assert from "node:assert/strict";
import { type Child, midisock } from "./_child.ts";

/** Starts `midisock serve ARGS... 127.0.0.1:0` and waits for its port. */
async function startServe(...args: string[]): Promise<[Child, number]> {
  const serve = midisock(["serve", ...args, "127.0.0.1:0"]);
  try {
    const [, port] = await serve.waitForMatch(
      "stderr",
      /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
    );
    return [serve, Number(port)];
  } catch (error) {
    await serve[Symbol.asyncDispose]();
    throw error;
  }
}

/** Client i's message: a note_on on a channel and note of its own. */
function noteOf(i: number): [number, number, number] {
  return [0x90 | (i >> 7), i & 0x7f, 1 + (i % 127)];
}

/** Connects, sends client i's note_on, and closes at once. */
async function oneShot(port: number, i: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new Uint8Array(noteOf(i)));
  } finally {
    conn.close();
  }
}

/** The note_on lines that serve prints for clients 0..n-1, sorted. */
function expectedNotes(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const [status, note, velocity] = noteOf(i);
    return `note_on channel=${
      status & 0x0f
    } note=${note} velocity=${velocity} time=0`;
  }).sort();
}

/** The messages (with the sender cut off) that serve printed, sorted. */
function printedNotes(lines: readonly string[]): string[] {
  return lines.filter((l) => l.includes(" note_on "))
    .map((l) => l.slice(l.indexOf(" ") + 1))
    .sort();
}

/** Fails with the count and the first of the lines that start so. */
function assertNone(lines: readonly string[], start: string): void {
  const found = lines.filter((l) => l.startsWith(start));
  assert.equal(
    found.length,
    0,
    `${found.length} "${start}" lines: ${found[0]}`,
  );
}

const isDisconnect = (line: string) => line.startsWith("# disconnect ");
const isGone = (line: string) =>
  isDisconnect(line) || line.startsWith("# reject ");

Deno.test("A relay that finds 300 one-shot clients waiting in its backlog delivers every message and turns none away under --max-clients 100", async () => {
  const [serve, port] = await startServe("--relay", "--max-clients", "100");
  await using _ = serve;
  // The server is stopped while its clients come, send and leave: they
  // all wait in the listener's backlog (the system's, 512 deep) when it
  // goes on. No more than one of them was ever connected at a time.
  const clients = 300;
  serve.kill("SIGSTOP");
  try {
    for (let i = 0; i < clients; i++) await oneShot(port, i);
  } finally {
    serve.kill("SIGCONT");
  }
  // Each client leaves a disconnect line, or a reject line.
  await serve.waitForCount(clients, isGone, "disconnect or reject");
  serve.kill("SIGTERM");
  assert.equal((await serve.result()).code, 0);
  const lines = serve.stdout;
  assertNone(lines, "# reject ");
  assertNone(lines, "# lost ");
  const notes = printedNotes(lines);
  assert.equal(notes.length, clients, "the clients' messages printed");
  assert.deepEqual(notes, expectedNotes(clients));
  assert.equal(lines.filter(isDisconnect).length, clients);
});

Deno.test("1000 one-shot clients in a row against serve --relay: every message arrives, and none is turned away", async () => {
  const [serve, port] = await startServe("--relay");
  await using _ = serve;
  const clients = 1000;
  for (let i = 0; i < clients; i++) await oneShot(port, i);
  // Each client leaves a disconnect line, or a reject line.
  await serve.waitForCount(clients, isGone, "disconnect or reject");
  serve.kill("SIGTERM");
  assert.equal((await serve.result()).code, 0);
  const lines = serve.stdout;
  assertNone(lines, "# reject ");
  assertNone(lines, "# lost ");
  const notes = printedNotes(lines);
  assert.equal(notes.length, clients, "the clients' messages printed");
  assert.deepEqual(notes, expectedNotes(clients));
});
