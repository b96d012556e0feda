// Copyright 2026 the midisock authors. MIT license.
// Transports: TcpTransport's streams half-close, and a port works the same
// over a transport's streams as over its own read() and write().

import assert from "node:assert/strict";
import { message, SocketPort, TcpTransport, type Transport } from "../mod.ts";
import { randomMessages, rawPair, readToEnd, receiveN, wire } from "./_net.ts";

Deno.test("TcpTransport's writable half-closes: the peer reads to the end and can still answer", async () => {
  const { listener, client, server } = await rawPair();
  listener.close();
  const transport = new TcpTransport(client);
  const writer = transport.writable.getWriter();
  await writer.write(new Uint8Array([0x90, 60, 100]));
  await writer.close(); // the peer sees end of stream
  const got = new Uint8Array(16);
  let n = 0;
  while (true) {
    const k = await server.read(got.subarray(n));
    if (k === null) break;
    n += k;
  }
  assert.deepEqual(got.subarray(0, n), new Uint8Array([0x90, 60, 100]));
  // The peer answers after our end of stream, and we still read it.
  await server.write(new Uint8Array([0xfa]));
  server.close();
  const chunks = await Array.fromAsync(transport.readable);
  assert.deepEqual(chunks, [new Uint8Array([0xfa])]);
  transport.close();
});

Deno.test("A port over a TCP connection's streams alone gets the same bytes as over its read() and write()", async () => {
  const msgs = randomMessages(0x7a11, 300);
  for (const direct of [true, false]) {
    const { listener, client, server } = await rawPair();
    listener.close();
    const tcp = new TcpTransport(client);
    // The streams only: a transport without read(), write(), closeWrite().
    const streamsOnly: Transport = {
      readable: tcp.readable,
      writable: tcp.writable,
      close: () => tcp.close(),
    };
    const port = new SocketPort(direct ? tcp : streamsOnly, { name: "p" });
    for (const msg of msgs) await port.send(msg);
    await server.write(wire(msgs.slice(0, 10)));
    assert.deepEqual(await receiveN(port, 10), msgs.slice(0, 10));
    await port.close();
    assert.deepEqual(await readToEnd(server), wire(msgs), `direct: ${direct}`);
    await port.send(message("start")).then(
      () => assert.fail("sent on a closed port"),
      (error) => assert.equal(error.name, "PortClosedError"),
    );
  }
});
