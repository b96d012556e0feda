// Copyright 2026 the midisock authors. MIT license.
// Test helper: WebSocket clients for the gateway's tests, without a browser.

import { within } from "./_net.ts";

/** A client WebSocket, open, and its close event (listened for from the start). */
export async function openSocket(
  url: string,
): Promise<{ ws: WebSocket; end: Promise<CloseEvent> }> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const end = within(
    new Promise<CloseEvent>((resolve) =>
      ws.addEventListener("close", resolve, { once: true })
    ),
    `the WebSocket to ${url} to close`,
  );
  end.catch(() => {});
  await within(
    new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`Cannot open ${url}`));
    }),
    `a WebSocket to ${url}`,
  );
  return { ws, end };
}

/** How {@linkcode rawUpgrade} asks. */
export interface RawUpgradeOptions {
  /** The Host header: by default `127.0.0.1:PORT`. */
  host?: string;
  /** Leave out the `Connection: Upgrade` header (a malformed upgrade). */
  noConnection?: boolean;
}

/**
 * Opens a TCP connection to a gateway and sends a WebSocket upgrade request
 * by hand (with an Origin, if given, and any Host), as no WebSocket client
 * lets a test do. The connection is the caller's to read, or not, and to
 * close.
 */
export async function rawUpgrade(
  port: number,
  origin?: string,
  options: RawUpgradeOptions = {},
): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = [
    "GET /ws HTTP/1.1",
    `Host: ${options.host ?? `127.0.0.1:${port}`}`,
    "Upgrade: websocket",
    ...(options.noConnection ? [] : ["Connection: Upgrade"]),
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
    ...(origin === undefined ? [] : [`Origin: ${origin}`]),
    "",
    "",
  ];
  await conn.write(new TextEncoder().encode(lines.join("\r\n")));
  return conn;
}

/** A WebSocket upgrade request made by hand: the answer's status line. */
export async function upgradeStatus(
  port: number,
  origin?: string,
  options: RawUpgradeOptions = {},
): Promise<string> {
  using conn = await rawUpgrade(port, origin, options);
  const buf = new Uint8Array(1024);
  const n = await within(conn.read(buf), "the gateway's answer");
  return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
}
