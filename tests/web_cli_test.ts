// Copyright 2026 the midisock authors. MIT license.
// `midisock serve --web`: the browser gateway from the command line, run as
// a user runs it, with Deno's WebSocket client standing for the page (the
// page itself is tested in Chromium by tests/web_test.ts).

import assert from "node:assert/strict";
import { connect, message, SocketPort, WebSocketTransport } from "../mod.ts";
import { type Child, midisock, runMidisock } from "./_child.ts";
import { withCerts } from "./_tls.ts";
import { upgradeStatus } from "./_ws.ts";
import { within } from "./_net.ts";
import { OPENSSL } from "./_peers.ts";

/** Waits for serve's "web page at" line: the page's URL and its port. */
async function webPage(serve: Child, scheme = "http") {
  const [, url, port] = await serve.waitForMatch(
    "stderr",
    new RegExp(`^midisock: web page at (${scheme}://127\\.0\\.0\\.1:(\\d+)/)$`),
  );
  return { url, port: Number(port) };
}

Deno.test("midisock serve --web serves the page, and a WebSocket client is one more client of the bus", async () => {
  await using serve = midisock([
    "serve",
    "--relay",
    "--web",
    "0",
    "127.0.0.1:0",
  ]);
  const [, tcpPort] = await serve.waitForMatch(
    "stderr",
    /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
  );
  const { url, port: webPort } = await webPage(serve);
  const page = await fetch(url);
  assert.match(await page.text(), /<title>midisock<\/title>/);
  const ws = new WebSocket(new URL("/ws", url));
  await using browser = new SocketPort(new WebSocketTransport(ws), {
    hello: { name: "page" },
  });
  await serve.waitForCount(1, (l) => l.startsWith("# connect"), "the page");
  await using tcp = await connect("127.0.0.1", Number(tcpPort));
  await serve.waitForCount(2, (l) => l.startsWith("# connect"), "two");
  await browser.send(message("note_on", { note: 60, velocity: 100 }));
  assert.deepEqual(
    await tcp.receive(),
    message("note_on", { note: 60, velocity: 100 }),
  );
  await tcp.send(message("stop"));
  assert.deepEqual(await browser.receive(), message("stop"));
  assert.equal(
    await upgradeStatus(webPort, "https://evil.example"),
    "HTTP/1.1 403 Forbidden",
  );
  await serve.waitForCount(1, (l) => l.startsWith("# reject"), "a reject");
  // A page whose own name was made to point here (DNS rebinding).
  assert.equal(
    await upgradeStatus(webPort, `http://evil.example:${webPort}`, {
      host: `evil.example:${webPort}`,
    }),
    "HTTP/1.1 403 Forbidden",
  );
  // A malformed upgrade: 400 and a # reject line, and no stack trace.
  assert.equal(
    await upgradeStatus(webPort, undefined, { noConnection: true }),
    "HTTP/1.1 400 Bad Request",
  );
  await serve.waitForCount(3, (l) => l.startsWith("# reject"), "3 rejects");
  serve.kill("SIGTERM");
  assert.equal((await serve.result()).code, 0);
  assert.deepEqual(serve.stderr, [
    `midisock: listening on 127.0.0.1:${tcpPort}`,
    `midisock: web page at ${url}`,
  ]);
  assert.ok(
    serve.stdout.includes("page note_on channel=0 note=60 velocity=100 time=0"),
    serve.stdout.join("\n"),
  );
  assert.ok(
    serve.stdout.some((l) =>
      /^# reject 127\.0\.0\.1:\d+ origin https:\/\/evil\.example is not allowed$/
        .test(l)
    ),
    serve.stdout.join("\n"),
  );
  const rejects = serve.stdout.filter((l) => l.startsWith("# reject"));
  assert.match(
    rejects[1],
    /^# reject 127\.0\.0\.1:\d+ host evil\.example is not allowed$/,
  );
  assert.match(
    rejects[2],
    /^# reject 127\.0\.0\.1:\d+ bad WebSocket upgrade: .+$/,
  );
});

Deno.test("midisock serve --web-origin lets another site's page in, and needs --web", async () => {
  await using serve = midisock([
    "serve",
    "--web",
    "127.0.0.1:0",
    "--web-origin",
    "https://studio.example",
    "--web-host",
    "studio.local",
    "127.0.0.1:0",
  ]);
  const { port: webPort } = await webPage(serve);
  assert.equal(
    await upgradeStatus(webPort, "https://studio.example"),
    "HTTP/1.1 101 Switching Protocols",
  );
  // --web-host: a name that the gateway answers to, with its own origin.
  const studio = `studio.local:${webPort}`;
  assert.equal(
    await upgradeStatus(webPort, `http://${studio}`, { host: studio }),
    "HTTP/1.1 101 Switching Protocols",
  );
  serve.kill("SIGTERM");
  assert.equal((await serve.result()).code, 0);

  // Usage errors: exit 2, and one line that names what is wrong.
  for (
    const [args, stderr] of [
      [
        ["--web-origin", "https://a.example"],
        "--web-origin needs --web (see midisock serve --help)",
      ],
      [
        ["--web-host", "studio.local"],
        "--web-host needs --web (see midisock serve --help)",
      ],
      [
        ["--web", "0", "--web-host", "a b", "127.0.0.1:0"],
        'Invalid host "a b": expected a name or an address, such as "studio.local" (see midisock serve --help)',
      ],
      [
        ["--web", "0", "--web-origin", "a.example", "127.0.0.1:0"],
        'Invalid origin "a.example": expected scheme://host[:port], such as "https://studio.example" (see midisock serve --help)',
      ],
      [
        ["--web", "[fe80::1%eth0]:0", "127.0.0.1:0"],
        'Invalid host "fe80::1%eth0": a browser cannot open an IPv6 address with a zone (%eth0); listen on every interface ("::") and give this machine a name that resolves to it, such as "studio.local" (see midisock serve --help)',
      ],
      [
        ["--web", "x:y", "127.0.0.1:0"],
        'Invalid --web address: Invalid address "x:y": port "y" is not an integer',
      ],
    ]
  ) {
    assert.deepEqual(await runMidisock(["serve", ...args]), {
      code: 2,
      signal: null,
      stdout: "",
      stderr: `midisock: error: ${stderr}\n`,
    });
  }
});

Deno.test("midisock serve --web on every interface warns when it cannot read this machine's addresses", async () => {
  // The test's midisock runs without --allow-sys=networkInterfaces.
  await using serve = midisock(["serve", "--web", "0.0.0.0:0", "127.0.0.1:0"]);
  await serve.waitForMatch(
    "stderr",
    /^midisock: warning: the web page answers only to localhost, 127\.0\.0\.1, \[::1\] and --web-host names; run with --allow-sys=networkInterfaces to let it answer to this machine's addresses$/,
  );
  serve.kill("SIGTERM");
  assert.equal((await serve.result()).code, 0);
});

OPENSSL.test("midisock serve --web with --tls-cert and --tls-key serves the page over HTTPS, and a WSS client and a TLS client hear each other", async () => {
  await withCerts(async ({ files, ca }) => {
    await using serve = midisock([
      "serve",
      "--relay",
      "--tls-cert",
      files.cert,
      "--tls-key",
      files.key,
      "--web",
      "0",
      "127.0.0.1:0",
    ]);
    const [, tcpPort] = await serve.waitForMatch(
      "stderr",
      /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
    );
    const { port: webPort } = await webPage(serve, "https");
    // A GET over TLS, trusting the test CA.
    {
      using conn = await Deno.connectTls({
        hostname: "localhost",
        port: webPort,
        caCerts: [ca],
      });
      await conn.write(
        new TextEncoder().encode(
          "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        ),
      );
      const buf = new Uint8Array(256);
      const n = await within(conn.read(buf), "the HTTPS answer");
      assert.match(
        new TextDecoder().decode(buf.subarray(0, n ?? 0)),
        /^HTTP\/1\.1 200 OK\r\n/,
      );
    }
    // A WebSocket over TLS (wss:), by an HTTP client that trusts the CA.
    using client = Deno.createHttpClient({ caCerts: [ca] });
    const ws = new WebSocket(`wss://localhost:${webPort}/ws`, { client });
    await using page = new SocketPort(new WebSocketTransport(ws), {
      hello: { name: "page" },
    });
    await serve.waitForCount(1, (l) => l.startsWith("# connect"), "the page");
    await using tcp = await connect("localhost", Number(tcpPort), {
      tls: { caCerts: [ca] },
    });
    await serve.waitForCount(2, (l) => l.startsWith("# connect"), "two");
    await page.send(message("note_on", { note: 61, velocity: 90 }));
    assert.deepEqual(
      await tcp.receive(),
      message("note_on", { note: 61, velocity: 90 }),
    );
    await tcp.send(message("control_change", { control: 64, value: 127 }));
    assert.deepEqual(
      await page.receive(),
      message("control_change", { control: 64, value: 127 }),
    );
    assert.equal(page.stats.skippedBytes, 0);
    serve.kill("SIGTERM");
    assert.equal((await serve.result()).code, 0);
    assert.ok(
      serve.stdout.includes(
        "page note_on channel=0 note=61 velocity=90 time=0",
      ),
      serve.stdout.join("\n"),
    );
  });
});
