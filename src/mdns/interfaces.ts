// Copyright 2026 the midisock authors. MIT license.
// The machine's network interfaces, which mDNS joins its group on.

/**
 * The names of this machine's network interfaces. Throws an error that
 * says which permission is missing, for `what` ("advertise", "browse").
 */
export function interfaceNames(what: string): string[] {
  try {
    return [...new Set(Deno.networkInterfaces().map((i) => i.name))];
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new Error(
        `Cannot ${what} over mDNS: it needs to list the network interfaces; run with --allow-sys=networkInterfaces`,
        { cause: error },
      );
    }
    throw error;
  }
}
