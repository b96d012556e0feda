// Copyright 2026 the midisock authors. MIT license.
// The examples, run as docs/ports-and-streams.md says (deno run --allow-net
// examples/...), against each other on a free port.

import assert from "node:assert/strict";
import { Child, DENO } from "./_child.ts";

function example(name: string, args: string[]): Child {
  const path = new URL(`../examples/${name}`, import.meta.url).pathname;
  return new Child(DENO, ["run", "--allow-net", path, ...args]);
}

Deno.test("examples/client.ts plays its phrase into examples/server.ts, which prints each message", async () => {
  await using server = example("server.ts", ["0"]);
  const [listening, port] = await server.waitForMatch(
    "stdout",
    /^Listening on localhost:(\d+); press Ctrl-C to stop$/,
  );

  await using client = example("client.ts", [port]);
  assert.deepEqual(await client.result(), {
    code: 0,
    signal: null,
    stdout: `Played 4 notes to localhost:${port}\n`,
    stderr: "",
  });

  await server.waitForCount(8, (line) => / note_o(n|ff) /.test(line), "notes");
  server.kill("SIGINT");
  const result = await server.result();
  const sender = server.stdout[1]?.split(" ")[0];
  assert.match(sender, /^(127\.0\.0\.1|\[::1\]):\d+$/);
  const notes = [60, 64, 67, 72].flatMap((note) => [
    `${sender} note_on channel=0 note=${note} velocity=100 time=0`,
    `${sender} note_off channel=0 note=${note} velocity=64 time=0`,
  ]);
  assert.deepEqual(result, {
    code: 0,
    signal: null,
    stdout: [listening, ...notes, ""].join("\n"),
    stderr: "",
  });
});

Deno.test("examples/server.ts on a port in use says so in one line and exits 1", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = taken.addr;
  await using server = example("server.ts", [String(port)]);
  const { code, stdout, stderr } = await server.result();
  assert.deepEqual({ code, stdout }, { code: 1, stdout: "" });
  assert.match(
    stderr,
    new RegExp(
      `^Cannot listen on localhost:${port}: Address already in use[^\n]*\n$`,
    ),
  );
});

Deno.test("examples/client.ts with no server says so in one line and exits 1", async () => {
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = free.addr;
  free.close();
  await using client = example("client.ts", [String(port)]);
  assert.deepEqual(await client.result(), {
    code: 1,
    signal: null,
    stdout: "",
    stderr: `Cannot connect to localhost:${port}: connection refused\n`,
  });
});
