// Copyright 2026 the midisock authors. MIT license.
/**
 * The stress figures of "nothing lost without a count, and no crash from a
 * hostile peer", in one run: each soak script in a process of its own, one
 * after another, each bounded in count and time, and the lines that carry
 * its figures.
 *
 * ```sh
 * deno run --allow-run --allow-net=127.0.0.1 --allow-read --allow-env bench/soak.ts
 * ```
 *
 * `nats-server` must be on the PATH for the NATS soak (Debian puts it in
 * `/usr/sbin`); without it, that one is skipped with a line that says so.
 * docs/benchmarks.md quotes a run.
 *
 * @module
 */

interface Soak {
  name: string;
  script: string;
  permissions: string[];
  /** The lines of its output that carry its figures. */
  figures: RegExp;
  needs?: string;
}

const SOAKS: Soak[] = [
  {
    name: "clients that come and go",
    script: "soak_churn.ts",
    permissions: ["--allow-net=127.0.0.1", "--allow-read=.", "--allow-run"],
    figures: /^(one-shot clients|sequential churn)/,
  },
  {
    name: "idle connections to the web port, past the descriptor limit",
    script: "soak_gateway.ts",
    permissions: ["--allow-run=sh", "--allow-net=127.0.0.1"],
    figures: /^(round \d+|survived)/,
  },
  {
    name: "NATS paused, then killed and started again",
    script: "soak_nats.ts",
    permissions: [
      "--allow-net=127.0.0.1",
      "--allow-run=nats-server",
      "--allow-env",
      "--allow-read",
    ],
    figures: /^lost \d+ of \d+ messages/,
    needs: "nats-server",
  },
];

const LIMIT_MS = 180_000; // for each soak, at the most

async function found(command: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

const root = new URL("../", import.meta.url);
let failed = 0;
for (const soak of SOAKS) {
  console.log(`# ${soak.name} (bench/${soak.script})`);
  if (soak.needs && !(await found(soak.needs))) {
    console.log(`  skipped: no ${soak.needs} on the PATH`);
    continue;
  }
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...soak.permissions, `bench/${soak.script}`],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(LIMIT_MS),
  }).output();
  const lines = new TextDecoder().decode(stdout).split("\n");
  for (const line of lines.filter((l) => soak.figures.test(l))) {
    console.log(`  ${line}`);
  }
  if (code !== 0) {
    failed++;
    const why = new TextDecoder().decode(stderr).trim().split("\n").at(-1);
    console.log(`  exited ${code}: ${why}`);
  }
}
Deno.exit(failed === 0 ? 0 : 1);
