// Copyright 2026 the midisock authors. MIT license.
// The browser gateway's own HTTP/1.1 and WebSocket (RFC 6455), byte by
// byte, with a raw TCP client: what a browser never does, and what it does
// that Deno's WebSocket client does not show (fragments, pings, close
// codes). Browsers themselves are in tests/web_test.ts.

import assert from "node:assert/strict";
import { connect, message, PortServer, WebGateway } from "../mod.ts";
import { ServerWebSocket } from "../src/gateway/_server_websocket.ts";
import { receiveN, waitFor, within } from "./_net.ts";

const TEXT = new TextEncoder();
const LATIN1 = new TextDecoder("latin1");

/** A raw connection's reader: what came, read as it is needed. */
class Raw {
  conn: Deno.TcpConn;
  #held = new Uint8Array(0);

  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  static async open(port: number): Promise<Raw> {
    return new Raw(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  write(text: string | Uint8Array): Promise<number> {
    return this.conn.write(typeof text === "string" ? TEXT.encode(text) : text);
  }

  /** `n` bytes, or fewer if the stream ends first. */
  async bytes(n: number): Promise<Uint8Array> {
    while (this.#held.length < n) {
      const buf = new Uint8Array(64 * 1024);
      const read = await within(this.conn.read(buf), `${n} bytes`);
      if (read === null) break;
      const held = new Uint8Array(this.#held.length + read);
      held.set(this.#held);
      held.set(buf.subarray(0, read), this.#held.length);
      this.#held = held;
    }
    const out = this.#held.subarray(0, n);
    this.#held = this.#held.subarray(out.length);
    return out;
  }

  /** Whether the peer has closed: nothing more comes. */
  async ended(): Promise<boolean> {
    return (await this.bytes(1)).length === 0;
  }

  /** A response: its status line, headers (lower-case names) and body. */
  async response(head = false) {
    let text = "";
    while (!text.endsWith("\r\n\r\n")) {
      const byte = await this.bytes(1);
      if (byte.length === 0) throw new Error(`No whole response: ${text}`);
      text += LATIN1.decode(byte);
    }
    const [status, ...lines] = text.trim().split("\r\n");
    const headers = Object.fromEntries(lines.map((line) => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    }));
    const length = head ? 0 : Number(headers["content-length"] ?? 0);
    const body = LATIN1.decode(await this.bytes(length));
    return { status, headers, body };
  }

  /** A frame from the server (unmasked): its first byte and payload. */
  async frame(): Promise<{ op: number; payload: Uint8Array }> {
    const [b0, b1] = await this.bytes(2);
    assert.equal(b1 & 0x80, 0, "a server's frame is not masked");
    let length = b1 & 0x7f;
    if (length === 126) {
      const [hi, lo] = await this.bytes(2);
      length = (hi << 8) | lo;
    } else if (length === 127) {
      const bytes = await this.bytes(8);
      length = Number(
        new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0),
      );
    }
    return { op: b0, payload: (await this.bytes(length)).slice() };
  }

  /** A close frame from the server: its code and reason. */
  async closeFrame(): Promise<[number, string]> {
    const { op, payload } = await this.frame();
    assert.equal(op, 0x88);
    return [(payload[0] << 8) | payload[1], LATIN1.decode(payload.subarray(2))];
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** A client's frame: masked, with FIN and the opcode in `b0`. */
function frame(b0: number, payload: Uint8Array | string, masked = true) {
  const data = typeof payload === "string" ? TEXT.encode(payload) : payload;
  const n = data.length;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = new Uint8Array(head + (masked ? 4 : 0) + n);
  out[0] = b0;
  out[1] = (masked ? 0x80 : 0) | (n < 126 ? n : n < 65536 ? 126 : 127);
  const view = new DataView(out.buffer);
  if (head === 4) view.setUint16(2, n);
  if (head === 10) view.setBigUint64(2, BigInt(n));
  const mask = [0x12, 0x34, 0x56, 0x78];
  if (masked) out.set(mask, head);
  const at = head + (masked ? 4 : 0);
  for (let i = 0; i < n; i++) {
    out[at + i] = data[i] ^ (masked ? mask[i & 3] : 0);
  }
  return out;
}

/** An upgrade request for /ws, as a browser sends it. */
function upgrade(port: number, extra = ""): string {
  return `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;
}

/** A raw WebSocket to a gateway, open (101 read). */
async function rawSocket(port: number): Promise<Raw> {
  const raw = await Raw.open(port);
  await raw.write(upgrade(port, "Sec-WebSocket-Version: 13\r\n"));
  const { status, headers } = await raw.response();
  assert.equal(status, "HTTP/1.1 101 Switching Protocols");
  // RFC 6455's own example.
  assert.equal(headers["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  return raw;
}

Deno.test("The gateway speaks HTTP/1.1: kept-alive and pipelined requests, HEAD, a small body dropped, and each malformed request answered and closed", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  const host = `Host: 127.0.0.1:${web.port}\r\n`;
  const raw = await Raw.open(web.port);
  try {
    await raw.write(
      `GET /midisock.js HTTP/1.1\r\n${host}\r\nHEAD / HTTP/1.1\r\n${host}\r\n`,
    );
    const script = await raw.response();
    assert.equal(script.status, "HTTP/1.1 200 OK");
    assert.equal(
      script.headers["content-type"],
      "text/javascript; charset=utf-8",
    );
    assert.match(script.body, /MIDISOCK\/1/);
    assert.equal(Number(script.headers["content-length"]), script.body.length);
    const head = await raw.response(true);
    assert.equal(head.status, "HTTP/1.1 200 OK");
    assert.equal(head.headers["content-type"], "text/html; charset=utf-8");
    assert.ok(Number(head.headers["content-length"]) > 1000);
    // A body is read and dropped: the connection goes on.
    await raw.write(`POST / HTTP/1.1\r\n${host}Content-Length: 5\r\n\r\nhello`);
    const post = await raw.response();
    assert.equal(post.status, "HTTP/1.1 405 Method Not Allowed");
    assert.equal(post.headers.allow, "GET, HEAD");
    await raw.write(
      `GET /nothing HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
    );
    const missing = await raw.response();
    assert.equal(missing.status, "HTTP/1.1 404 Not Found");
    assert.equal(missing.headers.connection, "close");
    assert.ok(await raw.ended());
  } finally {
    raw.close();
  }
  const answer = async (request: string) => {
    const raw = await Raw.open(web.port);
    try {
      await raw.write(request);
      const { status, headers } = await raw.response();
      assert.equal(headers.connection, "close", request);
      assert.ok(await raw.ended(), request);
      return status;
    } finally {
      raw.close();
    }
  };
  assert.equal(await answer("HELLO\r\n\r\n"), "HTTP/1.1 400 Bad Request");
  assert.equal(
    await answer(`GET / HTTP/2.0\r\n${host}\r\n`),
    "HTTP/1.1 505 HTTP Version Not Supported",
  );
  assert.equal(
    await answer("GET / HTTP/1.1\r\n\r\n"), // no Host
    "HTTP/1.1 400 Bad Request",
  );
  assert.equal(
    await answer(`GET / HTTP/1.1\r\n${host}X: ${"x".repeat(20_000)}\r\n\r\n`),
    "HTTP/1.1 431 Request Header Fields Too Large",
  );
  assert.equal(
    await answer(`GET / HTTP/1.1\r\n${host}Content-Length: x\r\n\r\n`),
    "HTTP/1.1 400 Bad Request",
  );
  // Requests whose head was whole: 4 on the first connection, the last
  // two here.
  assert.equal(web.stats.requests, 6);
  assert.equal(web.stats.connections, 0);
});

Deno.test("The gateway's WebSocket answers pings, joins a message's frames around a ping, and answers a close frame with its code, then closes", async () => {
  await using server = new PortServer("127.0.0.1", 0, { relay: true });
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  await using synth = await connect("127.0.0.1", server.port);
  const raw = await rawSocket(web.port);
  try {
    await waitFor(() => server.ports.length === 2, "two clients");
    await raw.write(frame(0x89, "hi"));
    assert.deepEqual(await raw.frame(), {
      op: 0x8a,
      payload: TEXT.encode("hi"),
    });
    // note_on in three frames, and a ping between two of them.
    await raw.write(frame(0x02, new Uint8Array([0x90])));
    await raw.write(frame(0x00, new Uint8Array([0x3c])));
    await raw.write(frame(0x89, ""));
    await raw.write(frame(0x80, new Uint8Array([0x40])));
    assert.deepEqual(await raw.frame(), {
      op: 0x8a,
      payload: new Uint8Array(),
    });
    assert.deepEqual(await receiveN(synth, 1), [
      message("note_on", { note: 60, velocity: 64 }),
    ]);
    // And the other way: one binary frame a write.
    await synth.send(message("stop"));
    assert.deepEqual(await raw.frame(), {
      op: 0x82,
      payload: new Uint8Array([0xfc]),
    });
    const bye = new Uint8Array([0x03, 0xe8, ...TEXT.encode("bye")]);
    await raw.write(frame(0x88, bye));
    assert.deepEqual(await raw.closeFrame(), [1000, ""]);
    assert.ok(await raw.ended());
  } finally {
    raw.close();
  }
  await waitFor(() => server.ports.length === 1, "the page gone");
  assert.equal(web.stats.sockets, 1);
});

Deno.test("The gateway's WebSocket closes on a protocol error (1002), text that is not UTF-8 (1007), and a message over 1 MiB in frames (1009); a version it does not speak gets 426", async () => {
  await using server = new PortServer("127.0.0.1", 0);
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  const reasons: string[] = [];
  web.addEventListener("reject", (event) => reasons.push(event.reason));
  const closed = async (...frames: Uint8Array[]) => {
    const raw = await rawSocket(web.port);
    try {
      for (const f of frames) await raw.write(f);
      const close = await raw.closeFrame();
      assert.ok(await raw.ended());
      return close;
    } finally {
      raw.close();
    }
  };
  assert.deepEqual(
    await closed(frame(0x82, new Uint8Array([0xf8]), false)),
    [1002, "an unmasked frame from a client"],
  );
  assert.deepEqual(
    await closed(frame(0x81, new Uint8Array([0xff]))),
    [1007, "a text message that is not UTF-8"],
  );
  assert.deepEqual(
    await closed(frame(0x80, new Uint8Array([0xf8]))),
    [1002, "a frame out of sequence"],
  );
  const part = new Uint8Array(600 * 1024).fill(0xf8);
  const reason =
    "a message in frames of at least 1228800 bytes, over maxUnreadBytes (1048576)";
  assert.deepEqual(
    await closed(frame(0x02, part), frame(0x80, part)),
    [1009, reason],
  );
  assert.deepEqual(reasons, [reason]);
  assert.equal(web.stats.overLimit, 1);
  const raw = await Raw.open(web.port);
  try {
    await raw.write(upgrade(web.port, "Sec-WebSocket-Version: 8\r\n"));
    const { status, headers } = await raw.response();
    assert.equal(status, "HTTP/1.1 426 Upgrade Required");
    assert.equal(headers["sec-websocket-version"], "13");
  } finally {
    raw.close();
  }
  assert.equal(
    reasons.at(-1),
    "bad WebSocket upgrade: Sec-WebSocket-Version 8, not 13",
  );
});

Deno.test("ServerWebSocket pings a peer that is silent for idleTimeout, and drops it when it stays silent as long again", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const raw = new Raw(
    await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
  );
  const socket = new ServerWebSocket(await listener.accept(), {
    url: "ws://127.0.0.1/ws",
    maxMessageBytes: 1024,
    tooBig: () => "too big",
    idleTimeout: 100,
  });
  const event = new Promise<CloseEvent>((resolve) =>
    socket.addEventListener("close", resolve as EventListener)
  );
  const start = performance.now();
  socket.start(new Uint8Array());
  try {
    assert.deepEqual(await raw.frame(), {
      op: 0x89,
      payload: new Uint8Array(),
    });
    assert.ok(await raw.ended());
    assert.ok(performance.now() - start >= 190);
    const { code, wasClean } = await event;
    assert.deepEqual([code, wasClean], [1006, false]);
    assert.equal(socket.readyState, 3);
    await socket.done;
  } finally {
    raw.close();
  }
});
