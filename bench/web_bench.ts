// Copyright 2026 the midisock authors. MIT license.
// What the senders' names cost the pages, beside a raw Deno WebSocket
// broadcast in the same run:
//
//   deno run --allow-net=127.0.0.1 --v8-flags=--expose-gc bench/web_bench.ts [--pages=20] [--messages=20000]
//
// A PortServer with a WebGateway, and PAGES WebSocket clients (Deno's own
// WebSocket, standing in for browsers). The hub broadcasts MESSAGES clocks
// (1 byte each), as fast as the pages' queues take them (slowClient:
// "wait", so nothing is dropped), and the run ends when every page has
// every byte:
// - plain: pages at /ws, which get binary frames alone;
// - names, one sender: pages at /ws?senders=1, all messages from "keys"
//   (one sender line);
// - names, senders alternate: "keys" and "pads" take turns message by
//   message, the worst case: a sender line before every message;
// - raw: a Deno.serve WebSocket server that sends each message to every
//   socket as its own binary frame, the naive broadcast.
// It prints messages a second per page and the bytes each page received
// for each message (1 with no lines).
//
// Then what a full queue holds in memory: one port's queue (an Outbox whose
// write is held, as for a page that reads nothing) filled to 1 MiB of
// 3-byte messages, with no lines, and with a line between every two
// messages; the heap and external memory it took, per MiB counted.

import { PortServer, SocketPort, type Transport, WebGateway } from "../mod.ts";
import { Outbox } from "../src/port/_outbox.ts";

const arg = (name: string, fallback: number) =>
  Number(
    Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ??
      fallback,
  );
const PAGES = arg("pages", 20);
const MESSAGES = arg("messages", 20_000);
const CLOCK = new Uint8Array([0xf8]);

/** A page: counts the bytes it receives, text and binary, and the clocks. */
function page(url: string) {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const state = { clocks: 0, bytes: 0 };
  let want = Infinity;
  let done: () => void = () => {};
  ws.onmessage = ({ data }) => {
    if (typeof data === "string") {
      state.bytes += data.length; // ASCII
      return;
    }
    const n = (data as ArrayBuffer).byteLength;
    state.bytes += n;
    state.clocks += n;
    if (state.clocks >= want) done();
  };
  const opened = new Promise((resolve) => ws.onopen = resolve);
  const closed = new Promise((resolve) => ws.onclose = resolve);
  return {
    ws,
    state,
    opened,
    closed,
    all(n: number): Promise<void> {
      want = n;
      return state.clocks >= n ? Promise.resolve() : new Promise((resolve) => {
        done = resolve;
      });
    },
  };
}

/** A port in memory, named: a sender for the hub's `from`, never added. */
function sender(name: string): SocketPort {
  const t = new TransformStream<Uint8Array, Uint8Array>();
  const transport: Transport = {
    readable: t.readable,
    writable: t.writable,
    close() {
      t.readable.cancel().catch(() => {});
      t.writable.abort().catch(() => {});
    },
  };
  return new SocketPort(transport, { name });
}

async function ours(
  path: string,
  alternate: boolean,
): Promise<{ rate: number; perMessage: number }> {
  await using server = new PortServer("127.0.0.1", 0, {
    slowClient: "wait",
  });
  await using web = new WebGateway(server, { hostname: "127.0.0.1" });
  await using keys = sender("keys");
  await using pads = sender("pads");
  const url = new URL(path, web.url).href.replace(/^http/, "ws");
  const pages = Array.from({ length: PAGES }, () => page(url));
  await Promise.all(pages.map((p) => p.opened));
  server.poll(); // read as a port: the server adopts its clients
  while (server.hub.ports.length < PAGES) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const all = Promise.all(pages.map((p) => p.all(MESSAGES)));
  const t0 = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    const from = alternate && i % 2 === 1 ? pads : keys;
    const wait = server.hub.sendBytes(CLOCK, { from });
    if (wait) await wait;
  }
  await all;
  const seconds = (performance.now() - t0) / 1000;
  const bytes = pages.reduce((n, p) => n + p.state.bytes, 0);
  for (const p of pages) p.ws.close();
  await Promise.all(pages.map((p) => p.closed));
  return {
    rate: MESSAGES / seconds,
    perMessage: bytes / PAGES / MESSAGES,
  };
}

async function raw(): Promise<{ rate: number; perMessage: number }> {
  const sockets: WebSocket[] = [];
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onopen = () => sockets.push(socket);
      return response;
    },
  );
  const pages = Array.from(
    { length: PAGES },
    () => page(`ws://127.0.0.1:${http.addr.port}/`),
  );
  await Promise.all(pages.map((p) => p.opened));
  while (sockets.length < PAGES) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const all = Promise.all(pages.map((p) => p.all(MESSAGES)));
  const t0 = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    for (const socket of sockets) socket.send(CLOCK);
    // As ours waits for full queues: let the sockets drain now and then.
    if (i % 256 === 255) await new Promise((resolve) => setTimeout(resolve));
  }
  await all;
  const seconds = (performance.now() - t0) / 1000;
  const bytes = pages.reduce((n, p) => n + p.state.bytes, 0);
  for (const p of pages) p.ws.close();
  await Promise.all(pages.map((p) => p.closed));
  await http.shutdown();
  return { rate: MESSAGES / seconds, perMessage: bytes / PAGES / MESSAGES };
}

const show = (label: string, r: { rate: number; perMessage: number }) =>
  console.log(
    `  ${label.padEnd(34)} ${
      Math.round(r.rate).toLocaleString("en").padStart(9)
    } messages/s a page, ${r.perMessage.toFixed(1)} bytes a message`,
  );

console.log(
  `${MESSAGES} clocks broadcast to ${PAGES} WebSocket pages on loopback:`,
);
show("plain (/ws)", await ours("/ws", false));
show("names, one sender", await ours("/ws?senders=1", false));
show("names, senders alternate", await ours("/ws?senders=1", true));
show("raw Deno WebSocket, a frame each", await raw());

/**
 * Heap and external memory, after a full GC where --expose-gc allows, and
 * a pause: buffers that a GC let go are given back in the background.
 */
async function memory(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc?.();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

/** MiB of memory a held queue takes for each MiB it counts. */
async function queueMemory(lines: boolean): Promise<number> {
  const held = new Promise<void>(() => {}); // never written
  const outbox = new Outbox({
    copies: true,
    write: () => held,
    close: () => Promise.resolve(),
    abort() {},
    writeText: () => held,
  }, () => {});
  const before = await memory();
  const note = new Uint8Array([0x90, 60, 100]);
  for (let k = 0; outbox.queuedBytes < 1024 * 1024; k++) {
    if (lines) {
      outbox.line(k % 2 ? "MIDISOCK/1 from=pads" : "MIDISOCK/1 from=keys");
    }
    outbox.enqueue(note);
  }
  const used = await memory() - before;
  const counted = outbox.queuedBytes;
  outbox.cut();
  return used / counted;
}

await queueMemory(true); // warm up
console.log("one port's queue, held, filled to 1 MiB of 3-byte messages:");
console.log(
  `  no lines                       ${
    (await queueMemory(false)).toFixed(2)
  } MiB of memory a MiB queued`,
);
console.log(
  `  a line between every two       ${
    (await queueMemory(true)).toFixed(2)
  } MiB of memory a MiB queued`,
);
