// Copyright 2026 the midisock authors. MIT license.
// Browsing for MIDI services over mDNS/DNS-SD (RFC 6762, RFC 6763) with
// npm multicast-dns: PTR queries for each kind, then SRV, TXT and address
// queries for what the answers left out.

import mdns from "multicast-dns";
import { errorText } from "../util/error_text.ts";
import { interfaceNames } from "./interfaces.ts";
import { SERVICE_KINDS, type ServiceKind, serviceType } from "./service.ts";

/** Options for {@linkcode discover}. */
export interface DiscoverOptions {
  /**
   * The kinds to look for.
   *
   * @default {every kind: midisock, apple-midi, midi2, http}
   */
  kinds?: readonly ServiceKind[];
  /**
   * How long to listen for answers, in milliseconds.
   *
   * @default {3000}
   */
  timeout?: number;
  /** Stops listening early: what was found so far is returned. */
  signal?: AbortSignal;
  /**
   * The IPv4 address of the interface to ask on.
   *
   * @default {every interface}
   */
  interface?: string;
  /**
   * Stop at the first service with this instance name (compared without
   * regard to case), as `midisock connect NAME` does.
   */
  name?: string;
  /** Called with each service as soon as it is resolved. */
  onService?: (service: DiscoveredService) => void;
}

/** A service that answered. */
export interface DiscoveredService {
  /** What it is. */
  kind: ServiceKind;
  /** Its instance name: `Studio Mac`. */
  name: string;
  /**
   * Where to reach it: its first IPv4 address, else its first IPv6
   * address, else its host name (when no address came).
   */
  host: string;
  /** Its port. */
  port: number;
  /** Its TXT record: each key, with its value ("" for a key alone). */
  txt: Record<string, string>;
  /** Its host name, from its SRV record: `studio.local`. */
  hostname: string;
  /** Every address that came for its host name. */
  addresses: string[];
}

/** What is known of one service instance. */
interface Instance {
  kind: ServiceKind;
  name: string;
  srv?: { port: number; target: string };
  txt?: Record<string, string>;
  asked: number; // when its SRV and TXT were last asked for
  done: boolean; // handed on
}

// A DNS record, as dns-packet decodes it (the part used here).
interface DnsRecord {
  name: string;
  type: string;
  ttl?: number;
  data: unknown;
}

/**
 * Looks for MIDI services on the LAN over mDNS/DNS-SD: asks for each kind
 * (`_midisock._tcp`, `_apple-midi._udp`, `_midi2._udp`, `_http._tcp`),
 * asks again for what the answers left out (SRV, TXT, addresses), and
 * listens until `timeout`. Queries are repeated after 1 s, then at doubling
 * intervals (RFC 6762 section 5.2). A service whose goodbye comes (a
 * record with a TTL of 0) is dropped.
 *
 * The socket is bound to 0.0.0.0:5353, shared with any other responder on
 * the machine (on Linux, a socket bound to the interface's address hears
 * no multicast), and joins 224.0.0.251 on each interface. It needs
 * `--allow-net` and `--allow-sys=networkInterfaces`.
 *
 * @param options What to look for, for how long.
 * @returns The services resolved, in the order they were.
 * @throws {RangeError} For a timeout that is not a number of ms >= 0.
 * @throws {Error} If the socket cannot be bound, saying why.
 *
 * @example Every MIDI service on the LAN, for 2 seconds
 * ```ts ignore
 * import { discover } from "@x/midisock/mdns";
 *
 * for (const s of await discover({ timeout: 2000 })) {
 *   console.log(s.kind, s.name, s.host, s.port, s.txt);
 * }
 * ```
 */
export function discover(
  options: DiscoverOptions = {},
): Promise<DiscoveredService[]> {
  const timeout = options.timeout ?? 3000;
  if (typeof timeout !== "number" || !(timeout >= 0)) {
    throw new RangeError(
      `Invalid timeout ${timeout}: expected a number of milliseconds >= 0`,
    );
  }
  // multicast-dns joins the group on each interface (and fails later,
  // uncaught, if it may not list them).
  if (options.interface === undefined) interfaceNames("browse");
  const kinds = options.kinds ?? SERVICE_KINDS;
  const wanted = options.name?.toLowerCase();
  const types = new Map<string, ServiceKind>(
    kinds.map((kind) => [`${serviceType(kind)}.local`.toLowerCase(), kind]),
  );
  const instances = new Map<string, Instance>();
  const hosts = new Map<string, Set<string>>();
  const asked = new Map<string, number>(); // host names asked for, when
  const found: DiscoveredService[] = [];
  const { promise, resolve, reject } = Promise.withResolvers<
    DiscoveredService[]
  >();

  const socket = mdns({
    bind: "0.0.0.0",
    interface: options.interface,
    reuseAddr: true,
    loopback: true,
  });
  let ended = false;
  const timers: ReturnType<typeof setTimeout>[] = [];
  const end = (error?: Error) => {
    if (ended) return;
    ended = true;
    for (const timer of timers) clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    socket.destroy(() => error ? reject(error) : resolve(finish()));
  };
  const onAbort = () => end();
  // What never got an address is handed on at the end, by its host name.
  const finish = () => {
    for (const instance of instances.values()) {
      if (!instance.done && instance.srv && instance.txt) {
        hand(instance, []);
      }
    }
    return found;
  };
  const hand = (instance: Instance, addresses: string[]) => {
    instance.done = true;
    const { srv, txt } = instance;
    const v4 = addresses.find((a) => !a.includes(":"));
    const service: DiscoveredService = {
      kind: instance.kind,
      name: instance.name,
      host: v4 ?? addresses[0] ?? srv!.target,
      port: srv!.port,
      txt: txt!,
      hostname: srv!.target,
      addresses,
    };
    found.push(service);
    try {
      options.onService?.(service);
    } finally {
      if (wanted !== undefined && instance.name.toLowerCase() === wanted) {
        end();
      }
    }
  };

  const ask = (questions: { name: string; type: string }[]) => {
    if (questions.length === 0 || ended) return;
    socket.query({ questions }, (error?: Error) => {
      if (error && !ended) end(queryError(error));
    });
  };
  const askTypes = () => {
    ask([...types.keys()].map((name) => ({ name, type: "PTR" })));
  };
  // What each instance still lacks: asked for at most once a second.
  const askMissing = () => {
    const now = performance.now();
    const questions: { name: string; type: string }[] = [];
    for (const [fqdn, instance] of instances) {
      if (instance.done) continue;
      if ((!instance.srv || !instance.txt) && now - instance.asked > 1000) {
        instance.asked = now;
        questions.push({ name: fqdn, type: "SRV" }, {
          name: fqdn,
          type: "TXT",
        });
      }
      const target = instance.srv?.target.toLowerCase();
      if (
        target && !hosts.has(target) && now - (asked.get(target) ?? -1e9) > 1000
      ) {
        asked.set(target, now);
        questions.push({ name: target, type: "A" }, {
          name: target,
          type: "AAAA",
        });
      }
    }
    ask(questions);
  };

  socket.on(
    "response",
    (packet: { answers?: DnsRecord[]; additionals?: DnsRecord[] }) => {
      if (ended) return;
      const records = [...packet.answers ?? [], ...packet.additionals ?? []];
      for (const record of records) {
        try {
          take(record);
        } catch {
          // A record that is not what its type says: skipped, as any
          // answer that does not fit is.
        }
      }
      for (const instance of instances.values()) {
        if (instance.done || !instance.srv || !instance.txt) continue;
        const addresses = hosts.get(instance.srv.target.toLowerCase());
        if (addresses) hand(instance, [...addresses]);
        if (ended) return;
      }
      askMissing();
    },
  );
  const take = (record: DnsRecord) => {
    const name = record.name.toLowerCase();
    switch (record.type) {
      case "PTR": {
        const kind = types.get(name);
        const fqdn = String(record.data);
        if (kind === undefined) return;
        const key = fqdn.toLowerCase();
        if (record.ttl === 0) {
          instances.delete(key); // its goodbye
          return;
        }
        if (!instances.has(key)) {
          instances.set(key, {
            kind,
            name: fqdn.slice(0, -(name.length + 1)),
            asked: -1e9,
            done: false,
          });
        }
        return;
      }
      case "SRV": {
        const instance = instances.get(name);
        const data = record.data as { port: number; target: string };
        if (instance && record.ttl !== 0) {
          instance.srv = { port: data.port, target: data.target };
        }
        return;
      }
      case "TXT": {
        const instance = instances.get(name);
        if (instance && record.ttl !== 0) {
          instance.txt = parseTxt(record.data);
        }
        return;
      }
      case "A":
      case "AAAA": {
        if (record.ttl === 0) return;
        let set = hosts.get(name);
        if (!set) hosts.set(name, set = new Set());
        set.add(String(record.data));
        return;
      }
    }
  };

  socket.on("error", (error: Error) => end(queryError(error)));
  socket.on("ready", () => {
    if (ended) return;
    askTypes();
    // Again after 1 s, 2 s, 4 s... (from the start): a lost packet, or a
    // responder that was still probing.
    for (let at = 1000; at < timeout; at *= 2) {
      timers.push(setTimeout(() => {
        askTypes();
        askMissing();
      }, at));
    }
  });
  timers.push(setTimeout(() => end(), timeout));
  if (options.signal?.aborted) end();
  else options.signal?.addEventListener("abort", onAbort, { once: true });
  return promise;
}

/**
 * Finds a service by its instance name: the first that answers, of any
 * kind in `kinds`.
 *
 * @param name The instance name, without regard to case.
 * @param options How long to look, where, and for which kinds.
 * @returns The service, or undefined if none answered within the timeout.
 *
 * @example
 * ```ts ignore
 * import { findService } from "@x/midisock/mdns";
 *
 * const studio = await findService("midisock on studio", { kinds: ["midisock"] });
 * if (studio) console.log(`${studio.host}:${studio.port}`);
 * ```
 */
export async function findService(
  name: string,
  options: Omit<DiscoverOptions, "name"> = {},
): Promise<DiscoveredService | undefined> {
  const found = await discover({ ...options, name });
  return found.find((s) => s.name.toLowerCase() === name.toLowerCase());
}

/** A TXT record's strings, as keys and values. */
function parseTxt(data: unknown): Record<string, string> {
  const txt: Record<string, string> = {};
  const strings = Array.isArray(data) ? data : [data];
  const text = new TextDecoder();
  for (const item of strings) {
    const s = typeof item === "string" ? item : text.decode(item as Uint8Array);
    if (s === "") continue;
    const eq = s.indexOf("=");
    const key = eq < 0 ? s : s.slice(0, eq);
    // RFC 6763 6.4: the first of a key counts.
    if (key === "" || key === "__proto__" || Object.hasOwn(txt, key)) continue;
    txt[key] = eq < 0 ? "" : s.slice(eq + 1);
  }
  return txt;
}

function queryError(error: Error): Error {
  return new Error(
    `Cannot browse mDNS (224.0.0.251:5353): ${errorText(error)}`,
    {
      cause: error,
    },
  );
}
