// Copyright 2026 the midisock authors. MIT license.
// Test helper: the programs that some tests drive as peers, each from a
// Debian package: Python (python3), Python mido (python3-mido), openssl,
// Chromium, nats-server, and JACK (tests/_jack.ts). With only Deno installed,
// `deno task test` passes: a test that needs a peer this machine lacks is
// ignored (Deno.test's `ignore`), and the run says so in one line for each
// missing package, naming the package that brings it.
//
// CI installs every peer and sets MIDISOCK_REQUIRE_PEERS=1 (.ci/run), so
// that nothing is ignored there: a missing peer then fails the tests that
// need it, and a test of its own says which package is missing.

/** The Python that has mido: Debian's python3-mido is for it. */
export const PYTHON = "/usr/bin/python3";

/** Debian's Chromium, which the browser tests launch. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether every peer must be there (CI): a missing one fails, not ignored. */
export const REQUIRE_PEERS: boolean =
  Deno.env.get("MIDISOCK_REQUIRE_PEERS") === "1";

/** A program that some tests need. */
export interface Peer {
  /** The Debian package that brings it. */
  readonly package: string;
  /** How to get it: the command to run. */
  readonly install: string;
  /** What this machine lacks, or undefined if it has the peer. */
  readonly missing: string | undefined;
  /** Whether its tests must run even so (CI). */
  readonly required: boolean;
  /** Deno.test for a test that needs this peer (see {@linkcode needs}). */
  test(name: string, fn: TestFn): void;
}

/** A peer whose check runs once, when a test first asks for it. */
function peer(
  name: string,
  check: () => string | undefined,
  options: { install?: string; requiredBy?: string } = {},
): Peer {
  let missing: string | undefined | null = null;
  const also = options.requiredBy;
  const self: Peer = {
    package: name,
    install: options.install ?? `apt-get install ${name}`,
    get missing() {
      if (missing === null) missing = check();
      return missing;
    },
    required: REQUIRE_PEERS ||
      (also !== undefined && Deno.env.get(also) === "1"),
    test: (name, fn) => needs(self).test(name, fn),
  };
  return self;
}

/** Whether a file exists and may be run. */
export function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** Whether a command is on the PATH. */
export function onPath(command: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((dir) =>
    dir !== "" && isExecutable(`${dir}/${command}`)
  );
}

/** Debian's Python, which some tests use for what Deno cannot do. */
export const PYTHON3: Peer = peer("python3", () => {
  if (!isExecutable(PYTHON)) return `no ${PYTHON}`;
  const run = Deno.permissions.querySync({ name: "run", command: PYTHON });
  return run.state === "granted" ? undefined : `no permission to run ${PYTHON}`;
});

/** Python mido, for /usr/bin/python3: the reference peer. */
export const MIDO: Peer = peer("python3-mido", () => {
  if (!isExecutable(PYTHON)) return `no ${PYTHON}`;
  const run = Deno.permissions.querySync({ name: "run", command: PYTHON });
  if (run.state !== "granted") return `no permission to run ${PYTHON}`;
  const { success } = new Deno.Command(PYTHON, {
    args: ["-c", "import mido.sockets"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).outputSync();
  return success ? undefined : `${PYTHON} cannot import mido.sockets`;
});

/** openssl, which makes the TLS tests' throwaway CA. */
export const OPENSSL: Peer = peer(
  "openssl",
  () => onPath("openssl") ? undefined : "no openssl on the PATH",
);

/** Debian's Chromium, for the browser tests. */
export const BROWSER: Peer = peer(
  "chromium",
  () => isExecutable(CHROMIUM) ? undefined : `no ${CHROMIUM}`,
);

/** nats-server, for the bus across machines. */
export const NATS_SERVER: Peer = peer(
  "nats-server",
  () =>
    onPath("nats-server")
      ? undefined
      : "no nats-server on the PATH (Debian puts it in /usr/sbin)",
);

/**
 * A peer of the project's own: `check` says what is missing. See
 * tests/_jack.ts.
 */
export function customPeer(
  name: string,
  install: string,
  check: () => string | undefined,
  requiredBy?: string,
): Peer {
  return peer(name, check, { install, requiredBy });
}

// The packages already reported in this run. Each test file runs in a
// realm of its own, but all share the process's environment.
const NOTED = "MIDISOCK_PEERS_NOTED";

/** Says once a run that `peer` is missing (and under CI, fails a test). */
function note(peer: Peer, missing: string): void {
  const env = Deno.permissions.querySync({ name: "env", variable: NOTED });
  const noted = env.state === "granted"
    ? (Deno.env.get(NOTED) ?? "").split(",")
    : [];
  if (noted.includes(peer.package)) return;
  if (env.state === "granted") {
    Deno.env.set(NOTED, [...noted, peer.package].join(","));
  }
  if (!peer.required) {
    console.warn(
      `${peer.package} is missing (${missing}): the tests that need it are ignored; ${peer.install} brings it`,
    );
    return;
  }
  Deno.test(`${peer.package} is installed, as this run requires`, () => {
    throw new Error(
      `${peer.package} is missing (${missing}), and the tests that need it fail: ${peer.install}`,
    );
  });
}

/**
 * Whether to ignore a test that needs `peers`: one of them is missing, and
 * this run does not require it. Each missing package is reported once a
 * run. A test says `ignore: ignoreWithout(MIDO)`.
 */
export function ignoreWithout(...peers: Peer[]): boolean {
  let ignore = false;
  for (const peer of peers) {
    const missing = peer.missing;
    if (missing === undefined) continue;
    note(peer, missing);
    if (!peer.required) ignore = true;
  }
  return ignore;
}

/** A test's body, as Deno.test takes it. */
export type TestFn = (t: Deno.TestContext) => void | Promise<void>;

/** Deno.test for the tests that need some peers. */
export interface PeerTests {
  /**
   * Deno.test(name, fn), ignored when a peer is missing and the run does
   * not require it (see {@linkcode ignoreWithout}).
   */
  test(name: string, fn: TestFn): void;
}

/**
 * Deno.test for the tests that need all of `peers`: a file says
 * `needs(NATS_SERVER, MIDO).test("name", async () => {...})`, or for one
 * peer `MIDO.test(...)`, where it would say Deno.test.
 */
export function needs(...peers: Peer[]): PeerTests {
  return {
    test(name, fn) {
      Deno.test({ name, ignore: ignoreWithout(...peers), fn });
    },
  };
}
