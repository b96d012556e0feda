// Copyright 2026 the midisock authors. MIT license.
// Private: finds a MIDI port by name, as the CLI and openInput() and
// openOutput() take it: the exact name, or else a piece of it that no other
// port's name has, in any case.

/** The names, quoted, for an error message. */
function quoted(names: readonly string[]): string {
  return names.map((name) => JSON.stringify(name)).join(", ");
}

/** What there is, for an error message: `the inputs are "a", "b"`. */
function available(kind: string, names: readonly string[]): string {
  return names.length === 0
    ? `there are no MIDI ${kind}s`
    : `the MIDI ${kind}s are ${quoted(names)}`;
}

/**
 * Checks a port's name, as given to open or create a port.
 *
 * @throws {TypeError} If it is not a string, or is empty.
 */
export function checkName(name: string, kind: "input" | "output"): void {
  if (typeof name !== "string" || name === "") {
    throw new TypeError(
      `Invalid MIDI ${kind} name: expected a non-empty string, got ${
        JSON.stringify(name)
      }`,
    );
  }
}

/**
 * The index of the port that `query` names among `names`: the first with
 * exactly that name, or else the only one whose name holds `query`,
 * ignoring case.
 *
 * @param names The ports' names, in the system's order.
 * @param query The name asked for.
 * @param kind `"input"` or `"output"`, for error messages.
 * @returns The index in `names`.
 * @throws {TypeError} If `query` is not a string, or is empty.
 * @throws {RangeError} If no port matches, or more than one does; the
 * message lists the ports there are.
 */
export function matchPort(
  names: readonly string[],
  query: string,
  kind: "input" | "output",
): number {
  checkName(query, kind);
  const exact = names.indexOf(query);
  if (exact >= 0) return exact;
  const lower = query.toLowerCase();
  const found: number[] = [];
  names.forEach((name, i) => {
    if (name.toLowerCase().includes(lower)) found.push(i);
  });
  if (found.length === 1) return found[0];
  if (found.length === 0) {
    throw new RangeError(
      `No MIDI ${kind} matches ${JSON.stringify(query)}: ${
        available(kind, names)
      }`,
    );
  }
  throw new RangeError(
    `MIDI ${kind} name ${JSON.stringify(query)} is ambiguous: it matches ${
      quoted(found.map((i) => names[i]))
    }; give more of the name (${available(kind, names)})`,
  );
}
