// Copyright 2026 the midisock authors. MIT license.
// A connection whose first bytes are a TLS record or an HTTP request cannot
// be a MIDI stream (0x16 and ASCII letters are data bytes with no status):
// a plaintext server turns it away at those bytes, counts it, says why, and
// nothing of it reaches anyone. A mido peer, whose first byte is a status
// byte, is never affected.

import assert from "node:assert/strict";
import {
  connect,
  message,
  PortServer,
  type RejectEvent,
  SocketPort,
} from "../mod.ts";
import { delay, receiveN, waitFor } from "./_net.ts";

const TLS_REASON = "TLS client on a plaintext port";
const HTTP_REASON = "HTTP request on a MIDI port";

/**
 * A TLS client's handshake with a plaintext port: how it ended. The
 * connection is closed after 3 s at the latest, so that a server that
 * never answers (and never closes) makes the handshake fail too.
 */
async function tlsProbe(port: number): Promise<string> {
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port });
  let closed = false;
  const close = () => {
    if (!closed) conn.close();
    closed = true;
  };
  const timer = setTimeout(close, 3000);
  try {
    await conn.handshake();
    return "handshake done";
  } catch (error) {
    return (error as Error).name;
  } finally {
    clearTimeout(timer);
    close();
  }
}

/** An HTTP request with fetch, given up after 3 s: how it ended. */
async function httpProbe(port: number): Promise<string> {
  using client = Deno.createHttpClient({});
  try {
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      client,
      signal: AbortSignal.timeout(3000),
    });
    await response.body?.cancel();
    return `status ${response.status}`;
  } catch (error) {
    return (error as Error).name;
  }
}

/** The bytes of a raw connection that writes `data`, read to its end. */
async function rawOpening(port: number, data: string): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(data));
    const buf = new Uint8Array(64);
    const timer = setTimeout(() => conn.close(), 3000);
    try {
      while (await conn.read(buf) !== null) {
        // Until the server closes it.
      }
    } catch {
      // Reset, or closed by the timer.
    } finally {
      clearTimeout(timer);
    }
  } finally {
    try {
      conn.close();
    } catch {
      // Closed by the timer.
    }
  }
}

Deno.test("A TLS ClientHello and an HTTP request to a plaintext relay are turned away at their first bytes: counted, reported, and not one message of them reaches another client", async () => {
  await using bus = new PortServer("127.0.0.1", 0, { relay: true });
  const rejects: RejectEvent[] = [];
  bus.addEventListener("reject", (event) => rejects.push(event));
  await using synth = await connect("127.0.0.1", bus.port);
  await waitFor(() => bus.ports.length === 1, "the synth");

  // A real TLS client: its handshake fails at once, as the server closes.
  assert.notEqual(await tlsProbe(bus.port), "handshake done");
  // A real HTTP client: fetch fails, as the server closes.
  assert.match(await httpProbe(bus.port), /^(TypeError|TimeoutError)$/);
  // Other request lines, raw.
  await rawOpening(bus.port, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  await rawOpening(bus.port, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
  const heard = [];
  for (let msg = synth.poll(); msg; msg = synth.poll()) heard.push(msg);
  assert.equal(heard.length, 0, `the synth heard ${heard.length} messages`);
  await waitFor(() => rejects.length === 4, "4 rejects", 5000);
  assert.deepEqual(rejects.map((event) => event.reason), [
    TLS_REASON,
    HTTP_REASON,
    HTTP_REASON,
    HTTP_REASON,
  ]);
  for (const event of rejects) {
    assert.match(event.address, /^127\.0\.0\.1:\d+$/);
  }
  assert.equal(bus.stats.rejected, 4);
  assert.equal(bus.stats.received, 0, "not one message of them was read");

  // The first message that the synth hears is a real player's.
  await using keys = await connect("127.0.0.1", bus.port);
  await keys.send(message("note_on", { note: 60 }));
  assert.deepEqual(await receiveN(synth, 1), [
    message("note_on", { note: 60 }),
  ]);
  await delay(50);
  assert.equal(synth.poll(), undefined);
  assert.equal(bus.stats.received, 1);
});

Deno.test("A token server turns a TLS client away as a TLS client, not for its hello line", async () => {
  await using bus = new PortServer("127.0.0.1", 0, {
    token: "s3cret",
    helloTimeout: 5000,
  });
  const rejects: RejectEvent[] = [];
  bus.addEventListener("reject", (event) => rejects.push(event));
  assert.notEqual(await tlsProbe(bus.port), "handshake done");
  await waitFor(() => rejects.length === 1, "the reject", 5000);
  assert.equal(rejects[0].reason, TLS_REASON);
  assert.equal(bus.stats.rejected, 1);
});

Deno.test("A mido peer is never taken for a probe: a stream that opens with a status byte, even one that goes on with ASCII, is MIDI", async () => {
  await using bus = new PortServer("127.0.0.1", 0);
  const rejects: RejectEvent[] = [];
  bus.addEventListener("reject", (event) => rejects.push(event));
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: bus.port });
  await using peer = new SocketPort(conn);
  // A sysex whose data reads "GET / HTTP/1.1", then a note.
  await peer.send(
    message("sysex", { data: new TextEncoder().encode("GET / HTTP/1.1") }),
  );
  await peer.send(message("note_on", { note: 64 }));
  assert.deepEqual(await receiveN(bus, 2), [
    message("sysex", { data: new TextEncoder().encode("GET / HTTP/1.1") }),
    message("note_on", { note: 64 }),
  ]);
  assert.equal(rejects.length, 0);
  assert.equal(bus.stats.rejected, 0);
});
