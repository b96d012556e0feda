// Copyright 2026 the midisock authors. MIT license.
// Addresses: parseAddress() and formatAddress(), and that what they give
// works with PortServer and connect().

import assert from "node:assert/strict";
import {
  connect,
  formatAddress,
  message,
  parseAddress,
  PortServer,
} from "../mod.ts";
import { HAS_IPV6_LOOPBACK, receiveN } from "./_net.ts";

Deno.test("parseAddress() reads HOST:PORT, [IPV6]:PORT, :PORT and PORT", () => {
  const cases: [string, string, number][] = [
    ["localhost:8080", "localhost", 8080],
    ["127.0.0.1:0", "127.0.0.1", 0],
    ["example.com:65535", "example.com", 65535],
    ["[::1]:9000", "::1", 9000],
    ["[::]:0", "::", 0],
    ["[fe80::1%lo]:1", "fe80::1%lo", 1],
    [":8080", "localhost", 8080],
    ["8080", "localhost", 8080],
    ["host:00080", "host", 80],
  ];
  for (const [text, host, port] of cases) {
    assert.deepEqual(parseAddress(text), { host, port }, text);
  }
});

Deno.test("parseAddress() uses defaultHost when the text has no host", () => {
  assert.deepEqual(parseAddress(":8080", { defaultHost: "localhost" }), {
    host: "localhost",
    port: 8080,
  });
  assert.deepEqual(parseAddress("8080", { defaultHost: "::1" }), {
    host: "::1",
    port: 8080,
  });
  assert.deepEqual(parseAddress("h:1", { defaultHost: "localhost" }), {
    host: "h",
    port: 1,
  });
});

Deno.test("parseAddress() rejects a bad address with a SyntaxError that quotes it and says what is wrong", () => {
  const cases: [string, string][] = [
    ["", "expected HOST:PORT, such as localhost:8080"],
    ["localhost", "expected HOST:PORT, such as localhost:8080"],
    ["host:", "missing port after the colon"],
    [":", "missing port after the colon"],
    ["[::1]:", "missing port after the colon"],
    ["[::1]", "expected :PORT after the ]"],
    ["[::1]x", "expected :PORT after the ]"],
    ["[::1:80", "missing ] after the IPv6 address"],
    ["::1:80", "put an IPv6 address in brackets, such as [::1]:8080"],
    ["[1.2.3.4]:5", "only IPv6 addresses go in brackets"],
    ["[]:1", "only IPv6 addresses go in brackets"],
    ["a b:1", "the host has white space"],
    [" host:1", "the host has white space"],
    ["x:99999", "port must be in 0..65535, got 99999"],
    ["x:65536", "port must be in 0..65535, got 65536"],
    ["x:-1", 'port "-1" is not an integer'],
    ["x:+1", 'port "+1" is not an integer'],
    ["x:1.5", 'port "1.5" is not an integer'],
    ["h:0x10", 'port "0x10" is not an integer'],
    ["h: 80", 'port " 80" is not an integer'],
  ];
  for (const [text, why] of cases) {
    assert.throws(() => parseAddress(text), {
      name: "SyntaxError",
      message: `Invalid address ${JSON.stringify(text)}: ${why}`,
    }, text);
  }
  assert.throws(() => parseAddress(42 as unknown as string), {
    name: "SyntaxError",
    message: "Invalid address 42: expected a string such as localhost:8080",
  });
});

Deno.test("formatAddress() writes host:port, and IPv6 addresses in brackets", () => {
  assert.equal(formatAddress("127.0.0.1", 8080), "127.0.0.1:8080");
  assert.equal(formatAddress("localhost", 0), "localhost:0");
  assert.equal(formatAddress("::1", 8080), "[::1]:8080");
  assert.equal(formatAddress("fe80::1%lo", 2), "[fe80::1%lo]:2");
  assert.equal(formatAddress("", 8080), ":8080");
});

Deno.test("formatAddress() and parseAddress() are inverses", () => {
  for (
    const [host, port] of [
      ["localhost", 8080],
      ["127.0.0.1", 1],
      ["::1", 65535],
      ["::", 0],
      ["", 5004],
    ] as const
  ) {
    assert.deepEqual(
      parseAddress(formatAddress(host, port), { defaultHost: "" }),
      { host, port },
    );
  }
});

Deno.test("An address from parseAddress() works with PortServer and connect(), and names them", async () => {
  const texts = ["127.0.0.1:0", "localhost:0", ":0"];
  if (HAS_IPV6_LOOPBACK) texts.push("[::1]:0");
  for (const text of texts) {
    const { host, port } = parseAddress(text);
    await using server = new PortServer(host, port);
    assert.equal(server.name, formatAddress(host, server.port));
    const target = host === "" ? "127.0.0.1" : host;
    await using client = await connect(target, server.port);
    assert.equal(client.name, formatAddress(target, server.port));
    await client.send(message("start"));
    assert.deepEqual(await receiveN(server, 1), [message("start")], text);
  }
});
