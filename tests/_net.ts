// Copyright 2026 the midisock authors. MIT license.
// Test helper for the network tests: bounded waits, raw socket reads, exact
// byte streams and seeded random messages. Every wait here has a deadline,
// so a broken port fails a test instead of hanging it.

import {
  encode,
  type Message,
  message,
  type MessageType,
  type Transport,
} from "../mod.ts";
import { ALL_TYPES, Random as Rng } from "./_random.ts";

// The Python that has mido, named once in _peers.ts.
import { PYTHON } from "./_peers.ts";
export { PYTHON };

/** How long any single wait may take before the test fails (a hang guard). */
export const DEADLINE_MS = 15_000;

/**
 * Whether this machine can listen on the IPv6 loopback, ::1. The tests that
 * need it are ignored, with this reason, when it cannot.
 */
export const HAS_IPV6_LOOPBACK: boolean = (() => {
  try {
    const listener = Deno.listen({ hostname: "::1", port: 0 });
    listener.close();
    return true;
  } catch {
    return false;
  }
})();

if (!HAS_IPV6_LOOPBACK) {
  console.warn(
    "This machine has no IPv6 loopback (cannot listen on ::1): the IPv6 tests are ignored",
  );
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until `condition()` is true, checking every few milliseconds, and
 * fails after `ms` milliseconds with a message that says what it waited for.
 */
export async function waitFor(
  condition: () => boolean,
  what: string,
  ms = DEADLINE_MS,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; !condition(); i++) {
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}`);
    }
    await delay(i < 20 ? 0 : 5);
  }
}

/**
 * Resolves as `promise` does, or rejects after `ms` milliseconds with a
 * message that says what it waited for. The timer is always cleared.
 */
export async function within<T>(
  promise: Promise<T>,
  what: string,
  ms = DEADLINE_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Anything with a receive() that takes a signal: a port or a server. */
export interface Receiver {
  receive(options?: { signal?: AbortSignal }): Promise<Message>;
}

/** Receives exactly `n` messages, failing after `ms` milliseconds. */
export async function receiveN(
  port: Receiver,
  n: number,
  ms = DEADLINE_MS,
): Promise<Message[]> {
  const signal = AbortSignal.timeout(ms);
  const out: Message[] = [];
  while (out.length < n) out.push(await port.receive({ signal }));
  return out;
}

/**
 * Polls a port until `n` messages have come, with the port's poll(), so
 * that nothing but poll() reads it. Fails after `ms` milliseconds.
 */
export async function pollN(
  port: { poll(): Message | undefined },
  n: number,
  ms = DEADLINE_MS,
): Promise<Message[]> {
  const out: Message[] = [];
  await waitFor(
    () => {
      for (let m = port.poll(); m !== undefined; m = port.poll()) out.push(m);
      return out.length >= n;
    },
    `${n} messages from poll() (got ${out.length})`,
    ms,
  );
  return out;
}

/** Joins byte chunks into one array. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += c.length;
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** The wire bytes of messages sent one after the other. */
export function wire(messages: readonly Message[]): Uint8Array {
  return concat(messages.map((m) => encode(m)));
}

/**
 * Reads a raw connection until the peer's end of stream and returns every
 * byte. Closes the connection when done. Fails (and closes it) after `ms`
 * milliseconds, or if the connection is reset rather than ended.
 */
export async function readToEnd(
  conn: Deno.Conn,
  ms = DEADLINE_MS,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, ms);
  try {
    while (true) {
      const buf = new Uint8Array(64 * 1024);
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.subarray(0, n));
    }
  } catch (error) {
    if (timedOut) {
      throw new Error(
        `Timed out after ${ms} ms reading to the end of stream (got ${
          concat(chunks).length
        } bytes)`,
      );
    }
    throw error;
  } finally {
    clearTimeout(timer);
    if (!timedOut) conn.close();
  }
  return concat(chunks);
}

/**
 * Reads exactly `n` bytes from a raw connection (it stays open). Fails at
 * an early end of stream, and after `ms` milliseconds.
 */
export async function readExactly(
  conn: Deno.Conn,
  n: number,
  ms = DEADLINE_MS,
): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let off = 0;
  const deadline = Date.now() + ms;
  while (off < n) {
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Error(
        `Timed out after ${ms} ms reading ${n} bytes (got ${off})`,
      );
    }
    const got = await within(conn.read(out.subarray(off)), `${n} bytes`, left);
    if (got === null) {
      throw new Error(`End of stream after ${off} of ${n} bytes`);
    }
    off += got;
  }
  return out;
}

/** Makes a listening socket and a connection to it, as raw Deno conns. */
export async function rawPair(): Promise<
  { listener: Deno.TcpListener; client: Deno.TcpConn; server: Deno.TcpConn }
> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  const server = await accepted;
  return { listener, client, server };
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export function freePort(hostname = "127.0.0.1"): number {
  const listener = Deno.listen({ hostname, port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** A small seeded generator (mulberry32), so a failing run can be repeated. */
export { Rng };

/** The 18 message types, in mido's order. */
export const TYPES: readonly MessageType[] = ALL_TYPES;

/** A random valid message of the given type (or of a random type). */
export function randomMessage(rng: Rng, type?: MessageType): Message {
  const t = type ?? TYPES[rng.int(0, TYPES.length - 1)];
  const channel = rng.int(0, 15);
  switch (t) {
    case "note_off":
    case "note_on":
      return message(t, {
        channel,
        note: rng.int(0, 127),
        velocity: rng.int(0, 127),
      });
    case "polytouch":
      return message(t, {
        channel,
        note: rng.int(0, 127),
        value: rng.int(0, 127),
      });
    case "control_change":
      return message(t, {
        channel,
        control: rng.int(0, 127),
        value: rng.int(0, 127),
      });
    case "program_change":
      return message(t, { channel, program: rng.int(0, 127) });
    case "aftertouch":
      return message(t, { channel, value: rng.int(0, 127) });
    case "pitchwheel":
      return message(t, { channel, pitch: rng.int(-8192, 8191) });
    case "sysex": {
      const data = Array.from(
        { length: rng.int(0, 40) },
        () => rng.int(0, 127),
      );
      return message(t, { data });
    }
    case "quarter_frame":
      return message(t, {
        frameType: rng.int(0, 7),
        frameValue: rng.int(0, 15),
      });
    case "songpos":
      return message(t, { pos: rng.int(0, 16383) });
    case "song_select":
      return message(t, { song: rng.int(0, 127) });
    default:
      return message(t);
  }
}

/**
 * `n` random messages from a seed, with every type at least once (the first
 * 18 are one of each type, in mido's order).
 */
export function randomMessages(seed: number, n: number): Message[] {
  const rng = new Rng(seed);
  const out: Message[] = [];
  for (let i = 0; i < n; i++) {
    out.push(randomMessage(rng, i < TYPES.length ? TYPES[i] : undefined));
  }
  return out;
}

/** A sysex message with `size` data bytes (its wire size is size + 2). */
export function bigSysex(size: number, seed: number): Message {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (seed + i * 7) & 0x7f;
  return message("sysex", { data });
}

/** mido's reset(): for each channel, control 123 then control 121. */
export const RESET: readonly Message[] = Array.from(
  { length: 16 },
  (_, channel) => [
    message("control_change", { channel, control: 123, value: 0 }),
    message("control_change", { channel, control: 121, value: 0 }),
  ],
).flat();

/** mido's panic(): control 120 on each channel. */
export const PANIC: readonly Message[] = Array.from(
  { length: 16 },
  (_, channel) =>
    message("control_change", { channel, control: 120, value: 0 }),
);

/**
 * Two transports wired to each other in memory: what one end writes, the
 * other reads. Closing the writable ends the other's readable.
 */
export function memoryPair(): [Transport, Transport] {
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  const end = (
    readable: ReadableStream<Uint8Array>,
    writable: WritableStream<Uint8Array>,
  ): Transport => ({
    readable,
    writable,
    close() {
      readable.cancel().catch(() => {});
      writable.abort().catch(() => {});
    },
  });
  return [end(ba.readable, ab.writable), end(ab.readable, ba.writable)];
}
