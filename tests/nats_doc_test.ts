// Copyright 2026 the midisock authors. MIT license.
// The doc examples that start a nats-server of their own are marked
// `ts ignore`, because `deno test --doc` would fail them on a machine
// without nats-server, and cannot ignore one example. This test finds them
// (in the JSDoc of src/ and of the root modules, and in README.md and
// docs/*.md) and runs each as a program when nats-server is on the PATH,
// type-checked, as `deno test --doc` would have; without nats-server it is
// ignored and says so once (tests/_peers.ts), and under CI it runs.
//
// A new example that starts nats-server: mark it ```ts ignore, and it is run
// here.

import assert from "node:assert/strict";
import { DENO } from "./_child.ts";
import { NATS_SERVER } from "./_peers.ts";

const ROOT = new URL("../", import.meta.url);

interface Example {
  file: string;
  title: string;
  code: string;
  ignored: boolean;
}

/** The TypeScript files of src/ and the root modules, relative to ROOT. */
function sources(): string[] {
  const files = ["mod.ts", "nats.ts"];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(new URL(dir, ROOT))) {
      const path = `${dir}${entry.name}`;
      if (entry.isDirectory) walk(`${path}/`);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  };
  walk("src/");
  return files.sort();
}

/** The markdown files that `deno test --doc` runs: README.md and docs/. */
function markdown(): string[] {
  const files = ["README.md"];
  try {
    for (const entry of Deno.readDirSync(new URL("docs/", ROOT))) {
      if (entry.isFile && entry.name.endsWith(".md")) {
        files.push(`docs/${entry.name}`);
      }
    }
  } catch {
    // No docs/ yet.
  }
  return files.sort();
}

/** The ts code blocks of a file's doc comments, with their titles. */
function jsdocExamples(file: string): Example[] {
  const text = Deno.readTextFileSync(new URL(file, ROOT));
  const block =
    /@example ([^\n]*)\n((?:\s*\*[^\n]*\n)*?)\s*\* ```ts( ignore)?\n((?:\s*\*[^\n]*\n)*?)\s*\* ```/g;
  return [...text.matchAll(block)].map((match) => ({
    file,
    title: match[1],
    ignored: match[3] !== undefined,
    code: match[4].split("\n").map((line) => line.replace(/^\s*\* ?/, ""))
      .join("\n"),
  }));
}

/** The ts code blocks of a markdown file, each titled by its line. */
function markdownExamples(file: string): Example[] {
  const text = Deno.readTextFileSync(new URL(file, ROOT));
  return [...text.matchAll(/^```ts( ignore)?\n([\s\S]*?)^```/gm)].map((
    match,
  ) => ({
    file,
    title: `the example at line ${
      text.slice(0, match.index).split("\n").length
    }`,
    ignored: match[1] !== undefined,
    code: match[2],
  }));
}

/** Whether an example starts a nats-server. */
const startsNats = (example: Example) =>
  /["']nats-server["']/.test(example.code);

const jsdoc = sources().flatMap(jsdocExamples).filter(startsNats);
const docs = markdown().flatMap(markdownExamples).filter(startsNats);

/** Points the package's own names at its files. */
function resolved(code: string): string {
  const at = (path: string) => JSON.stringify(new URL(path, ROOT).href);
  return code
    .replaceAll('"@x/midisock/nats"', at("nats.ts"))
    .replaceAll('"@x/midisock"', at("mod.ts"));
}

Deno.test("The JSDoc examples that start a nats-server are marked ts ignore, so that deno test --doc passes without one", () => {
  assert.notEqual(jsdoc.length, 0, "no JSDoc example starts nats-server");
  assert.deepEqual(
    jsdoc.filter((example) => !example.ignored).map(({ file, title }) =>
      `${file}: ${title}`
    ),
    [],
  );
});

NATS_SERVER.test("The doc examples that start a nats-server run with it", async (t) => {
  const examples = [...jsdoc, ...docs].filter((example) => example.ignored);
  const dir = await Deno.makeTempDir({ prefix: "midisock-nats-doc-" });
  try {
    for (const [i, { file, title, code }] of examples.entries()) {
      await t.step(`${file}: ${title}`, async () => {
        const path = `${dir}/example_${i}.ts`;
        await Deno.writeTextFile(path, resolved(code));
        const { code: status, stderr } = await new Deno.Command(DENO, {
          args: [
            "run",
            "--check",
            "--config",
            new URL("deno.json", ROOT).pathname,
            "--allow-net=127.0.0.1",
            "--allow-run=nats-server",
            "--allow-read",
            path,
          ],
          stdout: "null",
          stderr: "piped",
        }).output();
        assert.equal(status, 0, new TextDecoder().decode(stderr));
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
