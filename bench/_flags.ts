// Copyright 2026 the midisock authors. MIT license.
// The command-line flags of the benchmarks: --name and --name=VALUE.

/** `--name=VALUE`'s value, "" for a bare `--name`, undefined if absent. */
export function flag(name: string): string | undefined {
  for (const arg of Deno.args) {
    if (arg === `--${name}`) return "";
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

/** `--name=N` as a number, or `fallback` if absent. */
export function numberFlag(name: string, fallback: number): number {
  const value = flag(name);
  return value === undefined || value === "" ? fallback : Number(value);
}
