// Copyright 2026 the midisock authors. MIT license.
// Private: an error's text on one line, for the CLI's lines.

/** The text of an error, on one line. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, " ").trim();
}
