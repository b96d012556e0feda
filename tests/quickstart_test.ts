// Copyright 2026 the midisock authors. MIT license.
// The quick start, as a new user runs it: each command line below, typed as
// it stands (`deno task serve`, and `deno run --allow-net src/cli/main.ts`
// one-liners with no other permission), run from the repository's root with
// no terminal (stdin is null, so Deno cannot prompt for a permission: one
// that the program asks for is an error). Each session starts a server,
// then runs its clients against it, and checks what each prints.
//
// The lines use the README's address, localhost:8080. The server's line is
// run on 127.0.0.1:0 instead (a free port, so that tests can run side by
// side), and the clients' lines on the port it says it listens on. To check
// more lines (the README's own, read from it), add sessions.

import assert from "node:assert/strict";
import { Child, DENO } from "./_child.ts";
import { NatsServer } from "./_nats_server.ts";
import { ignoreWithout, NATS_SERVER } from "./_peers.ts";

/** A server's command line, then its clients', as the quick start has them. */
interface Session {
  name: string;
  /** The server: it prints its listening line, then a line a message. */
  serve: string;
  /** A monitor, if any: it prints what the server relays. */
  monitor?: string;
  /** A send of one note_on: the server (and a monitor) print it. */
  send: string;
}

const NOTE = '"note_on note=60 velocity=100"';
const NOTE_TEXT = "note_on channel=0 note=60 velocity=100 time=0";
const CLI = "deno run --allow-net src/cli/main.ts";

/** The quick start's sessions. */
const SESSIONS: Session[] = [
  {
    name: "deno task serve, and send with --allow-net alone",
    serve: "deno task serve",
    send: `${CLI} send localhost:8080 ${NOTE}`,
  },
  {
    name: "serve --relay, monitor and send, each with --allow-net alone",
    serve: `${CLI} serve --relay localhost:8080`,
    monitor: `${CLI} monitor localhost:8080`,
    send: `${CLI} send localhost:8080 ${NOTE}`,
  },
  {
    name: "deno task serve --relay, monitor and send --hex",
    serve: "deno task serve --relay",
    monitor: `${CLI} monitor localhost:8080`,
    send: `${CLI} send --hex localhost:8080 "90 3c 64"`,
  },
];

const ROOT = new URL("../", import.meta.url).pathname;

/** The `sh` blocks of a section of the README (from its `## ` heading). */
function shBlocks(readme: string, heading: string): string[][] {
  const start = readme.indexOf(`\n## ${heading}`);
  assert.ok(start >= 0, `the README has no section ${heading}`);
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((block) =>
    block[1].split("\n").map((line) => line.replace(/\s+#.*$/, "").trim())
      .filter((line) => line !== "")
  );
}

/**
 * The README's own lines, as written: the quick start's two commands, and
 * the three terminals of its next step, where `midisock` runs as the
 * README's install line installs it (the same flags, on
 * `jsr:@x/midisock/cli`, which is this checkout here).
 */
function readmeSessions(readme: string): Session[] {
  const install = shBlocks(readme, "Installing").flat().find((line) =>
    line.startsWith("deno install ")
  );
  assert.ok(install, "the README has no deno install line");
  const installed = words(install);
  const module = installed.at(-1)!;
  const flags = installed.slice(installed.indexOf("midisock") + 1, -1);
  const midisock = ["deno", "run", ...flags, module].join(" ");
  const [[serve], [send]] = shBlocks(readme, "Quick start");
  const next = shBlocks(readme, "Next step")[0].map((line) =>
    line.replace(/^midisock /, `${midisock} `)
  );
  assert.equal(next.length, 3, "the next step has three terminals");
  return [
    { name: `README's quick start: ${serve}, then ${send}`, serve, send },
    {
      name: `README's next step: ${next.join(", ")}`,
      serve: next[0],
      monitor: next[1],
      send: next[2],
    },
  ];
}

SESSIONS.push(
  ...readmeSessions(await Deno.readTextFile(`${ROOT}README.md`)),
);

/** The words of a command line, as sh splits it (quotes, no expansions). */
export function words(line: string): string[] {
  const out: string[] = [];
  for (const match of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
    out.push(match[1] ?? match[2] ?? match[3]);
  }
  return out;
}

/**
 * A quick-start line as this test runs it: `deno` is the Deno that runs the
 * tests; the README's address becomes `address`, and a serve line with no
 * address gets it.
 */
function localize(line: string, address: string): string[] {
  const given = words(line);
  const [command, ...args] = given.map((word) =>
    word === "localhost:8080" ? address : word
  );
  if (args.includes("serve") && !given.includes("localhost:8080")) {
    args.push(address);
  }
  return [command === "deno" ? DENO : command, ...args];
}

/** Runs a line from the repository's root, with no terminal. */
function run(line: string, address: string): Child {
  const [command, ...args] = localize(line, address);
  return new Child(command, args, { cwd: ROOT, env: { NO_COLOR: "1" } });
}

/**
 * Stops a child by its PID with SIGTERM (which `deno task` passes on to the
 * program it runs), and checks that it exited 0 with no error.
 */
async function stop(child: Child, what: string): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // It has exited already: its status says how.
  }
  const { code, stderr } = await child.result();
  assert.equal(code, 0, `${what} exited ${code}: ${stderr}`);
  assert.doesNotMatch(stderr, /error|Requires/, what);
}

Deno.test("The quick start's deno.json task serve is deno run --allow-net src/cli/main.ts serve", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  assert.equal(config.tasks.serve, `${CLI} serve`);
});

for (const session of SESSIONS) {
  Deno.test(`The quick start runs with no terminal: ${session.name}`, async () => {
    await using server = run(session.serve, "127.0.0.1:0");
    try {
      const [, port] = await server.waitForMatch(
        "stderr",
        /^midisock: listening on 127\.0\.0\.1:(\d+)$/,
      );
      const address = `127.0.0.1:${port}`;
      let monitor: Child | undefined;
      try {
        if (session.monitor) {
          monitor = run(session.monitor, address);
          await monitor.waitForMatch("stdout", /^# connect /);
          // On the bus before the note is sent.
          await server.waitForMatch("stdout", /^# connect /);
        }
        await using send = run(session.send, address);
        const sent = await send.result();
        assert.deepEqual(
          { code: sent.code, stdout: sent.stdout, stderr: sent.stderr },
          { code: 0, stdout: "", stderr: "" },
          session.send,
        );
        await server.waitForMatch(
          "stdout",
          new RegExp(`^127\\.0\\.0\\.1:\\d+ ${NOTE_TEXT}$`),
        );
        if (monitor) {
          await monitor.waitForMatch(
            "stdout",
            new RegExp(`^${address} ${NOTE_TEXT}$`),
          );
          await stop(monitor, session.monitor!);
        }
      } finally {
        await monitor?.[Symbol.asyncDispose]();
      }
    } finally {
      await stop(server, session.serve);
    }
  });
}

Deno.test({
  name:
    "serve --nats with --allow-net alone says it needs --allow-read to load the NATS client, and runs with it",
  ignore: ignoreWithout(NATS_SERVER),
  fn: async () => {
    await using nats = await NatsServer.start();
    const line = `${CLI} serve --nats ${nats.url} --bus quickstart`;
    await using refused = run(line, "127.0.0.1:0");
    const result = await refused.result();
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `midisock: error: Cannot load the NATS client for --nats from ${ROOT}src/cli/nats.ts: no read access to it; run again with --allow-read=${ROOT}src (or --allow-read)\n`,
    );
    await using server = run(
      line.replace("--allow-net", `--allow-net --allow-read=${ROOT}src`),
      "127.0.0.1:0",
    );
    try {
      await server.waitForMatch("stderr", /^midisock: listening on /);
      await server.waitForMatch("stdout", /^# nats connected bus=quickstart /);
    } finally {
      await stop(server, "serve --nats");
    }
  },
});

Deno.test("A variable that Deno may not read counts as unset: serve on every interface with MIDISOCK_TOKEN set and --allow-net alone runs open, and says the variable was not read", async () => {
  await using server = new Child(DENO, [
    ...words(CLI).slice(1),
    "serve",
    "0.0.0.0:0",
  ], { cwd: ROOT, env: { MIDISOCK_TOKEN: "s3cret", NO_COLOR: "1" } });
  try {
    await server.waitForMatch(
      "stderr",
      /^midisock: warning: anyone who can reach this port can play on the bus; give --allow or a token to say who may \(MIDISOCK_TOKEN, if set, was not read: that needs --allow-env=MIDISOCK_TOKEN\)$/,
    );
  } finally {
    await stop(server, "serve 0.0.0.0:0");
  }
});

Deno.test("A file named by an option is read only with read access: send --token-file with --allow-net alone names the option and the flag", async () => {
  const file = await Deno.makeTempFile({ prefix: "midisock-token-" });
  try {
    await Deno.writeTextFile(file, "s3cret\n");
    await using send = run(
      `${CLI} send --token-file ${file} localhost:8080 ${NOTE}`,
      "127.0.0.1:9",
    );
    const { code, stdout, stderr } = await send.result();
    assert.deepEqual({ code, stdout, stderr }, {
      code: 1,
      stdout: "",
      stderr:
        `midisock: error: Cannot read --token-file ${file}: no read access to it; run again with --allow-read=${file} (or --allow-read)\n`,
    });
  } finally {
    await Deno.remove(file);
  }
});
