// Copyright 2026 the midisock authors. MIT license.
// WebSocketTransport and WebGateway without a browser: Deno's own WebSocket
// client, fetch, and a raw TCP request where a test must send an Origin.

import assert from "node:assert/strict";
import {
  connect,
  encode,
  formatMessage,
  message,
  MidiParser,
  PortClosedError,
  PortServer,
  type RejectEvent,
  SocketPort,
  WebGateway,
  WebSocketTransport,
} from "../mod.ts";
import { parseLine } from "../src/transport/hello.ts";
import { Child, DENO } from "./_child.ts";
import { openSocket, rawUpgrade, upgradeStatus } from "./_ws.ts";

const PEER = new URL("./fixtures/py_net_peer.py", import.meta.url).pathname;
import {
  HAS_IPV6_LOOPBACK,
  memoryPair,
  PYTHON,
  randomMessages,
  receiveN,
  waitFor,
} from "./_net.ts";
import { MIDO } from "./_peers.ts";

/** An HTTP server whose WebSockets come out as transports. */
function wsServer(
  options: ConstructorParameters<typeof WebSocketTransport>[1] = {},
) {
  const sockets: WebSocketTransport[] = [];
  const waiters: ((t: WebSocketTransport) => void)[] = [];
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req, info) => {
      // The address first: the request is gone once it is upgraded.
      const remoteAddr = info.remoteAddr;
      const { socket, response } = Deno.upgradeWebSocket(req);
      const transport = new WebSocketTransport(socket, {
        ...options,
        remoteAddr,
      });
      const waiter = waiters.shift();
      if (waiter) waiter(transport);
      else sockets.push(transport);
      return response;
    },
  );
  return {
    url: `ws://127.0.0.1:${http.addr.port}/`,
    next(): Promise<WebSocketTransport> {
      const ready = sockets.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve) => waiters.push(resolve));
    },
    async [Symbol.asyncDispose]() {
      for (const t of sockets) t.close();
      await http.shutdown();
    },
  };
}

Deno.test("WebSocketTransport carries every message type both ways, byte for byte", async () => {
  await using http = wsServer();
  const ws = new WebSocket(http.url);
  await using client = new SocketPort(new WebSocketTransport(ws));
  await using server = new SocketPort(await http.next());
  const messages = randomMessages(7, 600);
  for (const msg of messages) await client.send(msg);
  assert.deepEqual(await receiveN(server, messages.length), messages);
  for (const msg of messages) await server.send(msg);
  assert.deepEqual(await receiveN(client, messages.length), messages);
  assert.equal(server.stats.skippedBytes, 0);
});

Deno.test("WebSocketTransport reads a message split across frames, and a hello line in a text frame", async () => {
  await using http = wsServer();
  const { ws, end } = await openSocket(http.url);
  const transport = await http.next();
  await using port = new SocketPort(transport, { readHello: true });
  ws.send("MIDISOCK/1 name=keys\n");
  ws.send(new Uint8Array([0x90]));
  ws.send(new Uint8Array([60, 100, 0x80]));
  ws.send(new Uint8Array([60, 0]));
  assert.deepEqual(await receiveN(port, 2), [
    message("note_on", { note: 60, velocity: 100 }),
    message("note_off", { note: 60, velocity: 0 }),
  ]);
  assert.equal(port.name, "keys");
  await port.close();
  assert.equal((await end).code, 1000);
});

Deno.test("WebSocketTransport.close(reason) gives the peer code 4000 and the reason, cut to 123 bytes", async () => {
  await using http = wsServer();
  const { end } = await openSocket(http.url);
  const transport = await http.next();
  transport.close(`wrong token ${"é".repeat(100)}`);
  const event = await end;
  assert.equal(event.code, 4000);
  assert.ok(event.reason.startsWith("wrong token é"));
  assert.ok(event.reason.endsWith("..."));
  assert.ok(new TextEncoder().encode(event.reason).length <= 123);
});

Deno.test("WebSocketTransport closes a socket whose unread frames would pass maxUnreadBytes, with 1008, and errors its readable", async () => {
  await using http = wsServer({ maxUnreadBytes: 10 });
  const { ws, end } = await openSocket(http.url);
  const transport = await http.next();
  // 8 bytes wait; 8 more would make 16.
  ws.send(new Uint8Array(8));
  ws.send(new Uint8Array(8));
  const event = await end;
  assert.equal(event.code, 1008);
  assert.equal(event.reason, "more than 10 bytes received and not yet read");
  // The port sees a failed connection; what it held goes with it.
  await assert.rejects(
    transport.readable.getReader().read(),
    new Error("WebSocket closed: more than 10 bytes received and not yet read"),
  );
});

Deno.test("WebSocketTransport closes a socket at once for one frame over maxUnreadBytes, with 1009, and says why to onLimit", async () => {
  const limits: string[] = [];
  await using http = wsServer({
    maxUnreadBytes: 10,
    onLimit: (reason) => limits.push(reason),
  });
  const { ws, end } = await openSocket(http.url);
  const transport = await http.next();
  // A reader waits, so nothing is unread: the one frame is too big alone.
  const read = assert.rejects(
    transport.readable.getReader().read(),
    new Error(
      "WebSocket closed: a frame of 11 bytes, over maxUnreadBytes (10)",
    ),
  );
  ws.send(new Uint8Array(11));
  const event = await end;
  assert.equal(event.code, 1009);
  assert.equal(event.reason, "a frame of 11 bytes, over maxUnreadBytes (10)");
  await read;
  assert.deepEqual(limits, ["a frame of 11 bytes, over maxUnreadBytes (10)"]);
});

Deno.test("WebSocketTransport rejects bad options by name", () => {
  const ws = { binaryType: "", readyState: 0 } as unknown as WebSocket;
  assert.throws(
    () => new WebSocketTransport(ws, { maxUnreadBytes: 0 }),
    new RangeError(
      "Invalid maxUnreadBytes option: expected an integer >= 1, got 0",
    ),
  );
  assert.throws(
    () => new WebSocketTransport(ws, { maxBufferedAmount: 1.5 }),
    /Invalid maxBufferedAmount option/,
  );
});

Deno.test("WebGateway serves the page, its script, and nothing else", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  const page = await fetch(web.url);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  const html = await page.text();
  assert.match(html, /<script type="module" src="\/midisock.js"><\/script>/);
  assert.match(html, /id="status"/);
  const script = await fetch(new URL("/midisock.js", web.url));
  assert.equal(
    script.headers.get("content-type"),
    "text/javascript; charset=utf-8",
  );
  assert.match(await script.text(), /MIDISOCK\/1/);
  const missing = await fetch(new URL("/nothing", web.url));
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  const post = await fetch(web.url, { method: "POST", body: "x" });
  assert.equal(post.status, 405);
  await post.body?.cancel();
  const plain = await fetch(new URL("/ws", web.url));
  assert.equal(plain.status, 426);
  await plain.body?.cancel();
  assert.equal(web.stats.requests, 5);
  assert.equal(web.url, `http://127.0.0.1:${web.port}/`);
});

Deno.test("WebGateway refuses a WebSocket from a foreign Origin, and lets in its own and the ones in origins", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  await using web = new WebGateway(server, {
    hostname: "127.0.0.1",
    origins: ["https://studio.example"],
  });
  const rejected: RejectEvent[] = [];
  web.addEventListener("reject", (event) => rejected.push(event));
  assert.equal(
    await upgradeStatus(web.port, "https://evil.example"),
    "HTTP/1.1 403 Forbidden",
  );
  assert.equal(rejected.length, 1);
  assert.equal(
    rejected[0].reason,
    "origin https://evil.example is not allowed",
  );
  assert.match(rejected[0].address, /^127\.0\.0\.1:\d+$/);
  assert.equal(web.stats.rejected, 1);
  assert.equal(
    await upgradeStatus(web.port, "https://studio.example"),
    "HTTP/1.1 101 Switching Protocols",
  );
  assert.equal(
    await upgradeStatus(web.port, `http://127.0.0.1:${web.port}`),
    "HTTP/1.1 101 Switching Protocols",
  );
  assert.equal(web.stats.rejected, 1);
  await waitFor(() => web.stats.sockets === 2, "two sockets opened");
});

Deno.test("WebGateway refuses a request for a Host that is not one of its names (DNS rebinding), and takes its own and the ones in hosts", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  await using web = new WebGateway(server, {
    hostname: "127.0.0.1",
    hosts: ["Studio.local"],
  });
  const rejected: RejectEvent[] = [];
  web.addEventListener("reject", (event) => rejected.push(event));
  const p = web.port;
  // A page at evil.example:P whose name now points at 127.0.0.1: its
  // Origin is the same as its Host, so only the Host tells.
  assert.equal(
    await upgradeStatus(p, `http://evil.example:${p}`, {
      host: `evil.example:${p}`,
    }),
    "HTTP/1.1 403 Forbidden",
  );
  // Nor may it read the page.
  using conn = await Deno.connect({ hostname: "127.0.0.1", port: p });
  await conn.write(
    new TextEncoder().encode(
      `GET / HTTP/1.1\r\nHost: evil.example:${p}\r\nConnection: close\r\n\r\n`,
    ),
  );
  const answer = await new Response(conn.readable).text();
  assert.match(answer, /^HTTP\/1\.1 403 Forbidden\r\n/);
  assert.match(answer, /Forbidden: host evil\.example is not allowed\n$/);
  assert.deepEqual(rejected.map((e) => e.reason), [
    "host evil.example is not allowed",
    "host evil.example is not allowed",
  ]);
  assert.match(rejected[0].address, /^127\.0\.0\.1:\d+$/);
  assert.equal(web.stats.rejected, 2);
  // Its own names, each with its own origin, and a name given in hosts.
  for (const host of ["127.0.0.1", "localhost", "[::1]", "studio.local"]) {
    assert.equal(
      await upgradeStatus(p, `http://${host}:${p}`, { host: `${host}:${p}` }),
      "HTTP/1.1 101 Switching Protocols",
      host,
    );
  }
  // A page of its own name at another port is another origin.
  assert.equal(
    await upgradeStatus(p, `http://localhost:${p + 1}`, {
      host: `localhost:${p}`,
    }),
    "HTTP/1.1 403 Forbidden",
  );
  assert.equal(web.stats.rejected, 3);
  assert.throws(
    () => new WebGateway(server, { hosts: ["a b"] }),
    new SyntaxError(
      'Invalid host "a b": expected a name or an address, such as "studio.local"',
    ),
  );
  // No browser opens a URL with a zone: refused before anything listens.
  const zoned = new SyntaxError(
    'Invalid host "fe80::1%eth0": a browser cannot open an IPv6 address with a zone (%eth0); listen on every interface ("::") and give this machine a name that resolves to it, such as "studio.local"',
  );
  assert.throws(
    () => new WebGateway(server, { hostname: "fe80::1%eth0" }),
    zoned,
  );
  assert.throws(
    () => new WebGateway(server, { hosts: ["fe80::1%eth0"] }),
    zoned,
  );
});

Deno.test("WebGateway on every interface answers to the loopbacks, and refuses a name it does not know", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using web = new WebGateway(server, { hostname: "0.0.0.0" });
  assert.equal(web.url, `http://localhost:${web.port}/`);
  const get = async (host: string) => {
    using conn = await Deno.connect({ hostname: "127.0.0.1", port: web.port });
    await conn.write(
      new TextEncoder().encode(
        `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const answer = await new Response(conn.readable).text();
    return answer.split("\r\n")[0];
  };
  assert.equal(await get(`127.0.0.1:${web.port}`), "HTTP/1.1 200 OK");
  assert.equal(await get(`localhost:${web.port}`), "HTTP/1.1 200 OK");
  assert.equal(await get("rebound.example"), "HTTP/1.1 403 Forbidden");
  // "0.0.0.0" is where it listens, not a name it is found by.
  assert.equal(await get(`0.0.0.0:${web.port}`), "HTTP/1.1 403 Forbidden");
  assert.equal(web.stats.rejected, 2);
});

Deno.test("WebGateway answers a malformed WebSocket upgrade with 400, counted and reported", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  const rejected: RejectEvent[] = [];
  web.addEventListener("reject", (event) => rejected.push(event));
  // Upgrade: websocket, but no Connection: Upgrade.
  assert.equal(
    await upgradeStatus(web.port, undefined, { noConnection: true }),
    "HTTP/1.1 400 Bad Request",
  );
  assert.equal(web.stats.rejected, 1);
  assert.equal(rejected.length, 1);
  assert.match(rejected[0].reason, /^bad WebSocket upgrade: .+/);
  assert.equal(web.stats.sockets, 0);
});

Deno.test("A WebSocket that sends one frame over 1 MiB before its hello line is closed at once with 1009, counted and reported", async () => {
  await using server = new PortServer("127.0.0.1", 0, { token: "s3cret" });
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  const rejected: RejectEvent[] = [];
  web.addEventListener("reject", (event) => rejected.push(event));
  const { ws, end } = await openSocket(new URL("/ws", web.url).href);
  await waitFor(() => web.stats.sockets === 1, "the socket handed over");
  ws.send(new Uint8Array(1024 * 1024 + 1));
  const event = await end;
  assert.equal(event.code, 1009);
  const reason = "a frame of 1048577 bytes, over maxUnreadBytes (1048576)";
  assert.equal(event.reason, reason);
  assert.equal(web.stats.overLimit, 1);
  assert.deepEqual(rejected.map((e) => e.reason), [reason]);
  assert.match(rejected[0].address, /^127\.0\.0\.1:\d+$/);
  // The server never took it in.
  await waitFor(() => server.stats.rejected === 1, "the server's reject");
  assert.equal(server.ports.length, 0);
});

Deno.test({
  name:
    "WebGateway on localhost fails when the port is taken on ::1, naming localhost:PORT, rather than serve 127.0.0.1 alone",
  ignore: !HAS_IPV6_LOOPBACK,
  async fn() {
    await using server = new PortServer("127.0.0.1", 0);
    using held = Deno.listen({ hostname: "::1", port: 0 });
    const port = held.addr.port;
    assert.throws(
      () => new WebGateway(server, { hostname: "localhost", port }),
      (error: Error) =>
        error instanceof Deno.errors.AddrInUse &&
        error.message.startsWith(`Cannot listen on localhost:${port}: `),
    );
    // With port 0 it finds a port free in both families.
    await using web = new WebGateway(server, { hostname: "localhost" });
    assert.deepEqual(web.addrs.map((a) => [a.hostname, a.port]), [
      ["127.0.0.1", web.port],
      ["::1", web.port],
    ]);
  },
});

Deno.test("WebGateway rejects a bad origin or port by name, and a port in use names host:port", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  assert.throws(
    () => new WebGateway(server, { origins: ["studio.example"] }),
    new SyntaxError(
      'Invalid origin "studio.example": expected scheme://host[:port], such as "https://studio.example"',
    ),
  );
  assert.throws(
    () => new WebGateway(server, { origins: ["https://a.example/page"] }),
    /Invalid origin "https:\/\/a.example\/page": expected scheme:\/\/host\[:port\] with no path/,
  );
  assert.throws(
    () => new WebGateway(server, { port: 70000 }),
    new RangeError(
      "Invalid port for the web gateway: expected an integer in 0..65535, got 70000",
    ),
  );
  await using taken = new WebGateway(server, { hostname: "127.0.0.1" });
  assert.throws(
    () => new WebGateway(server, { hostname: "127.0.0.1", port: taken.port }),
    (error: Error) =>
      error instanceof Deno.errors.AddrInUse &&
      error.message.startsWith(`Cannot listen on 127.0.0.1:${taken.port}: `),
  );
});

Deno.test("A WebSocket client and a TCP client hear each other on a bus", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  const ws = new WebSocket(new URL("/ws", web.url));
  await using browser = new SocketPort(new WebSocketTransport(ws), {
    hello: { name: "page" },
  });
  await using tcp = await connect("127.0.0.1", server.port);
  // Without a token, a client is taken in first and named by its hello
  // line when it comes.
  await waitFor(
    () =>
      server.ports.length === 2 && server.ports.some((p) => p.name === "page"),
    "two clients, the page named",
  );
  assert.deepEqual(
    server.ports.map((p) => p.name).sort(),
    [
      `127.0.0.1:${tcp.localAddr.port}`,
      "page",
    ].sort(),
  );
  await browser.send(message("note_on", { note: 61 }));
  assert.deepEqual(await tcp.receive(), message("note_on", { note: 61 }));
  await tcp.send(message("control_change", { control: 7, value: 90 }));
  assert.deepEqual(
    await browser.receive(),
    message("control_change", { control: 7, value: 90 }),
  );
  assert.equal(server.stats.relayed, 2);
});

Deno.test("A server's allow-list, maxClients and token apply to WebSocket clients, and the page learns why it was refused", async () => {
  await using tcpBus = new PortServer("127.0.0.1", 0, { maxClients: 1 });
  await using allowBus = new PortServer("127.0.0.1", 0, {
    allow: ["10.0.0.0/8"],
  });
  await using tokenBus = new PortServer("127.0.0.1", 0, { token: "s3cret" });
  const reasons: string[] = [];
  for (const bus of [tcpBus, allowBus, tokenBus]) {
    bus.addEventListener("reject", (event) => reasons.push(event.reason));
  }
  const refusal = async (bus: PortServer, hello?: string) => {
    await using web = new WebGateway(bus, { hostname: "127.0.0.1" });
    const { ws, end } = await openSocket(new URL("/ws", web.url).href);
    if (hello && ws.readyState === WebSocket.OPEN) ws.send(hello);
    const event = await end;
    return `${event.code} ${event.reason}`;
  };
  await using _first = await connect("127.0.0.1", tcpBus.port);
  await waitFor(() => tcpBus.accept({ block: false }) !== null, "a client");
  assert.equal(await refusal(tcpBus), "4000 over maxClients (1)");
  assert.equal(await refusal(allowBus), "4000 not on the allow-list");
  assert.equal(
    await refusal(tokenBus, "MIDISOCK/1 name=page token=guess\n"),
    "4000 wrong token",
  );
  assert.equal(
    await refusal(tokenBus, "MIDISOCK/1 name=page\n"),
    "4000 no token in the hello line",
  );
  assert.deepEqual(reasons, [
    "over maxClients (1)",
    "not on the allow-list",
    "wrong token",
    "no token in the hello line",
  ]);
  // And the right token lets it in, named by its hello line.
  await using web = new WebGateway(tokenBus, { hostname: "127.0.0.1" });
  const ws = new WebSocket(new URL("/ws", web.url));
  await using page = new SocketPort(new WebSocketTransport(ws), {
    hello: { name: "page", token: "s3cret" },
  });
  await page.send(message("start"));
  const { port, message: msg } = await tokenBus.receiveWithPort();
  assert.deepEqual([port.name, msg], ["page", message("start")]);
});

Deno.test("Closing a WebGateway closes its WebSockets, whose clients leave the bus", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  const web = new WebGateway(server, { hostname: "127.0.0.1" });
  const { end } = await openSocket(new URL("/ws", web.url).href);
  await waitFor(() => server.ports.length === 1, "the client");
  await web.close();
  // 1000 from the transport's close, or 1001 (going away) if the HTTP
  // server's shutdown sends its close frame first.
  assert.ok([1000, 1001].includes((await end).code));
  await waitFor(() => server.ports.length === 0, "the client gone");
  assert.equal(web.closed, true);
});

Deno.test("PortServer.admit() on a closed server throws PortClosedError", async () => {
  const server = new PortServer("127.0.0.1", 0);
  await server.close();
  const [transport, other] = memoryPair();
  assert.throws(() => server.admit(transport), PortClosedError);
  transport.close();
  other.close();
});

Deno.test("The page's script in src/gateway/_web_assets.ts is what web/ and src/ build now", async () => {
  const build = new URL("../web/build.ts", import.meta.url).pathname;
  const { code, stdout, stderr } = await new Deno.Command(DENO, {
    args: [
      "run",
      "--allow-run",
      "--allow-read",
      "--allow-env",
      build,
      "--check",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout) +
    new TextDecoder().decode(stderr);
  assert.equal(code, 0, text);
  assert.match(text, /src\/gateway\/_web_assets.ts is up to date/);
});

Deno.test("A WebSocket client that reads nothing is cut off as a slow client, as a TCP client is, and the others carry on", async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    relay: true,
    maxQueuedBytes: 64 * 1024,
    slowClientTimeout: 200,
  });
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  const slow: string[] = [];
  server.addEventListener("slowclient", (e) => slow.push(e.port.name));
  // A WebSocket that is opened by hand and then never read: the server's
  // socket buffer fills, its writes wait (bufferedAmount), and its queue
  // grows as a TCP client's does.
  using _stuck = await rawUpgrade(web.port);
  await using tcp = await connect("127.0.0.1", server.port);
  await waitFor(() => server.ports.length === 2, "two clients");
  const data = new Uint8Array(16 * 1024);
  for (let i = 0; server.hub.stats.slowClients === 0 && i < 2000; i++) {
    await server.send(message("sysex", { data }));
    await tcp.receive(); // the TCP client reads everything
  }
  // The event comes once the client is closed: after the write in flight,
  // which its socket never takes, gives up at closeTimeout.
  await waitFor(() => slow.length === 1, "the slowclient event");
  assert.equal(slow.length, 1);
  assert.match(slow[0], /^127\.0\.0\.1:\d+$/);
  assert.equal(server.stats.slowClients, 1);
  await waitFor(() => server.ports.length === 1, "the slow client gone");
  await server.send(message("stop"));
  assert.deepEqual(await tcp.receive(), message("stop"));
});

/** Every frame a WebSocket receives: text as a string, binary as bytes. */
function recordFrames(ws: WebSocket): (string | Uint8Array)[] {
  const frames: (string | Uint8Array)[] = [];
  ws.addEventListener("message", (event) => {
    frames.push(
      typeof event.data === "string"
        ? event.data
        : new Uint8Array(event.data as ArrayBuffer),
    );
  });
  return frames;
}

/**
 * The messages in recorded frames, in mido's text format, each after the
 * sender that the last sender line named (`-` before any; `server` for a
 * line with no name).
 */
function attribute(frames: readonly (string | Uint8Array)[]): string[] {
  const parser = new MidiParser();
  let sender = "-";
  const lines: string[] = [];
  for (const frame of frames) {
    if (typeof frame === "string") {
      const fields = parseLine(frame);
      assert.equal(typeof fields, "object", `a bad sender line: ${frame}`);
      sender = (fields as Record<string, string>).from ?? "server";
      continue;
    }
    for (const msg of parser.feed(frame)) {
      lines.push(`${sender} ${formatMessage(msg)}`);
    }
  }
  return lines;
}

MIDO.test("A WebSocket at /ws?senders=1 is told who sent each run of messages, in order with them; one without it, and a mido client, get plain MIDI only", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  const named = await openSocket(
    new URL("/ws?senders=1", web.url).href.replace(/^http/, "ws"),
  );
  const plain = await openSocket(
    new URL("/ws", web.url).href.replace(/^http/, "ws"),
  );
  const namedFrames = recordFrames(named.ws);
  const plainFrames = recordFrames(plain.ws);
  named.ws.send("MIDISOCK/1 name=named\n"); // a hello line in a text frame
  plain.ws.send("MIDISOCK/1 name=plain\n");
  await using keys = await connect("127.0.0.1", server.port, {
    hello: { name: "keys" },
  });
  await using pads = await connect("127.0.0.1", server.port, {
    hello: { name: "pads" },
  });
  // What keys and pads send, alternately, each relayed before the next.
  const steps = 40;
  const keysCC = (k: number) =>
    message("control_change", { channel: 0, control: 1, value: k });
  const padsCC = (k: number) =>
    message("control_change", { channel: 2, control: 2, value: k });
  await using mido = new Child(PYTHON, [
    PEER,
    "chat",
    "127.0.0.1",
    String(server.port),
    "1",
    "300",
    String(2 * steps + 3),
  ], { stdin: "go\n" });
  await mido.waitForMatch("stdout", /^connected$/);
  await waitFor(
    () =>
      server.ports.length === 5 &&
      server.ports.filter((p) => /^(named|plain)$/.test(p.name)).length === 2,
    "five clients, the WebSockets named by their hello lines",
  );
  // mido says no hello: it is named by its address.
  const midoName = server.ports.map((p) => p.name).find((name) =>
    !/^(named|plain|keys|pads)$/.test(name)
  );
  assert.match(midoName ?? "", /^127\.0\.0\.1:\d+$/);
  // mido's 300 polytouch, in chunks of any size, then the alternation.
  await waitFor(() => server.stats.relayed === 300, "mido's 300 relayed");
  for (let k = 0; k < steps; k++) {
    await keys.send(keysCC(k));
    await waitFor(() => server.stats.relayed === 300 + 2 * k + 1, "keys");
    await pads.send(padsCC(k));
    await waitFor(() => server.stats.relayed === 300 + 2 * k + 2, "pads");
  }
  await server.send(message("program_change", { program: 9 }));
  // keys leaves with a note held: the server releases it, as keys.
  await keys.send(message("note_on", { note: 60 }));
  await waitFor(() => server.stats.relayed === 2 * steps + 301, "the note");
  await keys.close();
  await waitFor(() => server.stats.releasedNotes === 1, "the release");
  const total = 300 + 2 * steps + 3;
  await waitFor(
    () => attribute(plainFrames).length === total,
    `${total} messages at the plain WebSocket`,
  );
  await waitFor(
    () => attribute(namedFrames).length === total,
    `${total} messages at the named WebSocket`,
  );
  const lines = attribute(namedFrames);
  // Every message carries the name of the client whose channel it is on.
  const senderOf = (line: string) => {
    const text = line.slice(line.indexOf(" ") + 1);
    if (text.startsWith("polytouch channel=1 ")) return midoName;
    if (text.startsWith("control_change channel=2 ")) return "pads";
    if (text.startsWith("program_change ")) return "server";
    return "keys";
  };
  for (const line of lines) {
    assert.equal(line.slice(0, line.indexOf(" ")), senderOf(line), line);
  }
  assert.deepEqual(lines.slice(300), [
    ...Array.from({ length: steps }, (_, k) => [
      `keys ${formatMessage(keysCC(k))}`,
      `pads ${formatMessage(padsCC(k))}`,
    ]).flat(),
    "server program_change channel=0 program=9 time=0",
    "keys note_on channel=0 note=60 velocity=64 time=0",
    "keys note_off channel=0 note=60 velocity=64 time=0",
  ]);
  // A line only where the sender changes: one for mido's run (however
  // many chunks it came in), and one for each step after it.
  const texts = namedFrames.filter((f) => typeof f === "string");
  assert.equal(texts.length, 1 + 2 * steps + 2);
  // The plain socket gets the same messages, as binary frames alone.
  assert.equal(plainFrames.filter((f) => typeof f === "string").length, 0);
  assert.deepEqual(
    attribute(plainFrames),
    lines.map((line) => `- ${line.slice(line.indexOf(" ") + 1)}`),
  );
  // mido reads plain MIDI: exactly what the others sent, and no text.
  const result = await mido.result();
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    result.stdout.trimEnd().split("\n").slice(1),
    lines.slice(300).map((line) => line.slice(line.indexOf(" ") + 1)),
  );
  named.ws.close();
  plain.ws.close();
  await Promise.all([named.end, plain.end]);
});

/** The WebSocket URL of a gateway's path. */
function wsURL(web: WebGateway, path: string): string {
  return new URL(path, web.url).href.replace(/^http/, "ws");
}

/** Recorded frames as plain values: text as is, binary as byte arrays. */
function plainFrames(frames: readonly (string | Uint8Array)[]) {
  return frames.map((f) => typeof f === "string" ? f : [...f]);
}

Deno.test("Sender lines stay right when sends wait for a page's full queue: each message is credited to its sender, in order", async () => {
  await using server = new PortServer("127.0.0.1", 0, {
    relay: true,
    maxQueuedBytes: 16, // a message and a line fill it: sends wait
    slowClient: "wait",
  });
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  const page = await openSocket(wsURL(web, "/ws?senders=1"));
  const frames = recordFrames(page.ws);
  await using keys = await connect("127.0.0.1", server.port, {
    hello: { name: "keys" },
  });
  await using pads = await connect("127.0.0.1", server.port, {
    hello: { name: "pads" },
  });
  await waitFor(
    () => server.ports.filter((p) => /^(keys|pads)$/.test(p.name)).length === 2,
    "keys and pads named",
  );
  const n = 300;
  const cc = (channel: number, k: number) =>
    message("control_change", { channel, control: k >> 7, value: k & 127 });
  // Both at once, unawaited: their messages contend for the page's queue.
  await Promise.all([0, 2].map(async (channel) => {
    const port = channel === 0 ? keys : pads;
    const sends = [];
    for (let k = 0; k < n; k++) sends.push(port.send(cc(channel, k)));
    await Promise.all(sends);
  }));
  await waitFor(() => attribute(frames).length === 2 * n, "every message");
  const lines = attribute(frames);
  for (const [name, channel] of [["keys", 0], ["pads", 2]] as const) {
    assert.deepEqual(
      lines.filter((line) => line.includes(` channel=${channel} `)),
      Array.from(
        { length: n },
        (_, k) => `${name} ${formatMessage(cc(channel, k))}`,
      ),
    );
  }
  page.ws.close();
  await page.end;
});

Deno.test("A server's port says when its own messages follow, even first; a bad message or no bytes sends no line; a long name is cut whole", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  const page = await openSocket(wsURL(web, "/ws?senders=1"));
  const frames = recordFrames(page.ws);
  await using peer = await server.accept();
  await peer.send(message("start")); // nothing was named before
  peer.enqueue(encode(message("clock")), "keys");
  peer.enqueue(new Uint8Array(0), "pads"); // no bytes: no line
  await assert.rejects(
    peer.send({ type: "note_on", channel: 0, note: 999, velocity: 1 }),
    /note/,
  );
  await peer.send(message("stop"));
  // 30 + 20 characters, 30 + 120 bytes encoded: cut to 64, at a character.
  const long = "x".repeat(30) + "é".repeat(20);
  peer.enqueue(encode(message("continue")), long);
  await waitFor(() => frames.length === 8, "8 frames");
  assert.deepEqual(plainFrames(frames), [
    "MIDISOCK/1",
    [0xfa],
    "MIDISOCK/1 from=keys",
    [0xf8],
    "MIDISOCK/1",
    [0xfc],
    `MIDISOCK/1 from=${"x".repeat(30)}${"%C3%A9".repeat(5)}`,
    [0xfb],
  ]);
  page.ws.close();
  await page.end;
});

Deno.test("A SocketPort over WebSocketTransport at /ws?senders=1 skips the sender lines: they make no stray message", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  await using listener = new SocketPort(
    new WebSocketTransport(new WebSocket(wsURL(web, "/ws?senders=1"))),
    { hello: { name: "listener" } },
  );
  await using keys = await connect("127.0.0.1", server.port, {
    hello: { name: "keys" },
  });
  await waitFor(
    () =>
      server.ports.filter((p) => /^(keys|listener)$/.test(p.name)).length === 2,
    "both named",
  );
  // After a note_on, a line read as bytes would be notes, by running status.
  await keys.send(message("note_on", { note: 60 }));
  // The server's own note goes after it (a relay and a send race).
  await waitFor(() => server.stats.relayed === 1, "the relay of note 60");
  await server.send(message("note_on", { note: 62 }));
  await keys.send(message("note_off", { note: 60 }));
  assert.deepEqual(await receiveN(listener, 3), [
    message("note_on", { note: 60 }),
    message("note_on", { note: 62 }),
    message("note_off", { note: 60 }),
  ]);
  await keys.send(message("stop")); // a marker: nothing came before it
  assert.deepEqual(await listener.receive(), message("stop"));
  assert.equal(listener.poll(), undefined);
  assert.equal(listener.stats.skippedBytes, 0);
});

Deno.test("A hello line split across text frames still lets its client in: only an exact sender line is skipped", async () => {
  await using server = new PortServer("127.0.0.1", 0, { token: "s3cret" });
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  const { ws, end } = await openSocket(wsURL(web, "/ws"));
  ws.send("MIDISOCK/1 name=split token=s3cret"); // no line feed yet
  ws.send("\n");
  ws.send("MIDISOCK/1 from=keys"); // a sender line: no MIDI, skipped
  ws.send(new Uint8Array([0x90, 60, 100]));
  const { port, message: msg } = await server.receiveWithPort();
  assert.equal(port.name, "split");
  assert.deepEqual(msg, message("note_on", { note: 60, velocity: 100 }));
  assert.equal(port.stats.skippedBytes, 0);
  ws.close();
  await end;
});
