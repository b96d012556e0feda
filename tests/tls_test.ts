// Copyright 2026 the midisock authors. MIT license.
// TLS: a server with a certificate from a throwaway CA (made with openssl at
// run time), clients that trust it, and clients that fail the handshake
// while the server keeps serving the others.

import assert from "node:assert/strict";
import { connect, message, PortServer, type RejectEvent } from "../mod.ts";
import { midisock, runMidisock } from "./_child.ts";
import { receiveN, waitFor } from "./_net.ts";
import { withCerts } from "./_tls.ts";
import { OPENSSL } from "./_peers.ts";

OPENSSL.test("A TLS server and a client that trusts its CA carry MIDI both ways", async () => {
  await withCerts(async ({ ca, cert, key }) => {
    await using server = new PortServer("127.0.0.1", 0, { tls: { cert, key } });
    await using client = await connect("127.0.0.1", server.port, {
      tls: { caCerts: [ca] },
    });
    await using peer = await server.accept();
    await client.send(message("note_on", { note: 60, velocity: 100 }));
    assert.deepEqual(await receiveN(peer, 1), [
      message("note_on", { note: 60, velocity: 100 }),
    ]);
    await peer.send(message("clock"));
    assert.deepEqual(await receiveN(client, 1), [message("clock")]);
    // localhost is in the certificate too.
    await using byName = await connect("localhost", server.port, {
      tls: { caCerts: [ca] },
    });
    await byName.send(message("stop"));
    assert.deepEqual(await receiveN(await server.accept(), 1), [
      message("stop"),
    ]);
  });
});

OPENSSL.test("A plain TCP client and a client that does not trust the CA are turned away; the TLS clients carry on", async () => {
  await withCerts(async ({ ca, cert, key }) => {
    await using server = new PortServer("127.0.0.1", 0, {
      relay: true,
      tls: { cert, key },
    });
    const rejects: RejectEvent[] = [];
    server.addEventListener("reject", (event) => rejects.push(event));
    const tls = { caCerts: [ca] };
    await using a = await connect("127.0.0.1", server.port, { tls });
    await using b = await connect("127.0.0.1", server.port, { tls });
    await waitFor(() => server.ports.length === 2, "2 TLS clients");

    // Plain MIDI bytes where a TLS hello should be.
    const plain = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    await plain.write(new Uint8Array([0x90, 60, 100]));
    // A client that trusts only the system's CAs.
    await assert.rejects(connect("127.0.0.1", server.port, { tls: true }), {
      name: "InvalidData",
      message: new RegExp(
        `^Cannot connect to 127\\.0\\.0\\.1:${server.port}: invalid peer certificate`,
      ),
    });
    await waitFor(() => rejects.length === 2, "2 rejects");
    plain.close();
    assert.equal(server.stats.rejected, 2);
    for (const event of rejects) {
      assert.match(event.reason, /^TLS handshake failed: /);
      assert.match(event.address, /^127\.0\.0\.1:\d+$/);
    }
    assert.equal(server.stats.received, 0, "nothing of them was read");

    await a.send(message("note_on", { note: 64 }));
    assert.deepEqual(await receiveN(b, 1), [message("note_on", { note: 64 })]);
    assert.equal(server.ports.length, 2);
  });
});

OPENSSL.test("midisock serve --tls-cert --tls-key with send --ca and monitor --ca", async () => {
  await withCerts(async ({ files }) => {
    await using serve = midisock([
      "serve",
      "--relay",
      "--tls-cert",
      files.cert,
      "--tls-key",
      files.key,
      "127.0.0.1:0",
    ]);
    const [, port] = await serve.waitForMatch(
      "stderr",
      /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
    );
    const address = `127.0.0.1:${port}`;
    await using monitor = midisock(["monitor", "--ca", files.ca, address]);
    await serve.waitForCount(1, (l) => l.startsWith("# connect"), "monitor");
    const sent = await runMidisock([
      "send",
      "--ca",
      files.ca,
      address,
      "start",
    ]);
    assert.deepEqual(sent, { code: 0, signal: null, stdout: "", stderr: "" });
    await monitor.waitForCount(1, (l) => l.endsWith(" start time=0"), "start");
    // A client that does not trust the CA fails, and says why.
    const untrusted = await runMidisock(["send", "--tls", address, "stop"]);
    assert.equal(untrusted.code, 1);
    assert.match(
      untrusted.stderr,
      new RegExp(
        `^midisock: error: Cannot connect to 127\\.0\\.0\\.1:${port}: invalid peer certificate`,
      ),
    );
    await serve.waitForCount(1, (l) => l.startsWith("# reject"), "reject");
    const half = await runMidisock(["serve", "--tls-cert", files.cert, ":0"]);
    assert.equal(half.code, 2);
    assert.equal(
      half.stderr,
      "midisock: error: --tls-cert and --tls-key go together (see midisock serve --help)\n",
    );
    serve.kill("SIGTERM");
    assert.equal((await serve.result()).code, 0);
  });
});

Deno.test("connect() with TLS to a peer that never answers gives up at its signal", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept(); // and then says nothing
  const t0 = Date.now();
  await assert.rejects(
    connect("127.0.0.1", listener.addr.port, {
      tls: true,
      signal: AbortSignal.timeout(300),
    }),
    { name: "TimeoutError" },
  );
  assert.ok(Date.now() - t0 < 5000, "it gave up in time");
  (await accepted).close();
});

Deno.test("connect() with TLS to a plaintext server fails at once, saying so, and the server carries on", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  const rejects: RejectEvent[] = [];
  server.addEventListener("reject", (event) => rejects.push(event));
  await assert.rejects(
    connect("127.0.0.1", server.port, {
      tls: true,
      signal: AbortSignal.timeout(5000),
    }),
    {
      message: new RegExp(
        `^Cannot connect to 127\\.0\\.0\\.1:${server.port}: the TLS handshake failed \\(does the server speak TLS\\?\\): `,
      ),
    },
  );
  await waitFor(() => rejects.length === 1, "the reject");
  assert.equal(rejects[0].reason, "TLS client on a plaintext port");
  // Nothing of the TLS client's hello was read as MIDI: the first message
  // the server gets is a plain client's.
  await using plain = await connect("127.0.0.1", server.port);
  await plain.send(message("start"));
  assert.deepEqual(await receiveN(server, 1), [message("start")]);
  assert.equal(server.stats.received, 1);
});
