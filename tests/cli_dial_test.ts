// Copyright 2026 the midisock authors. MIT license.
// The addresses that the CLI's commands dial: HOST:PORT, or a scheme.

import assert from "node:assert/strict";
import { UsageError } from "../src/cli/args.ts";
import { busAddress, splitScheme } from "../src/cli/dial.ts";

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
