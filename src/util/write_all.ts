// Copyright 2026 the midisock authors. MIT license.

/**
 * Writes all of `bytes` to a writer whose `write()` may take only some of
 * them and says how many (a `Deno.Conn`, a `Deno.FsFile`).
 */
export async function writeAll(
  writer: { write(bytes: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    at += await writer.write(bytes.subarray(at));
  }
}
