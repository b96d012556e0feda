// Copyright 2026 the midisock authors. MIT license.
// The examples in src/device/ and on docs/devices.md that need a MIDI
// system (virtual ports) are marked `ignore`, because
// `deno test --doc` runs with no JACK server of its own. This test runs them
// all the same, each as a program, on a JACK server that it starts (see
// tests/_jack.ts), so that every example of the device module is run and
// checked.

import assert from "node:assert/strict";
import { DENO } from "./_child.ts";
import { IGNORE_JACK, Jack } from "./_jack.ts";

const ROOT = new URL("../", import.meta.url);
const DIR = new URL("src/device/", ROOT);

/** The `ts ignore` code blocks of a file's doc comments, with their title. */
function ignoredExamples(path: URL): { title: string; code: string }[] {
  const text = Deno.readTextFileSync(path);
  const examples = [];
  const block =
    /@example ([^\n]*)\n((?:\s*\*[^\n]*\n)*?)\s*\* ```ts ignore\n((?:\s*\*[^\n]*\n)*?)\s*\* ```/g;
  for (const match of text.matchAll(block)) {
    const code = match[3].split("\n").map((line) =>
      line.replace(/^\s*\* ?/, "")
    ).join("\n");
    examples.push({ title: match[1], code });
  }
  return examples;
}

/** Points the package's own names at its files. */
function resolved(code: string): string {
  return code
    .replaceAll(
      '"@x/midisock/device"',
      JSON.stringify(new URL("src/device/mod.ts", ROOT).href),
    )
    .replaceAll('"@x/midisock"', JSON.stringify(new URL("mod.ts", ROOT).href));
}

/** The `ts ignore` blocks of the docs' page on devices. */
function pageExamples(): { title: string; code: string }[] {
  const text = Deno.readTextFileSync(new URL("docs/devices.md", ROOT));
  assert.ok(
    text.startsWith("# Local MIDI devices\n"),
    "docs/devices.md is not the page Local MIDI devices",
  );
  return [...text.matchAll(/```ts ignore\n([\s\S]*?)```/g)].map((
    match,
    i,
  ) => ({ title: `Local MIDI devices, example ${i + 1}`, code: match[1] }));
}

const examples = [
  ...[...Deno.readDirSync(DIR)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".ts"))
    .map((entry) => entry.name)
    .sort()
    .flatMap((name) =>
      ignoredExamples(new URL(name, DIR)).map((example) => ({
        file: name,
        ...example,
      }))
    ),
  ...pageExamples().map((example) => ({
    file: "docs/devices.md",
    ...example,
  })),
];

Deno.test("src/device/ and docs/devices.md have their device examples that need a MIDI system marked ignore, and only those", () => {
  assert.deepEqual(examples.map(({ file, title }) => `${file}: ${title}`), [
    "mod.ts: A virtual output, listed and opened from the other side",
    "open_port.ts: A virtual output of this program is an input for the others",
    "open_port.ts: A virtual input of this program is an output for the others",
    "open_port.ts: Playing a keyboard into a server",
    "open_port.ts: Playing a server on a synth",
    "docs/devices.md: Local MIDI devices, example 1",
  ]);
});

Deno.test({
  name: "The device module's examples that need a MIDI system run on JACK",
  ignore: IGNORE_JACK,
  fn: async (t) => {
    await using _jack = await Jack.start();
    const dir = await Deno.makeTempDir({ prefix: "midisock-doc-" });
    try {
      for (const [i, { file, title, code }] of examples.entries()) {
        await t.step(`${file}: ${title}`, async () => {
          const path = `${dir}/example_${i}.ts`;
          await Deno.writeTextFile(path, resolved(code));
          const { code: status, stderr } = await new Deno.Command(DENO, {
            args: [
              "run",
              "--config",
              new URL("deno.json", ROOT).pathname,
              "--allow-ffi",
              "--allow-read",
              "--allow-env",
              "--allow-net=127.0.0.1",
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
  },
});
