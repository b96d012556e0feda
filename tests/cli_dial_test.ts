// Copyright 2026 the midisock authors. MIT license.
// The addresses that the CLI's commands dial: HOST:PORT, or a scheme.

import assert from "node:assert/strict";
import { UsageError } from "../src/cli/args.ts";
import {
  busAddress,
  type Scheme,
  SCHEMES,
  splitScheme,
} from "../src/cli/dial.ts";
import { main } from "../src/cli/main.ts";
import { connect, PortServer } from "../mod.ts";

const link = { hello: {} };

Deno.test("splitScheme tells a scheme from a host and port", () => {
  assert.equal(splitScheme("localhost:8080"), undefined);
  assert.equal(splitScheme("[::1]:8080"), undefined);
  assert.equal(splitScheme("8080"), undefined);
  assert.equal(splitScheme("example.com:9"), undefined);
  assert.deepEqual(splitScheme("RTP://host:5004"), {
    scheme: "rtp:",
    rest: "host:5004",
  });
  assert.deepEqual(splitScheme("ipmidi://1"), { scheme: "ipmidi:", rest: "1" });
});

Deno.test("busAddress names a host and port as connect() does", () => {
  assert.equal(busAddress("127.0.0.1:9", link).name, "127.0.0.1:9");
  assert.equal(busAddress("[::1]:9", link).name, "[::1]:9");
});

Deno.test("busAddress refuses an unknown scheme, and port 0, by name", () => {
  assert.throws(
    () => busAddress("gopher://x:1", link),
    (error) =>
      error instanceof UsageError &&
      /Invalid address "gopher:\/\/x:1": unknown scheme "gopher:"/.test(
        error.message,
      ),
  );
  assert.throws(
    () => busAddress("localhost:0", link),
    (error) => error instanceof UsageError && /port 0/.test(error.message),
  );
});

/** Runs `midisock ARGS` in this process with `scheme` in SCHEMES. */
async function withScheme(
  scheme: Scheme,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const schemes = SCHEMES as Scheme[];
  schemes.push(scheme);
  let out = "";
  let err = "";
  const sink = (add: (text: string) => void) =>
    new WritableStream<Uint8Array>({
      write: (chunk) => add(new TextDecoder().decode(chunk)),
    });
  try {
    const code = await main(args, {
      stdout: sink((t) => out += t),
      stderr: sink((t) => err += t),
    });
    return { code, out, err };
  } finally {
    schemes.splice(schemes.indexOf(scheme), 1);
  }
}

Deno.test("midisock ping measures with a scheme's own round trip where it has one (Scheme.ping)", async () => {
  const rtts = [4, 1, 3, 2];
  let closed = false;
  const { code, out, err } = await withScheme({
    scheme: "test:",
    example: "test://NAME",
    parse: () => {
      throw new Error("ping must not dial a port");
    },
    ping: (rest) => ({
      name: `test ${rest}`,
      open: () =>
        Promise.resolve({
          rtt: () => Promise.resolve(rtts.shift()!),
          close: () => {
            closed = true;
            return Promise.resolve();
          },
        }),
    }),
  }, ["ping", "-v", "--count", "4", "--interval", "0", "test://x"]);
  assert.equal(err, "");
  assert.equal(code, 0);
  assert.equal(
    out,
    "seq=0 rtt=4.000 ms\nseq=1 rtt=1.000 ms\nseq=2 rtt=3.000 ms\nseq=3 rtt=2.000 ms\n" +
      "rtt p50=2.000 ms p99=4.000 ms max=4.000 ms jitter=2.000 ms lost=0/4\n",
  );
  assert.ok(closed);
});

Deno.test("midisock ping over a scheme without its own round trip dials its port and asks for the echo", async () => {
  await using bus = new PortServer("127.0.0.1", 0, { relay: true });
  const { code, out, err } = await withScheme({
    scheme: "pipe:",
    example: "pipe://PORT",
    parse: (rest, link) => ({
      name: `pipe ${rest}`,
      dial: () => connect("127.0.0.1", bus.port, { ...link, echo: link.echo }),
    }),
  }, ["ping", "--count", "3", "--interval", "0", "pipe://x"]);
  assert.equal(err, "");
  assert.equal(code, 0);
  assert.match(out, /^rtt p50=.* lost=0\/3\n$/);
  assert.equal(bus.stats.echoes, 3);
});
