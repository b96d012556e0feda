// Copyright 2026 the midisock authors. MIT license.

import { errorText } from "../util/error_text.ts";
import { connectNats, credsAuthenticator } from "./_transport.ts";
import type { PortServer } from "../bus/port_server.ts";
import { type Backoff, exponentialBackoff } from "../client/backoff.ts";
import { type NatsBridge, openBridge } from "./nats_bridge.ts";

/** Letters, digits, `-` and `_`: one token of a NATS subject. */
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * TLS for the link to NATS. The bridge dials with TLS when the server
 * requires it, or when this object is given (then the server must offer
 * TLS). The server's certificate is checked against the system's
 * certificate authorities, and these. Client certificates are not
 * supported (Deno's STARTTLS has none): a hub proves who it is with a
 * token, a user and password, or a credentials file.
 */
export interface NatsTlsOptions {
  /** PEM text of more certificate authorities to trust. */
  ca?: string;
  /** A PEM file of more certificate authorities to trust (needs `--allow-read`). */
  caFile?: string;
}

/** Options for {@linkcode joinNats}. */
export interface NatsBridgeOptions {
  /**
   * The NATS servers: `nats://HOST:PORT`, `tls://HOST:PORT` or `HOST:PORT`,
   * one or a list (of one cluster: the client picks one, and another when
   * the link is lost).
   */
  servers: string | string[];
  /**
   * The bus: every hub bridged with the same name on the same NATS system
   * is one bus. Letters, digits, `-` and `_` (it is a subject token).
   */
  bus: string;
  /**
   * This hub's id on the bus, unique among its hubs. Letters, digits, `-`
   * and `_`.
   *
   * @default {a random id of 12 hex digits}
   */
  hub?: string;
  /** A NATS token (the server's `authorization { token }`). */
  token?: string;
  /** A NATS user name, with `pass`. */
  user?: string;
  /** The password of `user`. */
  pass?: string;
  /**
   * A NATS credentials file (a user JWT and its NKey seed, as `nsc`
   * writes it), read at once (this needs `--allow-read`).
   */
  credsFile?: string;
  /** TLS for the link to NATS. */
  tls?: NatsTlsOptions;
  /**
   * How often this hub tells the others that it is alive, in ms.
   *
   * @default {1000}
   */
  heartbeat?: number;
  /**
   * How long, in ms, another hub may stay silent (no message, no
   * heartbeat) before it is taken for gone and its notes are released
   * here.
   *
   * @default {3000}
   */
  hubTimeout?: number;
  /**
   * The waits between attempts to reach NATS again after the link is
   * lost. The bridge tries for as long as it is open.
   *
   * @default {exponentialBackoff({ minInterval: 100, maxInterval: 5000, jitter: 0.5 })}
   */
  backoff?: Backoff;
  /**
   * The most MIDI bytes in one NATS message. A longer batch goes out as
   * several messages (the receivers parse each hub's bytes as one stream,
   * so a split message is no harm).
   *
   * @default {65536}
   */
  maxPayload?: number;
}

/**
 * Bridges a hub to a bus on NATS: dials NATS, joins `server` as one more
 * client, and relays between the two (see {@linkcode NatsBridge}). The
 * server must relay (`relay: true`): it is a hub.
 *
 * The wire layout: each hub publishes its clients' MIDI bytes, as they
 * come (a batch of messages a NATS message, at most `maxPayload` bytes),
 * on the subject `midisock.<bus>.<hub>`, with the headers `Midisock-Hub`
 * (its id) and `Midisock-Seq` (1, 2, 3, ...), and subscribes to
 * `midisock.<bus>.*`. An empty message is a heartbeat (every `heartbeat`
 * ms, with the last sequence number), and one with `Midisock-Bye: 1` says
 * the hub is closing.
 *
 * The NATS client is npm `@nats-io/nats-core`, over Deno's own sockets.
 * nats-core keeps one transport factory for the whole process (it has no
 * transport per connection), and each dial of the bridge sets it: so the
 * program's own nats-core connections that reconnect by themselves (not
 * the bridge's, which dials again itself) reconnect over Deno's sockets
 * after a bridge has dialed, and one dialed at the very moment a bridge
 * dials may get them too. docs/dependencies.md says more.
 *
 * @param server The hub: a {@linkcode PortServer} with `relay: true`.
 * @param options The NATS servers, the bus, and the rest.
 * @returns The bridge, joined and listening.
 * @throws {TypeError} If the server does not relay, or for an option of the
 * wrong type.
 * @throws {RangeError} For a bus or hub id that is no subject token, or a
 * time out of range.
 * @throws {Error} If NATS cannot be reached; the message names the servers.
 *
 * @example A hub on a bus (this needs a NATS server)
 * ```ts ignore
 * import { PortServer } from "@x/midisock";
 * import { joinNats } from "@x/midisock/nats";
 *
 * await using hub = new PortServer("0.0.0.0", 8080, { relay: true });
 * await using bridge = await joinNats(hub, {
 *   servers: "nats://nats.example.com:4222",
 *   bus: "jam",
 *   user: "studio-a",
 *   pass: Deno.env.get("NATS_PASS"),
 * });
 * bridge.addEventListener("hubleave", (e) => console.log(`${e.hub} left: ${e.reason}`));
 * ```
 *
 * @example Bad options are named
 * ```ts
 * import { PortServer } from "@x/midisock";
 * import { joinNats } from "@x/midisock/nats";
 * import assert from "node:assert/strict";
 *
 * await using hub = new PortServer("127.0.0.1", 0, { relay: true });
 * await assert.rejects(
 *   joinNats(hub, { servers: "nats://127.0.0.1:4222", bus: "my.bus" }),
 *   /Invalid bus option: expected 1 to 64 letters, digits, "-" or "_" \(one NATS subject token\), got "my.bus"/,
 * );
 * ```
 */
export async function joinNats(
  server: PortServer,
  options: NatsBridgeOptions,
): Promise<NatsBridge> {
  if (!server.relay) {
    throw new TypeError(
      `Cannot bridge ${server.name} to NATS: the server does not relay (give it relay: true)`,
    );
  }
  const bus = checkToken("bus", options.bus);
  const hub = options.hub === undefined
    ? crypto.randomUUID().replaceAll("-", "").slice(0, 12)
    : checkToken("hub", options.hub);
  const heartbeat = checkMs("heartbeat", options.heartbeat ?? 1000, 10);
  const hubTimeout = checkMs("hubTimeout", options.hubTimeout ?? 3000, 0);
  if (hubTimeout <= heartbeat) {
    throw new RangeError(
      `Invalid hubTimeout option: expected more than heartbeat (${heartbeat} ms), got ${hubTimeout}`,
    );
  }
  const maxPayload = options.maxPayload ?? 65536;
  if (!Number.isInteger(maxPayload) || maxPayload < 1) {
    throw new RangeError(
      `Invalid maxPayload option: expected a whole number of bytes >= 1, got ${maxPayload}`,
    );
  }
  const servers = typeof options.servers === "string"
    ? [options.servers]
    : options.servers;
  if (
    !Array.isArray(servers) || servers.length === 0 ||
    servers.some((s) => typeof s !== "string" || s === "")
  ) {
    throw new TypeError(
      `Invalid servers option: expected a NATS URL or a list of them, got ${
        JSON.stringify(options.servers)
      }`,
    );
  }
  const backoff = options.backoff ??
    exponentialBackoff({ minInterval: 100, maxInterval: 5000, jitter: 0.5 });
  let authenticator: ReturnType<typeof credsAuthenticator> | undefined;
  if (options.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = await Deno.readFile(options.credsFile);
    } catch (error) {
      throw new Error(
        `Cannot read the NATS credentials file ${options.credsFile}: ${
          errorText(error)
        }`,
        { cause: error },
      );
    }
    authenticator = credsAuthenticator(creds);
  }
  const dial = async () => {
    try {
      return await connectNats({
        servers,
        name: `midisock ${bus}/${hub}`,
        noEcho: true, // never hear this hub's own messages
        reconnect: false, // the bridge dials again itself, with backoff
        pingInterval: 2000, // a dead link is found within a few seconds
        maxPingOut: 2,
        timeout: 5000, // for a connection and its first PONG
        token: options.token,
        user: options.user,
        pass: options.pass,
        authenticator,
        tls: options.tls,
      });
    } catch (error) {
      throw new Error(
        `Cannot connect to NATS at ${servers.join(", ")}: ${errorText(error)}`,
        { cause: error },
      );
    }
  };
  const nc = await dial();
  const limit = nc.info?.max_payload;
  if (limit !== undefined && maxPayload + 256 > limit) {
    await nc.close();
    throw new RangeError(
      `Invalid maxPayload option: the NATS server takes at most ${limit} bytes a message (headers included), got ${maxPayload}`,
    );
  }
  return await openBridge(server, nc, dial, {
    bus,
    hub,
    heartbeat,
    hubTimeout,
    backoff,
    maxPayload,
  });
}

function checkToken(name: string, value: unknown): string {
  if (typeof value !== "string" || !TOKEN.test(value)) {
    throw new (typeof value === "string" ? RangeError : TypeError)(
      `Invalid ${name} option: expected 1 to 64 letters, digits, "-" or "_" (one NATS subject token), got ${
        JSON.stringify(value)
      }`,
    );
  }
  return value;
}

function checkMs(name: string, value: number, min: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new RangeError(
      `Invalid ${name} option: expected a number of ms >= ${min}, got ${value}`,
    );
  }
  return value;
}
