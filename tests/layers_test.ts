// Copyright 2026 the midisock authors. MIT license.
/**
 * The layer rule of docs/architecture.md, as a test: every import under src/
 * goes to the same folder or to a folder of a lower layer, never into
 * another folder's private (`_`) file, and no import circle exists, type
 * imports included. The imports come from Deno's own module graph
 * (`deno info --json`), so what is checked is what Deno resolves.
 */

import assert from "node:assert/strict";
import { DENO } from "./_child.ts";

/**
 * The layers, lowest first. A folder may import only from its own folder
 * and from folders of a lower layer; folders on one layer are siblings and
 * import nothing from each other. Keep this table and docs/architecture.md
 * the same.
 */
export const LAYERS: Readonly<Record<string, number>> = {
  util: 0,
  midi: 1,
  transport: 2,
  smf: 2,
  mdns: 2,
  port: 3,
  client: 4,
  bus: 5,
  gateway: 6,
  nats: 6,
  device: 6,
  cli: 7,
};

/** Files outside src/ that a file in src/ may import. */
const OUTSIDE_ALLOWED = new Set(["deno.json"]);

/** An import from one file of src/ to another, by paths relative to src/. */
export interface Edge {
  from: string;
  to: string;
}

function folderOf(path: string): string {
  const slash = path.indexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * What breaks the layer rule in a graph of src/: each problem as one line.
 * `files` are every file of src/, `edges` every import between them, with
 * paths relative to src/ (`port/socket_port.ts`); an import of a file
 * outside src/ has a `to` that starts with `../`.
 */
export function layerProblems(
  files: readonly string[],
  edges: readonly Edge[],
): string[] {
  const problems: string[] = [];
  for (const file of files) {
    if (!(folderOf(file) in LAYERS)) {
      problems.push(
        `src/${file} is in no layer: put it in a folder of docs/architecture.md (${
          Object.keys(LAYERS).join(", ")
        })`,
      );
    }
  }
  for (const { from, to } of edges) {
    if (to.startsWith("../")) {
      const outside = to.slice(3);
      if (!OUTSIDE_ALLOWED.has(outside)) {
        problems.push(`src/${from} imports ${outside}, outside src/`);
      }
      continue;
    }
    const a = folderOf(from), b = folderOf(to);
    if (a === b || !(a in LAYERS) || !(b in LAYERS)) continue;
    if (LAYERS[b] >= LAYERS[a]) {
      const how = LAYERS[b] === LAYERS[a] ? "a sibling" : "a higher";
      problems.push(
        `src/${from} (layer ${LAYERS[a]}, ${a}/) imports src/${to} (layer ${
          LAYERS[b]
        }, ${b}/), ${how} layer`,
      );
    }
    if (baseName(to).startsWith("_")) {
      problems.push(
        `src/${from} reaches into src/${to}, a private file of ${b}/`,
      );
    }
  }
  for (const circle of circles(files, edges)) {
    problems.push(
      `import circle: ${
        [...circle, circle[0]].map((f) => `src/${f}`).join(" -> ")
      }`,
    );
  }
  return problems;
}

/**
 * The import circles of a graph, one for each strongly connected component
 * of more than one file (Tarjan's algorithm), or file that imports itself:
 * the shortest circle through the component's first file by name.
 */
function circles(
  files: readonly string[],
  edges: readonly Edge[],
): string[][] {
  const next = new Map<string, string[]>();
  for (const file of files) next.set(file, []);
  for (const { from, to } of edges) {
    if (next.has(from) && next.has(to)) next.get(from)!.push(to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || next.get(v)!.includes(v)) {
        found.push(shortestCircle(component.sort()[0], new Set(component)));
      }
    }
  };
  // The shortest path from `start` back to itself, inside one component.
  const shortestCircle = (start: string, inside: Set<string>) => {
    const before = new Map<string, string>();
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      for (const w of next.get(queue[i])!) {
        if (!inside.has(w) || before.has(w)) continue;
        before.set(w, queue[i]);
        if (w === start) {
          const path = [];
          for (let u = before.get(start)!; u !== start; u = before.get(u)!) {
            path.push(u);
          }
          return [start, ...path.reverse()];
        }
        queue.push(w);
      }
    }
    return [start];
  };
  for (const file of [...next.keys()].sort()) {
    if (!index.has(file)) visit(file);
  }
  return found;
}

const ROOT = new URL("../", import.meta.url);
const SRC = new URL("src/", ROOT);

async function sourceFiles(dir: URL, prefix = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) {
      files.push(
        ...await sourceFiles(
          new URL(`${entry.name}/`, dir),
          `${prefix}${entry.name}/`,
        ),
      );
    } else if (entry.name.endsWith(".ts")) {
      files.push(`${prefix}${entry.name}`);
    }
  }
  return files.sort();
}

/** Every file of src/, and every import among them, from Deno's graph. */
async function sourceGraph(): Promise<{ files: string[]; edges: Edge[] }> {
  const files = await sourceFiles(SRC);
  const entry = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      entry,
      files.map((f) => `import ${JSON.stringify(new URL(f, SRC).href)};\n`)
        .join(""),
    );
    const { code, stdout, stderr } = await new Deno.Command(DENO, {
      args: ["info", "--json", "--no-npm", "--no-remote", entry],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const graph = JSON.parse(new TextDecoder().decode(stdout)) as {
      modules: {
        specifier: string;
        dependencies?: {
          code?: { specifier: string };
          type?: { specifier: string };
        }[];
      }[];
    };
    const inSrc = (href: string) =>
      href.startsWith(SRC.href) ? href.slice(SRC.href.length) : undefined;
    const edges: Edge[] = [];
    for (const module of graph.modules) {
      const from = inSrc(module.specifier);
      if (from === undefined) continue;
      for (const dep of module.dependencies ?? []) {
        for (const target of [dep.code?.specifier, dep.type?.specifier]) {
          if (!target?.startsWith("file:")) continue;
          const to = inSrc(target) ??
            `../${target.slice(ROOT.href.length)}`;
          edges.push({ from, to });
        }
      }
    }
    return { files, edges };
  } finally {
    await Deno.remove(entry);
  }
}

Deno.test("Every import in src/ goes to its own folder or a lower layer, never into another folder's private file, with no circle", async () => {
  const { files, edges } = await sourceGraph();
  assert.ok(files.length > 50, `only ${files.length} files in src/`);
  assert.ok(edges.length > 100, `only ${edges.length} imports in src/`);
  // Type imports are in the graph too: port/events.ts imports only a type.
  assert.ok(
    edges.some((e) => e.from === "port/events.ts"),
    "the graph has no type-only imports",
  );
  assert.deepEqual(layerProblems(files, edges), []);
});

Deno.test("The layer check finds a planted climb, a sibling import, a private reach, a file outside the layers and a circle", () => {
  const files = [
    "midi/message.ts",
    "midi/parser.ts",
    "port/socket_port.ts",
    "port/_outbox.ts",
    "bus/hub.ts",
    "bus/_cidr.ts",
    "gateway/web_gateway.ts",
    "nats/nats_bridge.ts",
    "stray.ts",
  ];
  const ok: Edge[] = [
    { from: "port/socket_port.ts", to: "midi/message.ts" },
    { from: "port/socket_port.ts", to: "port/_outbox.ts" },
    { from: "bus/hub.ts", to: "bus/_cidr.ts" },
    { from: "gateway/web_gateway.ts", to: "bus/hub.ts" },
  ];
  assert.deepEqual(
    layerProblems(files.filter((f) => f !== "stray.ts"), ok),
    [],
  );
  assert.deepEqual(
    layerProblems(files, [
      ...ok,
      { from: "midi/parser.ts", to: "port/socket_port.ts" },
      { from: "nats/nats_bridge.ts", to: "gateway/web_gateway.ts" },
      { from: "bus/hub.ts", to: "port/_outbox.ts" },
      { from: "midi/message.ts", to: "midi/parser.ts" },
      { from: "midi/parser.ts", to: "midi/message.ts" },
      { from: "bus/hub.ts", to: "../mod.ts" },
    ]),
    [
      `src/stray.ts is in no layer: put it in a folder of docs/architecture.md (${
        Object.keys(LAYERS).join(", ")
      })`,
      "src/midi/parser.ts (layer 1, midi/) imports src/port/socket_port.ts (layer 3, port/), a higher layer",
      "src/nats/nats_bridge.ts (layer 6, nats/) imports src/gateway/web_gateway.ts (layer 6, gateway/), a sibling layer",
      "src/bus/hub.ts reaches into src/port/_outbox.ts, a private file of port/",
      "src/bus/hub.ts imports mod.ts, outside src/",
      "import circle: src/midi/message.ts -> src/midi/parser.ts -> src/midi/message.ts",
    ],
  );
});

Deno.test("No file in src/ but the generated page bundle is over 900 lines", async () => {
  const long: string[] = [];
  for (const file of await sourceFiles(SRC)) {
    if (file === "gateway/_web_assets.ts") continue;
    const lines = (await Deno.readTextFile(new URL(file, SRC))).split("\n")
      .length - 1;
    if (lines > 900) long.push(`src/${file}: ${lines} lines`);
  }
  assert.deepEqual(long, []);
});

Deno.test("docs/architecture.md names every file of src/, and each folder's layer as this test has it", async () => {
  const page = await Deno.readTextFile(new URL("docs/architecture.md", ROOT));
  const missing = (await sourceFiles(SRC)).filter((file) =>
    !page.includes(`\`${file}\``) && !page.includes(`\`${baseName(file)}\``)
  );
  assert.deepEqual(missing, []);
  for (const [folder, layer] of Object.entries(LAYERS)) {
    assert.match(page, new RegExp(`\\|\\s+${layer} \\| \`${folder}/\``));
  }
});
