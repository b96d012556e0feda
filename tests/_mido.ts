// Copyright 2026 the midisock authors. MIT license.
// Test helper: asks Debian's python3-mido (in /usr/bin/python3) questions
// through tests/fixtures/mido_oracle.py, one process per call, JSON both ways.

import type { Message } from "../mod.ts";

// The Python that has mido, named once in _peers.ts.
import { PYTHON } from "./_peers.ts";
export { PYTHON };

const ORACLE = new URL("./fixtures/mido_oracle.py", import.meta.url).pathname;

/** A message as mido's keyword arguments: snake_case, data as a list. */
export type MidoFields = Record<string, string | number | number[]>;

/** Converts a message to mido's `Message(**fields)` arguments. */
export function toMido(msg: Message): MidoFields {
  const out: MidoFields = {};
  for (const [key, value] of Object.entries(msg)) {
    if (key === "frameType") out.frame_type = value;
    else if (key === "frameValue") out.frame_value = value;
    else if (value instanceof Uint8Array) out[key] = Array.from(value);
    else out[key] = value;
  }
  return out;
}

/** Hex of bytes, as Python's bytes.hex(). */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    s += bytes[i].toString(16).padStart(2, "0");
  }
  return s;
}

/** Bytes of a hex string, as Python's bytes.fromhex(). */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

/**
 * Runs the oracle with one request and returns its answer. The child is
 * always awaited and its pipes closed, so the test sanitizers stay quiet.
 */
export async function askMido<T>(request: unknown): Promise<T> {
  const child = new Deno.Command(PYTHON, {
    args: [ORACLE],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Collect the output while the input is written, so no pipe can fill up.
  const output = child.output();
  const writer = child.stdin.getWriter();
  try {
    await writer.write(new TextEncoder().encode(JSON.stringify(request)));
  } finally {
    await writer.close();
  }
  const { code, stdout, stderr } = await output;
  if (code !== 0) {
    throw new Error(
      `${PYTHON} ${ORACLE} exited with ${code}: ${
        new TextDecoder().decode(stderr)
      }`,
    );
  }
  return JSON.parse(new TextDecoder().decode(stdout)) as T;
}

/**
 * Runs a Python script with mido (`python3 -c SCRIPT ARGS...`) that prints
 * one JSON value, and returns it; a failed script fails with its stderr.
 */
export async function runPython<T>(
  script: string,
  ...args: string[]
): Promise<T> {
  const out = await new Deno.Command(PYTHON, {
    args: ["-c", script, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `${PYTHON} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return JSON.parse(new TextDecoder().decode(out.stdout)) as T;
}

/** mido's `Message(**m).bin()` (as hex) and `str(...)` of each message. */
export function midoMessages(
  messages: readonly Message[],
): Promise<[string, string][]> {
  return askMido({ op: "messages", messages: messages.map(toMido) });
}

/** mido's `str()` of each message that `mido.parse_all()` finds in each stream. */
export function midoParseAll(
  streams: readonly Uint8Array[],
): Promise<string[][]> {
  return askMido({ op: "parse_all", streams: streams.map(toHex) });
}

/** mido's bytes for each list of messages, each message's bin() in a row. */
export async function midoEncode(
  streams: readonly (readonly Message[])[],
): Promise<Uint8Array[]> {
  const hex = await askMido<string[]>({
    op: "encode",
    streams: streams.map((s) => s.map(toMido)),
  });
  return hex.map(fromHex);
}
