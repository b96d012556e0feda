// Copyright 2026 the midisock authors. MIT license.
// Who may join the bus: the allow-list, the client limit, the sysex gate and
// the filter, with exact counts.

import assert from "node:assert/strict";
import {
  connect,
  type FilterEvent,
  message,
  PortServer,
  type RejectEvent,
  SocketPort,
  type Transport,
} from "../mod.ts";
import { delay, memoryPair, PYTHON, receiveN, waitFor } from "./_net.ts";
import { PYTHON3 } from "./_peers.ts";

/**
 * A Python client bound to `from` that sends a note_on and reads until the
 * server ends the connection. Returns what it read and its own port.
 */
async function pythonClientFrom(
  from: string,
  port: number,
  read = true,
): Promise<{ port: number; got: string }> {
  const { code, stdout, stderr } = await new Deno.Command(PYTHON, {
    args: [
      "-c",
      `import socket
s = socket.socket()
s.bind((${JSON.stringify(from)}, 0))
s.connect(("127.0.0.1", ${port}))
print(s.getsockname()[1], flush=True)
try:
    s.sendall(bytes([0x90, 60, 100]))
    if ${read ? "True" : "False"}:
        s.settimeout(5)
        got = s.recv(100)
        print("eof" if got == b"" else got.hex())
    else:
        print("sent")
except ConnectionResetError:
    print("reset")
s.close()`,
    ],
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const [own, got] = new TextDecoder().decode(stdout).trim().split("\n");
  return { port: Number(own), got };
}

PYTHON3.test("allow: a client from 127.0.0.2 is turned away by 127.0.0.1 before a byte is read, and let in by 127.0.0.0/8", async () => {
  {
    await using server = new PortServer("127.0.0.1", 0, {
      allow: ["127.0.0.1"],
    });
    const rejects: RejectEvent[] = [];
    server.addEventListener("reject", (event) => rejects.push(event));
    server.poll(); // read as a port: it would take in any client
    const client = await pythonClientFrom("127.0.0.2", server.port);
    assert.ok(["eof", "reset"].includes(client.got), client.got);
    await waitFor(() => rejects.length === 1, "the reject event");
    assert.equal(rejects[0].address, `127.0.0.2:${client.port}`);
    assert.equal(rejects[0].reason, "not on the allow-list");
    assert.equal(server.stats.rejected, 1);
    assert.equal(server.stats.accepted, 0);
    await delay(50);
    assert.equal(server.poll(), undefined, "nothing of it was delivered");
  }
  {
    await using server = new PortServer("127.0.0.1", 0, {
      allow: ["127.0.0.0/8"],
      closeTimeout: 100,
    });
    const reading = server.withPorts();
    const client = pythonClientFrom("127.0.0.2", server.port, false);
    const first = await reading.next();
    assert.deepEqual(
      first.value!.message,
      message("note_on", { note: 60, velocity: 100 }),
    );
    const { port } = await client;
    assert.equal(first.value!.port.name, `127.0.0.2:${port}`);
    assert.equal(server.stats.rejected, 0);
    await reading.return!();
  }
});

Deno.test("allow: a bad entry is a SyntaxError that names it", () => {
  assert.throws(
    () => new PortServer("127.0.0.1", 0, { allow: ["10.0.0.0/33"] }),
    {
      name: "SyntaxError",
      message:
        'Invalid allow entry "10.0.0.0/33": the prefix must be a whole number in 0..32',
    },
  );
  assert.throws(
    () => new PortServer("127.0.0.1", 0, { allow: ["bus.local"] }),
    {
      name: "SyntaxError",
      message: 'Invalid allow entry "bus.local": not an IPv4 or IPv6 address',
    },
  );
});

Deno.test("maxClients: the clients over the limit are turned away at once, and a place that frees up is taken again", async () => {
  await using server = new PortServer("127.0.0.1", 0, { maxClients: 2 });
  const rejects: RejectEvent[] = [];
  server.addEventListener("reject", (event) => rejects.push(event));
  server.poll();
  const a = await connect("127.0.0.1", server.port);
  const b = await connect("127.0.0.1", server.port);
  await waitFor(() => server.stats.clients === 2, "2 clients");
  const c = await connect("127.0.0.1", server.port);
  const d = await connect("127.0.0.1", server.port);
  await waitFor(() => rejects.length === 2, "2 rejects");
  assert.deepEqual(
    rejects.map((e) => [e.address, e.reason]),
    [c, d].map((p) => [`127.0.0.1:${p.localAddr.port}`, "over maxClients (2)"]),
  );
  for await (const _ of c) assert.fail("c was turned away");
  assert.equal(server.stats.rejected, 2);
  assert.equal(server.stats.clients, 2);
  await a.close();
  await waitFor(() => server.stats.clients === 1, "a gone");
  await using e = await connect("127.0.0.1", server.port);
  await e.send(message("start"));
  assert.deepEqual(await receiveN(server, 1), [message("start")]);
  assert.equal(server.stats.clients, 2);
  assert.equal(server.stats.rejected, 2);
  await Promise.all([b.close(), c.close(), d.close()]);
});

Deno.test("acceptSysex: false drops every sysex from clients, counted, and relays and delivers the rest", async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    relay: true,
    acceptSysex: false,
  });
  const filtered: FilterEvent[] = [];
  server.addEventListener("filtered", (event) => filtered.push(event));
  await using a = await connect("127.0.0.1", server.port);
  await using b = await connect("127.0.0.1", server.port);
  await waitFor(() => server.ports.length === 2, "2 clients");
  const patch = message("sysex", { data: [0x43, 0x10, 0x4c] });
  await a.send(patch);
  await a.send(message("note_on", { note: 60 }));
  await a.send(patch);
  await a.send(message("note_off", { note: 60 }));
  assert.deepEqual(await receiveN(b, 2), [
    message("note_on", { note: 60 }),
    message("note_off", { note: 60 }),
  ]);
  assert.equal(server.stats.filtered, 2);
  assert.equal(server.stats.received, 4);
  assert.equal(server.stats.relayed, 2);
  assert.deepEqual(filtered.map((e) => [e.reason, e.message]), [
    ["sysex", patch],
    ["sysex", patch],
  ]);
  // The server's own send() is not a client's: its sysex goes out.
  await server.send(patch);
  assert.deepEqual(await receiveN(b, 1), [patch]);
});

Deno.test("filter decides for each client's message: a read-only client is heard by no one", async () => {
  let readOnly = "";
  await using server = new PortServer("127.0.0.1", 0, {
    relay: true,
    filter: (msg, from) => {
      if (msg.type === "reset") throw new Error("no resets here");
      return from.name !== readOnly;
    },
  });
  const filtered: FilterEvent[] = [];
  server.addEventListener("filtered", (event) => filtered.push(event));
  await using listener = await connect("127.0.0.1", server.port);
  await using player = await connect("127.0.0.1", server.port);
  readOnly = `127.0.0.1:${listener.localAddr.port}`;
  await waitFor(() => server.ports.length === 2, "2 clients");
  await listener.send(message("note_on", { note: 1 }));
  await player.send(message("reset"));
  await player.send(message("note_on", { note: 2 }));
  assert.deepEqual(await receiveN(listener, 1), [
    message("note_on", { note: 2 }),
  ]);
  await delay(50);
  assert.equal(
    player.poll(),
    undefined,
    "the read-only client is heard by no one",
  );
  assert.equal(server.stats.filtered, 2);
  // The two clients' messages race: either order.
  assert.deepEqual(filtered.map((e) => e.reason).sort(), [
    "filter",
    "filter threw: no resets here",
  ]);
});

Deno.test("Bad access options fail when the server is made", () => {
  assert.throws(() => new PortServer("127.0.0.1", 0, { maxClients: -1 }), {
    name: "RangeError",
    message: "Invalid maxClients option: expected an integer >= 0, got -1",
  });
  assert.throws(
    () => new PortServer("127.0.0.1", 0, { filter: "no" as never }),
    {
      name: "TypeError",
      message: "Invalid filter option: expected a function, got string",
    },
  );
});

Deno.test("maxBufferedBytes: clients' unfinished sysex messages never hold more than the bound, the largest is dropped and counted, and it all comes back when they leave", async () => {
  const max = 64 * 1024;
  await using server = new PortServer("127.0.0.1", 0, {
    maxBufferedBytes: max,
  });
  const drops: number[] = [];
  server.addEventListener("drop", (e) => drops.push(e.discardedMessages));
  server.poll(); // read as a port: it takes in its clients
  const conns = [];
  try {
    // Five clients, each 40 KiB into a sysex that never ends.
    for (let i = 0; i < 5; i++) {
      const conn = await Deno.connect({
        hostname: "127.0.0.1",
        port: server.port,
      });
      conns.push(conn);
      await conn.write(
        new Uint8Array([0xf0, ...new Uint8Array(40 * 1024).fill(i + 1)]),
      );
      await waitFor(
        () =>
          server.stats.bufferedBytes > 0 || server.stats.bufferDiscards > i - 2,
        `client ${i} held`,
      );
      assert.ok(
        server.stats.bufferedBytes <= max,
        `${server.stats.bufferedBytes} <= ${max}`,
      );
    }
    await waitFor(() => server.stats.bufferDiscards >= 3, "3 discards");
    assert.ok(server.stats.bufferedBytes <= max);
    // Each discard is a message dropped and counted at once.
    assert.equal(server.stats.discardedMessages, server.stats.bufferDiscards);
    // A discarded sysex stays dropped when it ends; a new one is whole.
    await conns[0].write(new Uint8Array([0xf7, 0xf0, 0x7f, 0xf7]));
    assert.deepEqual(await receiveN(server, 1), [
      message("sysex", { data: [0x7f] }),
    ]);
  } finally {
    for (const conn of conns) conn.close();
  }
  await waitFor(() => server.stats.clients === 0, "every client gone");
  assert.equal(server.stats.bufferedBytes, 0);
  // Each message dropped is reported once, with its total, when its sysex
  // ends (conns[0]'s F7) or its stream does: one drop event a client, each
  // for one message, the discarded ones and the two cut by their close.
  assert.deepEqual(drops, [1, 1, 1, 1, 1]);
  assert.equal(server.stats.discardedMessages, 5);
});

PYTHON3.test("maxClients stays below the process's descriptor limit: a server under ulimit -n 256 takes 128 clients of 400, turns the rest away, and lives", async () => {
  const server = new URL("./fixtures/fd_server.ts", import.meta.url).pathname;
  // Python lowers the limit, then becomes deno running the server, with
  // --allow-all, which Deno asks for to read /proc/self/limits.
  const child = new Deno.Command(PYTHON, {
    args: [
      "-c",
      `import os, resource
resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
os.execvp(${JSON.stringify(Deno.execPath())}, ["deno", "run", "--allow-all", ${
        JSON.stringify(server)
      }, "400"])`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await out.read();
    if (done) break;
    text += value;
  }
  const port = Number(text.split("\n")[0]);
  const opened = await new Deno.Command(PYTHON, {
    args: [
      "-c",
      `import socket, time
socks = [socket.create_connection(("127.0.0.1", ${port}), timeout=5) for _ in range(400)]
time.sleep(1)
print(len(socks))`,
    ],
  }).output();
  assert.equal(new TextDecoder().decode(opened.stdout).trim(), "400");
  while (true) {
    const { value, done } = await out.read();
    if (done) break;
    text += value;
  }
  const { code } = await child.status;
  const stderr = await new Response(child.stderr).text();
  assert.equal(code, 0, stderr);
  const stats = JSON.parse(text.trim().split("\n")[1]);
  assert.equal(stats.accepted, 128);
  assert.equal(stats.rejected, 272);
  assert.equal(stats.acceptErrors, 0);
});

Deno.test("admit() with a name: a session transport with no hello line is checked against allow and maxClients, never the token", async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    relay: true,
    token: "s3cret",
    allow: ["127.0.0.0/8"],
    maxClients: 2,
  });
  const rejects: string[] = [];
  server.addEventListener("reject", (e) => rejects.push(e.reason));
  const from = (hostname: string): [Transport, Transport] => {
    const [a, b] = memoryPair();
    const addr: Deno.NetAddr = { transport: "udp", hostname, port: 5004 };
    return [{ ...a, remoteAddr: addr, close: a.close }, b];
  };
  // On the list, with no hello line and no token: admitted, by its name.
  const [inside, insidePeer] = from("127.0.0.2");
  server.admit(inside, { name: "rtp:Keys" });
  await using keys = new SocketPort(insidePeer, { name: "keys" });
  // Off the list: turned away, and counted.
  const [outside, outsidePeer] = from("192.0.2.7");
  server.admit(outside, { name: "rtp:Far" });
  outsidePeer.close();
  await waitFor(() => server.ports.length === 1, "the admitted session");
  assert.equal(server.ports[0].name, "rtp:Keys");
  assert.equal(rejects.length, 1);
  assert.match(rejects[0], /allow-list/);
  await keys.send(message("note_on", { note: 60 }));
  const { port, message: msg } = await server.receiveWithPort();
  assert.deepEqual([port.name, msg], [
    "rtp:Keys",
    message("note_on", { note: 60 }),
  ]);
});
