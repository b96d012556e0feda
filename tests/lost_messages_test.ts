// Copyright 2026 the midisock authors. MIT license.
// What a client sent before a write to it failed (issue 19, defect 2). A
// mido client sends its message and closes at once; if the server writes to
// it before it reads that message, the write fails (the peer's end is gone:
// EPIPE or a reset), but the message is still in the server's receive
// buffer, and Deno's read() returns it before the error. The port reads to
// the end of what arrived before it ends, and counts what it could not
// deliver in time.
//
// The order (the write fails first, the read comes after) is made certain
// here, not left to the scheduler: the server's end of the connection is a
// real TCP connection whose reads wait at a gate that the test opens once
// the write has failed.

import assert from "node:assert/strict";
import {
  connect,
  encode,
  type Message,
  message,
  type PortEvent,
  PortServer,
  SocketPort,
  TcpTransport,
  type Transport,
} from "../mod.ts";
import { midisock } from "./_child.ts";
import { receiveN, waitFor, within } from "./_net.ts";

/**
 * A TCP connection whose reads wait until open() is called: the test
 * decides that the port reads only after its write has failed.
 */
class GatedTransport implements Transport {
  #inner: TcpTransport;
  #gate = Promise.withResolvers<void>();
  /** Reads begun, at the gate or past it. */
  reads = 0;

  #failWrites: boolean;

  constructor(conn: Deno.Conn, options: { failWrites?: boolean } = {}) {
    this.#inner = new TcpTransport(conn);
    this.#failWrites = options.failWrites ?? false;
  }

  get readable(): ReadableStream<Uint8Array> {
    return this.#inner.readable;
  }
  get writable(): WritableStream<Uint8Array> {
    return this.#inner.writable;
  }
  get localAddr(): Deno.Addr {
    return this.#inner.localAddr;
  }
  get remoteAddr(): Deno.Addr {
    return this.#inner.remoteAddr;
  }
  open(): void {
    this.#gate.resolve();
  }
  async read(buf: Uint8Array): Promise<number | null> {
    this.reads++;
    await this.#gate.promise;
    return this.#inner.read(buf);
  }
  write(bytes: Uint8Array): Promise<void> {
    if (this.#failWrites) {
      return Promise.reject(new Deno.errors.BrokenPipe("Broken pipe"));
    }
    return this.#inner.write(bytes);
  }
  closeWrite(): Promise<void> {
    return this.#inner.closeWrite();
  }
  close(): void {
    this.open(); // a read at the gate ends, as a read of a closed conn does
    this.#inner.close();
  }
}

/**
 * A client that sends `bytes` (a few, which the system buffers whole) and
 * closes at once, as mido's one-shot clients do; returns the server's end
 * of its connection, gated.
 */
async function oneShot(bytes: Uint8Array): Promise<GatedTransport> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  const server = await listener.accept();
  let off = 0;
  while (off < bytes.length) off += await client.write(bytes.subarray(off));
  client.close();
  return new GatedTransport(server);
}

const NOTE = message("note_on", { channel: 2, note: 60, velocity: 100 });

Deno.test("A port whose write fails still reads and delivers what the peer had sent", async () => {
  const transport = await oneShot(encode(NOTE));
  const port = new SocketPort(transport, { name: "one-shot" });
  await waitFor(() => transport.reads === 1, "the port's first read");
  // The peer has closed: the first write draws its reset, and a write
  // after it fails. Each message is written before the next one is sent.
  const clock = message("clock");
  for (let i = 0; i < 50 && port.error === undefined; i++) {
    try {
      await port.send(clock);
      await within(port.waitForRoom(1), "the write");
    } catch {
      break; // the port has failed
    }
  }
  assert.ok(port.error, "a write to the closed peer fails");
  transport.open();
  assert.deepEqual(
    await within(Array.fromAsync(port), "the messages the peer sent"),
    [NOTE],
  );
  await port.close();
  assert.equal(port.stats.messages, 1);
  assert.equal(port.stats.lostMessages, 0);
});

Deno.test("A relay delivers and relays the message of a client whose write failed first, and its disconnect counts it", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  server.poll(); // read from the start
  const disconnects: PortEvent[] = [];
  server.addEventListener("disconnect", (event) => disconnects.push(event));
  await using listener = await connect("127.0.0.1", server.port);
  await waitFor(() => server.ports.length === 1, "the listener to join");

  const transport = await oneShot(encode(NOTE));
  const port = server.join(transport, { name: "one-shot" });
  await waitFor(() => transport.reads === 1, "the client's first read");
  // Another client plays: the relay writes to the one-shot client, whose
  // peer is gone, until a write fails.
  const played: Message[] = [];
  for (let i = 0; i < 50 && port.error === undefined; i++) {
    const msg = message("control_change", { control: 1, value: i });
    played.push(msg);
    await listener.send(msg);
    await waitFor(
      () => port.error !== undefined || port.stats.writtenBytes === 3 * (i + 1),
      "the relay's write to the one-shot client",
    );
  }
  assert.ok(port.error, "a write to the closed peer fails");
  transport.open();

  // The server's reader has the listener's messages and the note, and the
  // note_off that releases it once the client has left; the listener hears
  // both.
  await waitFor(() => disconnects.length === 1, "the disconnect event");
  const read = [...server.iterPending()];
  assert.equal(read.length, played.length + 2);
  assert.deepEqual(read.filter((m) => m.type !== "control_change"), [
    NOTE,
    message("note_off", { channel: 2, note: 60 }),
  ]);
  assert.deepEqual(await receiveN(listener, 2), [
    NOTE,
    message("note_off", { channel: 2, note: 60 }),
  ]);
  assert.equal(disconnects[0].port, port);
  assert.equal(disconnects[0].messages, 2); // the note and its release
  assert.equal(disconnects[0].lostMessages, 0);
  assert.equal(server.stats.lostMessages, 0);
});

Deno.test("What a failed port cannot deliver within closeTimeout is read to the end and counted as lost", async () => {
  // More than the 64 KiB of messages that a port holds for its reader, and
  // no one reads: the port delivers until it is full, waits closeTimeout,
  // then reads the rest to the peer's end of stream, and counts it. Its
  // writes fail as a broken pipe's do; its reads are a real connection's.
  const sent = 40_000;
  const notes = Array.from(
    { length: sent },
    (_, i) => message("note_on", { note: i % 128, velocity: 1 + (i % 127) }),
  );
  const bytes = new Uint8Array(notes.flatMap((m) => [...encode(m)]));
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({
    hostname: "127.0.0.1",
    port: listener.addr.port,
  });
  const transport = new GatedTransport(await listener.accept(), {
    failWrites: true,
  });
  // The client sends it all and closes, as the port reads.
  const sending = (async () => {
    let off = 0;
    while (off < bytes.length) off += await client.write(bytes.subarray(off));
    client.close();
  })();
  const port = new SocketPort(transport, { closeTimeout: 100 });
  await port.send(message("clock"));
  await waitFor(() => port.error !== undefined, "the write to fail");
  assert.ok(port.error instanceof Deno.errors.BrokenPipe);
  transport.open();
  await within(port.close(), "the port's close");
  await within(sending, "the client's sending");
  const delivered = [...port.iterPending()];
  const lost = port.stats.lostMessages;
  assert.ok(delivered.length > 0 && lost > 0, `${delivered.length}, ${lost}`);
  assert.equal(delivered.length + lost, sent);
  assert.deepEqual(delivered, notes.slice(0, delivered.length));
  assert.equal(port.stats.messages, sent);
});

Deno.test("midisock serve prints a # lost line that names a client whose messages came too late to deliver", async () => {
  await using serve = midisock(["serve", "127.0.0.1:0"]);
  const [, port] = await serve.waitForMatch(
    "stderr",
    /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
  );
  const raw = await Deno.connect({ hostname: "127.0.0.1", port: +port });
  const [, name] = await serve.waitForMatch("stdout", /^# connect (\S+)$/);
  // The server closes: it ends its side, and reads (and drops) what the
  // client still sends until the client ends too.
  serve.kill("SIGTERM");
  const buf = new Uint8Array(16);
  while (await raw.read(buf) !== null) {
    // nothing comes but the end
  }
  await raw.write(
    new Uint8Array([0x90, 60, 100, 0x90, 62, 100, 0x90, 64, 100]),
  );
  raw.close();
  const result = await serve.result();
  assert.equal(result.code, 0);
  assert.deepEqual(serve.stdout, [
    `# connect ${name}`,
    `# lost 3 messages from ${name}`,
    `# disconnect ${name}`,
  ]);
});
