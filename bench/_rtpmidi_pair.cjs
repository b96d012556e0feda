// node-rtpmidi <-> node-rtpmidi round trips, for bench/rtp_bench.ts.
// Usage: node _rtpmidi_pair.cjs MODULES PORT RUNS WARMUP
//   Session B listens on PORT (even) and PORT+1 and echoes what it gets;
//   session A (on PORT+2) invites it, waits for its clock to be in sync,
//   then sends a note RUNS+WARMUP times, one at a time, and measures each
//   round trip. Prints {"rtt":[ms...]} (the RUNS after the warm-up), or
//   {"error":...}, as one JSON line.
"use strict";
const path = require("path");
const [modules, portText, runsText, warmupText] = process.argv.slice(2);
const logger = require(path.join(modules, "rtpmidi", "src", "logger.js"));
logger.silent = true;
for (const t of logger.transports) t.silent = true;
const { Session } = require(path.join(modules, "rtpmidi"));

const port = Number(portText);
const runs = Number(runsText);
const warmup = Number(warmupText);
const b = new Session(port, "b", "b", undefined, false);
const a = new Session(port + 2, "a", "a", undefined, false);
// node-rtpmidi's one-argument sendMessage throws: the two-argument form.
b.on("message", (_d, m) => b.sendMessage(b.now(), Array.from(m)));
let ready = 0;
const start = () => {
  if (++ready < 2) return; // both sessions bound
  a.connect({ address: "127.0.0.1", port });
  const synced = () => {
    const s = [...a.getStreams(), ...b.getStreams()];
    if (
      s.length === 2 &&
      s.every((x) => x.latency !== null && x.timeDifference !== null)
    ) run();
    else setTimeout(synced, 20);
  };
  synced();
};
a.on("ready", start);
b.on("ready", start);
const rtt = [];
let sentAt = 0;
let n = 0;
const send = () => {
  sentAt = process.hrtime.bigint();
  a.sendMessage(a.now(), [n % 2 ? 0x80 : 0x90, 60 + (n >> 1) % 24, 100]);
};
a.on("message", () => {
  const ms = Number(process.hrtime.bigint() - sentAt) / 1e6;
  if (n >= warmup) rtt.push(ms);
  n++;
  if (n < runs + warmup) setImmediate(send);
  else {
    process.stdout.write(JSON.stringify({ rtt }) + "\n");
    process.exit(0);
  }
});
function run() {
  send();
}
setTimeout(() => {
  process.stdout.write(
    JSON.stringify({ error: `timed out after ${n} round trips` }) + "\n",
  );
  process.exit(1);
}, 50_000);
a.start();
b.start();
