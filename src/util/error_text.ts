// Copyright 2026 the midisock authors. MIT license.
// Private: an error's text, for messages and for the CLI's lines.

/** The message of an error, or the text of anything else thrown. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The text of an error, on one line. */
export function oneLine(error: unknown): string {
  return errorText(error).replace(/\s*\n\s*/g, " ").trim();
}

/** What was thrown, as an Error: itself if it is one. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
