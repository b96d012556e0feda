// Copyright 2026 the midisock authors. MIT license.
// For bench/ping_bench.ts: a raw TCP echo server on Deno.Conn, on a free
// port of 127.0.0.1 (it prints "port P"), that writes back every byte it
// reads, until it is killed.
//
//   deno run --allow-net=127.0.0.1 bench/_raw_echo_server.ts

const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
console.log(`port ${listener.addr.port}`);
for await (const conn of listener) {
  conn.setNoDelay(true);
  (async () => {
    const buf = new Uint8Array(65536);
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        let done = 0;
        while (done < n) done += await conn.write(buf.subarray(done, n));
      }
    } catch {
      // The client went.
    }
    conn.close();
  })();
}
