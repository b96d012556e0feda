// Copyright 2026 the midisock authors. MIT license.
// What the commands share in reading their arguments: options, addresses,
// usage errors, and the files and variables that hold TLS and tokens.

import { parseArgs } from "node:util";
import { type Address, parseAddress } from "../transport/address.ts";
import type { DialTls } from "../transport/dial.ts";
import { oneLine } from "../util/error_text.ts";
import { PROGRAM } from "./help.ts";

/** An error in the command line: exit status 2. */
export class UsageError extends Error {}

/** Parses a command's options; errors become usage errors. */
export function parseCommand<T extends Parameters<typeof parseArgs>[0]>(
  command: string,
  args: string[],
  config: T,
) {
  try {
    return parseArgs({ ...config, args, allowPositionals: true, strict: true });
  } catch (error) {
    throw usage(error, command);
  }
}

/**
 * A usage error from `error`, such as parseArgs' or parseAddress's, with
 * the help to see: the command's, or the program's.
 */
export function usage(error: unknown, command?: string): UsageError {
  let text = oneLine(error);
  const code = (error as { code?: string }).code;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    // Keep "Unknown option '--foo'", not the advice about "--" after it.
    const stop = text.indexOf(". ");
    if (stop >= 0) text = text.slice(0, stop);
    if (command) text += ` for ${command}`;
  }
  const help = command ? `${PROGRAM} ${command} --help` : `${PROGRAM} --help`;
  return new UsageError(`${text} (see ${help})`);
}

/**
 * An address from the command line; the host defaults to localhost. With
 * `connecting`, port 0 is an error.
 */
export function address(text: string, connecting: boolean): Address {
  let parsed;
  try {
    parsed = parseAddress(text, { defaultHost: "localhost" });
  } catch (error) {
    throw new UsageError(oneLine(error));
  }
  if (connecting && parsed.port === 0) {
    throw new UsageError(
      `Invalid address ${JSON.stringify(text)}: cannot connect to port 0`,
    );
  }
  return parsed;
}

/**
 * A number option of a command (`--name TEXT`): `fallback` when it is not
 * given, else a finite number in `min..max` (above `min`, with
 * `aboveMin`), an integer with `integer`, or a usage error that says so.
 */
export function numberOption(
  command: string,
  name: string,
  text: string | undefined,
  fallback: number,
  range: { min: number; max: number; integer?: boolean; aboveMin?: boolean },
): number {
  if (text === undefined) return fallback;
  const { min, max, integer, aboveMin } = range;
  const value = Number(text);
  if (
    text.trim() === "" || !Number.isFinite(value) || value < min ||
    (aboveMin && value === min) || value > max ||
    (integer && !Number.isInteger(value))
  ) {
    const kind = integer ? "an integer" : "a number";
    const span = aboveMin ? `> ${min} and <= ${max}` : `in ${min}..${max}`;
    throw new UsageError(
      `Invalid --${name} ${
        JSON.stringify(text)
      }: expected ${kind} ${span} (see ${PROGRAM} ${command} --help)`,
    );
  }
  return value;
}

/** A command's one positional argument (an address), or `fallback`. */
export function onePositional(
  command: string,
  positionals: string[],
  fallback?: string,
): string {
  if (positionals.length > 1) {
    throw new UsageError(
      `${command} takes one address, got ${positionals.length} arguments: ${
        positionals.map((p) => JSON.stringify(p)).join(" ")
      } (see ${PROGRAM} ${command} --help)`,
    );
  }
  const text = positionals[0] ?? fallback;
  if (text === undefined) {
    throw new UsageError(
      `${command} needs an address, such as localhost:8080 (see ${PROGRAM} ${command} --help)`,
    );
  }
  return text;
}

/**
 * A command's two positional arguments, an address and a file (record,
 * play), or a usage error.
 */
export function addressAndFile(
  command: string,
  positionals: string[],
): [where: string, path: string] {
  if (positionals.length !== 2) {
    throw new UsageError(
      `${command} takes an address and a file, got ${positionals.length} arguments (see ${PROGRAM} ${command} --help)`,
    );
  }
  return [positionals[0], positionals[1]];
}

/** The options that connect with TLS: monitor's, send's and connect's. */
export const TLS_CLIENT_OPTIONS = {
  tls: { type: "boolean" },
  ca: { type: "string" },
  "token-file": { type: "string" },
  "insecure-token": { type: "boolean" },
  name: { type: "string" },
  "secret-file": { type: "string" },
  user: { type: "string" },
  "password-file": { type: "string" },
} as const;

/**
 * The token: from --token-file FILE (its first line), or else from the
 * MIDISOCK_TOKEN environment variable; never from the command line, where
 * ps would show it.
 */
export function readToken(
  file: string | undefined,
): Promise<string | undefined> {
  return readSecret("--token-file", file, "MIDISOCK_TOKEN");
}

/**
 * A secret (a token, a password): the first line of the option's FILE, or
 * else the environment variable `env` (see {@linkcode optionalEnv}); never
 * an argument, which ps shows.
 */
export async function readSecret(
  option: string,
  file: string | undefined,
  env: string,
): Promise<string | undefined> {
  if (file === undefined) return optionalEnv(env);
  const text = (await readText(option, file)).split(/\r?\n/)[0];
  if (text === "") {
    throw new Error(`Cannot use ${option} ${file}: its first line is empty`);
  }
  return text;
}

/**
 * An optional environment variable: its value, or undefined when it is
 * unset, empty, or not ours to read. The program runs with --allow-net
 * alone, so a variable that Deno does not let it read counts as unset:
 * Deno is asked (without a prompt), and the variable is read only if it
 * says "granted".
 */
export function optionalEnv(variable: string): string | undefined {
  return envReadable(variable)
    ? Deno.env.get(variable) || undefined
    : undefined;
}

/** Whether Deno lets the program read an environment variable (no prompt). */
export function envReadable(variable: string): boolean {
  return Deno.permissions.querySync({ name: "env", variable }).state ===
    "granted";
}

/**
 * A file's text, for an option; a failure names the option and the file.
 * Reading it is the one time the program asks for read access (a prompt,
 * in a terminal): the user named the file.
 */
export function readText(option: string, path: string): Promise<string> {
  return readPath(`${option} ${path}`, path, Deno.readTextFile);
}

/** A file's bytes (`play FILE`), or an error as readText's. */
export function readBytes(path: string): Promise<Uint8Array> {
  return readPath(path, path, Deno.readFile);
}

// Reads `path`; an error names `what`, and the flag that lets Deno read it.
async function readPath<T>(
  what: string,
  path: string,
  read: (path: string) => Promise<T>,
): Promise<T> {
  try {
    return await read(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new Error(
        `Cannot read ${what}: no read access to it; run again with --allow-read=${path} (or --allow-read)`,
      );
    }
    throw new Error(`Cannot read ${what}: ${oneLine(error)}`);
  }
}

/**
 * How monitor, send and connect connect: TLS, and the hello line, which
 * they always send (with no field, if need be), so that a server can tell
 * them why it turns them away.
 */
export interface Link {
  tls?: DialTls;
  hello: { name?: string; token?: string };
  insecureToken?: boolean;
  /** Ask for the server's echo (`midisock ping`). */
  echo?: boolean;
  /**
   * Credentials for a `midi2://` host: --secret-file, or --user and
   * --password-file.
   */
  midi2?: { secret?: string; user?: string; password?: string };
}

/** The Link from --tls, --ca, --name, the token and --insecure-token. */
export async function clientLink(
  values: {
    tls?: boolean;
    ca?: string;
    name?: string;
    "token-file"?: string;
    "insecure-token"?: boolean;
    "secret-file"?: string;
    user?: string;
    "password-file"?: string;
  },
): Promise<Link> {
  const token = await readToken(values["token-file"]);
  return {
    tls: await clientTls(values),
    hello: { name: values.name, token },
    insecureToken: values["insecure-token"],
    midi2: await midi2Credentials(values),
  };
}

/**
 * The text of a secret file: all of it, but one trailing newline (LF or
 * CRLF), so that a secret may hold any character. An empty secret is an
 * error that names the option and the file.
 */
export async function readSecretFile(
  option: string,
  file: string,
): Promise<string> {
  const text = (await readText(option, file)).replace(/\r?\n$/, "");
  if (text === "") throw new Error(`Cannot use ${option} ${file}: it is empty`);
  return text;
}

/**
 * The credentials of a `midi2://` host: --secret-file FILE (all of it but a
 * trailing newline), or --user NAME and --password-file FILE (the same).
 */
async function midi2Credentials(
  values: { "secret-file"?: string; user?: string; "password-file"?: string },
): Promise<Link["midi2"]> {
  const { user } = values;
  const secretFile = values["secret-file"];
  const passwordFile = values["password-file"];
  if ((user === undefined) !== (passwordFile === undefined)) {
    throw new UsageError(
      "--user and --password-file go together (see --help)",
    );
  }
  if (secretFile === undefined && user === undefined) return undefined;
  const read = readSecretFile;
  return {
    secret: secretFile === undefined
      ? undefined
      : await read("--secret-file", secretFile),
    user,
    password: passwordFile === undefined
      ? undefined
      : await read("--password-file", passwordFile),
  };
}

/** TLS for connect(), from --tls and --ca FILE (which implies --tls). */
async function clientTls(
  values: { tls?: boolean; ca?: string },
): Promise<DialTls | undefined> {
  if (values.ca !== undefined) {
    return { caCerts: [await readText("--ca", values.ca)] };
  }
  return values.tls ? true : undefined;
}

/**
 * Rewrites an option whose value may be left out (`--ipmidi [N]`) into the
 * `--flag=VALUE` form that parseArgs reads: `--flag=VALUE` stays,
 * `--flag VALUE` takes the next argument if `takes(it)`, and `--flag` alone
 * is `--flag=` + `fallback`.
 */
export function optionalValue(
  args: readonly string[],
  flag: string,
  takes: (next: string) => boolean,
  fallback: string,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (arg !== flag) {
      out.push(arg);
      continue;
    }
    const next = args[i + 1];
    if (next !== undefined && !next.startsWith("-") && takes(next)) {
      out.push(`${flag}=${next}`);
      i++;
    } else {
      out.push(`${flag}=${fallback}`);
    }
  }
  return out;
}
