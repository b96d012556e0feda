// Copyright 2026 the midisock authors. MIT license.
// ipMIDI multicast, in a private network namespace with only lo (run by
// tests/lan_test.ts; it refuses to run anywhere else): datagrams exactly,
// senders kept apart, own datagrams ignored, and two hubs on one group.

import assert from "node:assert/strict";
import dgram from "node:dgram";
import {
  connect,
  encode,
  IPMIDI_GROUP,
  IpMidiTransport,
  message,
  PortServer,
  SocketPort,
} from "../../mod.ts";
import { delay, receiveN, waitFor, within } from "../_net.ts";
import { assertPrivateNetns } from "../_netns.ts";
import { midisock } from "../_child.ts";
import { keepIpMidi } from "../../src/cli/ipmidi.ts";

assertPrivateNetns();

/** A plain UDP socket on the group's port: what the group carries. */
async function listener(port = 21928) {
  const socket = dgram.createSocket({ type: "udp4", reuseAddr: true });
  const datagrams: { bytes: number[]; from: string }[] = [];
  socket.on("message", (m: Uint8Array, r: dgram.RemoteInfo) => {
    datagrams.push({ bytes: [...m], from: `${r.address}:${r.port}` });
  });
  await new Promise<void>((resolve) => socket.bind(port, "0.0.0.0", resolve));
  socket.addMembership(IPMIDI_GROUP, "127.0.0.1");
  return {
    datagrams,
    close: () => new Promise<void>((resolve) => socket.close(resolve)),
  };
}

/** A plain UDP sender to the group, from a port of its own. */
async function sender() {
  const socket = dgram.createSocket({ type: "udp4" });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  socket.setMulticastInterface("127.0.0.1");
  return {
    send: (bytes: number[], port = 21928) =>
      new Promise<void>((resolve, reject) =>
        socket.send(
          new Uint8Array(bytes),
          port,
          IPMIDI_GROUP,
          (e) => e ? reject(e) : resolve(),
        )
      ),
    close: () => new Promise<void>((resolve) => socket.close(resolve)),
  };
}

Deno.test("ipMIDI sends one message a datagram, from a port of its own, and a long sysex in pieces", async () => {
  const group = await listener();
  const transport = await IpMidiTransport.open({
    port: 1,
    interface: "127.0.0.1",
    maxDatagramBytes: 16,
  });
  const port = new SocketPort(transport, { name: "ipmidi:1" });
  try {
    assert.notEqual(transport.localAddr.port, 21928);
    const sysex = message("sysex", {
      data: Array.from({ length: 30 }, (_, i) => i),
    });
    await port.send(message("note_on", { note: 60, velocity: 100 }));
    await port.send(sysex);
    await port.send(message("clock"));
    await waitFor(() => group.datagrams.length >= 4, "4 datagrams");
    await delay(50); // and no more
    const from = `127.0.0.1:${transport.localAddr.port}`;
    const bin = [...encode(sysex)];
    assert.equal(bin.length, 32);
    assert.deepEqual(group.datagrams, [
      { bytes: [0x90, 60, 100], from },
      { bytes: bin.slice(0, 16), from },
      { bytes: bin.slice(16), from },
      { bytes: [0xf8], from },
    ]);
    assert.equal(transport.stats.sentDatagrams, 4);
    // Its own datagrams came back to it, and were not heard as a sender's.
    await waitFor(() => transport.stats.ownDatagrams === 4, "4 own datagrams");
    assert.equal(transport.stats.receivedDatagrams, 0);
    assert.equal(port.poll(), undefined);
  } finally {
    await port.close();
    await transport.closed;
    await group.close();
  }
});

Deno.test("ipMIDI keeps each sender's sysex pieces and running status apart, and counts what makes no message", async () => {
  const a = await sender();
  const b = await sender();
  const transport = await IpMidiTransport.open({ port: 1 });
  const drops: string[] = [];
  transport.addEventListener("drop", (e) => {
    drops.push(`${e.reason} ${e.bytes}`);
  });
  const port = new SocketPort(transport, { name: "ipmidi:1" });
  try {
    await a.send([0xf0, 1, 2]); // a's sysex, begun
    await b.send([0x90, 60, 100, 61, 101]); // b: running status
    await a.send([3, 4, 0xf7]); // a's sysex, ended
    await b.send([62, 102]); // b's running status, in a new datagram
    await b.send([5, 6]); // and again
    await a.send([1, 2]); // a: data bytes with no status: dropped
    await a.send([0xfa]);
    const got = await receiveN(port, 6);
    assert.deepEqual(got, [
      message("note_on", { note: 60, velocity: 100 }),
      message("note_on", { note: 61, velocity: 101 }),
      message("sysex", { data: [1, 2, 3, 4] }),
      message("note_on", { note: 62, velocity: 102 }),
      message("note_on", { note: 5, velocity: 6 }),
      message("start"),
    ]);
    assert.deepEqual(drops, ["malformed 2"]);
    assert.equal(transport.stats.malformedBytes, 2);
    assert.equal(transport.stats.receivedDatagrams, 7);
  } finally {
    await port.close();
    await transport.closed;
    await a.close();
    await b.close();
  }
});

Deno.test("ipMIDI on port N uses UDP port 21928 + N - 1, and two transports hear each other once", async () => {
  const one = await IpMidiTransport.open({ port: 3 });
  const two = await IpMidiTransport.open({ port: 3, interface: "127.0.0.1" });
  const other = await IpMidiTransport.open({ port: 4 });
  const a = new SocketPort(one, { name: "a" });
  const b = new SocketPort(two, { name: "b" });
  const c = new SocketPort(other, { name: "c" });
  try {
    assert.equal(one.udpPort, 21930);
    await a.send(message("note_on", { note: 1 }));
    await b.send(message("note_on", { note: 2 }));
    assert.deepEqual(await receiveN(b, 1), [message("note_on", { note: 1 })]);
    assert.deepEqual(await receiveN(a, 1), [message("note_on", { note: 2 })]);
    await delay(100);
    assert.equal(a.poll(), undefined);
    assert.equal(b.poll(), undefined);
    assert.equal(c.poll(), undefined); // another port number
    assert.equal(one.stats.ownDatagrams, 1);
    assert.equal(two.stats.ownDatagrams, 1);
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
    await Promise.all([one.closed, two.closed, other.closed]);
  }
});

Deno.test("Two hubs on one ipMIDI group: a client's message reaches the other hub's client once, and never comes back", async () => {
  const group = await listener(21929);
  const hubs = [
    new PortServer("127.0.0.1", 0, { relay: true }),
    new PortServer("127.0.0.1", 0, { relay: true }),
  ];
  const links: IpMidiTransport[] = [];
  try {
    for (const hub of hubs) {
      const link = await IpMidiTransport.open({ port: 2 });
      links.push(link);
      hub.join(link, { name: "ipmidi:2", snapshot: false });
    }
    const alice = await connect("127.0.0.1", hubs[0].port);
    const bob = await connect("127.0.0.1", hubs[1].port);
    const carol = await connect("127.0.0.1", hubs[1].port);
    try {
      await waitFor(
        () => hubs[0].ports.length === 2 && hubs[1].ports.length === 3,
        "every client in",
      );
      const notes = Array.from(
        { length: 20 },
        (_, i) => message("note_on", { note: i, velocity: 1 + i }),
      );
      for (const note of notes) await alice.send(note);
      assert.deepEqual(await receiveN(bob, 20), notes);
      assert.deepEqual(await receiveN(carol, 20), notes);
      await delay(300); // anything more would have come by now
      assert.equal(bob.poll(), undefined); // once
      assert.equal(carol.poll(), undefined);
      assert.equal(alice.poll(), undefined); // never back
      // The group carried each note once: from hub A, not again from B.
      assert.equal(group.datagrams.length, 20);
      assert.ok(
        group.datagrams.every((d) =>
          d.from.endsWith(`:${links[0].localAddr.port}`)
        ),
      );
      assert.equal(links[1].stats.sentDatagrams, 0);
      assert.equal(links[0].stats.ownDatagrams, 20);
      // Carol answers: Alice hears it, through the group, once.
      await carol.send(message("stop"));
      assert.deepEqual(await within(alice.receive(), "stop"), message("stop"));
      assert.deepEqual(await receiveN(bob, 1), [message("stop")]);
      await delay(200);
      assert.equal(alice.poll(), undefined);
      assert.equal(carol.poll(), undefined);
      assert.equal(group.datagrams.length, 21);
    } finally {
      await Promise.all([alice.close(), bob.close(), carol.close()]);
    }
  } finally {
    await Promise.all(hubs.map((hub) => hub.close()));
    await Promise.all(links.map((link) => link.closed));
    await group.close();
  }
});

Deno.test("serve --ipmidi: the group is the client ipmidi:1, and what it sends that makes no message is a # drop line", async () => {
  const a = await sender();
  await using serve = midisock(["serve", "--ipmidi", "127.0.0.1:0"]);
  await serve.waitForMatch(
    "stderr",
    /^midisock: on ipMIDI port 1 \(225\.0\.0\.37:21928\)$/,
  );
  await serve.waitForMatch("stdout", /^# connect ipmidi:1$/);
  try {
    await a.send([0x90, 60, 100]);
    await a.send([0xf4, 1, 2]); // undefined, then data with no status
    await a.send([0xfc]);
    await serve.waitForMatch("stdout", /^ipmidi:1 stop time=0$/);
  } finally {
    await a.close();
  }
  serve.kill("SIGINT");
  const { code, stdout } = await serve.result();
  assert.equal(code, 0);
  const lines = stdout.trim().split("\n");
  // The drop is reported as the datagram is parsed, ahead of the messages
  // still on their way to the printer.
  const drop = "# drop ipmidi:1 skipped=3 discarded=0 oversized=0";
  assert.deepEqual(lines.filter((l) => l.startsWith("# drop")), [drop]);
  assert.deepEqual(lines.filter((l) => l !== drop), [
    "# connect ipmidi:1",
    "ipmidi:1 note_on channel=0 note=60 velocity=100 time=0",
    "ipmidi:1 stop time=0",
    "# disconnect ipmidi:1",
  ]);
});

Deno.test("serve --ipmidi keeps the group on the bus: cut off, ipmidi:1 joins again, and is heard", async () => {
  await using bus = new PortServer("127.0.0.1", 0, { relay: true });
  const link = await keepIpMidi(bus, { port: 1 });
  const a = await sender();
  try {
    const joined = () => bus.ports.find((p) => p.name === "ipmidi:1");
    const first = joined()!;
    assert.ok(first);
    // The hub lets it go (as it does a slow client, or after a failed send).
    await first.close();
    await waitFor(
      () => joined() !== undefined && joined() !== first,
      "ipmidi:1 on the bus again",
    );
    await a.send([0x90, 61, 99]);
    const { port, message: msg } = await within(
      bus.receiveWithPort(),
      "the note from the group",
    );
    assert.equal(port.name, "ipmidi:1");
    assert.deepEqual(msg, message("note_on", { note: 61, velocity: 99 }));
  } finally {
    await a.close();
    await link.stop();
  }
});

Deno.test("ipMIDI survives random datagrams: each is counted, and another sender is heard after them", async () => {
  const noise = await sender();
  const clean = await sender();
  const transport = await IpMidiTransport.open({ port: 1 });
  const port = new SocketPort(transport, { name: "ipmidi:1" });
  try {
    let seed = 7;
    const random = () =>
      (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 200; i++) {
      const length = Math.floor(random() * 64);
      await noise.send(
        Array.from({ length }, () => Math.floor(random() * 256)),
      );
    }
    await clean.send([0xf0, 0x7d, 1, 2, 3, 0xf7]);
    const marker = message("sysex", { data: [0x7d, 1, 2, 3] });
    const signal = AbortSignal.timeout(5000);
    while (true) {
      const msg = await port.receive({ signal });
      if (msg.type === "sysex" && msg.data.join() === marker.data.join()) break;
    }
    // Empty datagrams are datagrams too; every one was taken.
    await waitFor(
      () => transport.stats.receivedDatagrams === 201,
      "201 datagrams",
    );
  } finally {
    await port.close();
    await transport.closed;
    await noise.close();
    await clean.close();
  }
});
