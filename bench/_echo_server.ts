// Copyright 2026 the midisock authors. MIT license.
/**
 * net_bench.ts's other process, for the figures taken with the client and
 * the server in two processes, so that they do not share a thread. It
 * listens on three loopback ports and prints them as one JSON line,
 * `{"raw":N,"floor":N,"echo":N,"sink":N,"origin":MS}` (origin: its
 * `performance.timeOrigin`):
 *
 * - `raw`: a raw `Deno.Conn` echo (TCP_NODELAY), each connection read into
 *   a buffer and written back;
 * - `floor`: the same echo through a {@linkcode HandOff} (`_handoff.ts`):
 *   a read loop that hands each read to the echo through one promise;
 * - `echo`: a PortServer whose accept() hands out each client, which is
 *   echoed with `for await` and `send()`;
 * - `sink`: a PortServer read as a port, with `for await` over the server
 *   itself, that counts messages.
 *
 * Then it answers each line on stdin with one JSON line: `expect N` with
 * `{"ready":1}` at once and `{"got":N}` once the sink has counted N more
 * messages. It exits when stdin ends.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 bench/_echo_server.ts
 * ```
 *
 * @module
 */

import { PortServer, type SocketPort } from "../mod.ts";
import { echoHandOff } from "./_handoff.ts";

const HOST = "127.0.0.1";

const raw = Deno.listen({ hostname: HOST, port: 0 });
const floor = Deno.listen({ hostname: HOST, port: 0 });
const echo = new PortServer(HOST, 0);
const sink = new PortServer(HOST, 0);

async function echoRaw(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buf = new Uint8Array(16 * 1024);
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      let off = 0;
      while (off < n) off += await conn.write(buf.subarray(off, n));
    }
  } catch {
    // The client went away.
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

async function echoPort(port: SocketPort): Promise<void> {
  try {
    for await (const msg of port) await port.send(msg);
  } catch {
    // The client went away.
  } finally {
    await port.close();
  }
}

const rawLoop = (async () => {
  try {
    for await (const conn of raw) echoRaw(conn);
  } catch {
    // The listener was closed.
  }
})();

const floorLoop = (async () => {
  try {
    for await (const conn of floor) echoHandOff(conn);
  } catch {
    // The listener was closed.
  }
})();

const echoLoop = (async () => {
  try {
    while (true) echoPort(await echo.accept());
  } catch {
    // The server was closed.
  }
})();

// The sink: for await over the server itself; `expect N` sets how many
// more messages to count before it says so.
let counted = 0;
let target = Infinity;
let reached: (() => void) | undefined;
const sinkLoop = (async () => {
  for await (const _ of sink) {
    if (++counted === target) reached?.();
  }
})();

console.log(JSON.stringify({
  raw: raw.addr.port,
  floor: floor.addr.port,
  echo: echo.port,
  sink: sink.port,
  origin: performance.timeOrigin, // for tail_probe.ts's GC timeline
}));

let text = "";
for await (
  const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())
) {
  text += chunk;
  let nl: number;
  while ((nl = text.indexOf("\n")) >= 0) {
    const [command, arg] = text.slice(0, nl).trim().split(" ");
    text = text.slice(nl + 1);
    if (command === "expect") {
      const n = Number(arg);
      const { promise, resolve } = Promise.withResolvers<void>();
      reached = resolve;
      target = counted + n;
      console.log(JSON.stringify({ ready: 1 }));
      promise.then(() => {
        reached = undefined;
        target = Infinity;
        console.log(JSON.stringify({ got: n }));
      });
    } else {
      console.log(JSON.stringify({ error: `Unknown command: ${command}` }));
    }
  }
}
raw.close();
floor.close();
await Promise.all([echo.close(), sink.close()]);
await Promise.all([rawLoop, floorLoop, echoLoop, sinkLoop]);
