// Copyright 2026 the midisock authors. MIT license.
/**
 * Promise turns from a read's completion to its reader: a chain of
 * `.then()` ticks starts in the turn in which the connection's own read
 * resolves, and is read when `receive()` (or a raw `read()`'s caller)
 * resumes. Each layer between them that waits on a promise adds one.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 bench/read_turns.ts
 * ```
 *
 * @module
 */

import { SocketPort } from "../mod.ts";

let ticks = 0;
let ticking = false;
let measuring = true; // no ticks once done: the closes read too
function tick(): void {
  if (!ticking) return;
  ticks++;
  Promise.resolve().then(tick);
}

async function pair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
}

// The connection, with a read() that starts the ticks as its own read
// resolves (registered first, so they start before anyone else sees it).
function stamped(conn: Deno.TcpConn): Deno.Conn {
  return new Proxy(conn, {
    get(target, key) {
      if (key === "read") {
        return (buf: Uint8Array) => {
          const read = target.read(buf);
          read.then(() => {
            if (!measuring) return;
            ticks = 0;
            ticking = true;
            tick();
          });
          return read;
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Deno.Conn;
}

const [a, b] = await pair();
const port = new SocketPort(stamped(b));
const [rawA, rawB] = await pair();
const raw = stamped(rawB);
const note = new Uint8Array([0x90, 60, 100]);
const buf = new Uint8Array(64);
const ours: number[] = [];
const theirs: number[] = [];
for (let i = 0; i < 2000; i++) {
  await a.write(note);
  await port.receive();
  ticking = false;
  ours.push(ticks);
  await rawA.write(note);
  await raw.read(buf);
  ticking = false;
  theirs.push(ticks);
}
measuring = false;
const median = (x: number[]) => x.sort((p, q) => p - q)[x.length >> 1];
console.log(
  `ticks from a read's completion to its reader (median of 2000): raw read() ${
    median(theirs)
  }, SocketPort receive() ${median(ours)}`,
);
a.close();
rawA.close();
raw.close();
await port.close();
