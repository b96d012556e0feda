// Copyright 2026 the midisock authors. MIT license.
// For bench/play_bench.ts: the raw platform's player. It reads a file's
// schedule, then writes each message's bytes to a bare Deno.Conn at its
// time, waiting with setTimeout (`timeout`) or waitUntil() (`yield`):
// what `midisock play` does, without its port.
//
//   deno run --allow-net=127.0.0.1 --allow-read bench/_raw_player.ts PORT FILE timeout|yield

import { encode, playSchedule, readMidiFile } from "../mod.ts";
import { waitUntil } from "../src/util/wait_until.ts";

const [port, path, how] = Deno.args;
const { messages } = playSchedule(readMidiFile(await Deno.readFile(path)));
const bytes = messages.map((m) => encode(m.message));
const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
conn.setNoDelay(true);
const never = new AbortController().signal;
const start = performance.now();
for (let i = 0; i < messages.length; i++) {
  const due = start + messages[i].time;
  if (how === "yield") await waitUntil(due, never);
  else {
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  let done = 0;
  while (done < bytes[i].length) {
    done += await conn.write(bytes[i].subarray(done));
  }
}
conn.close();
