// Copyright 2026 the midisock authors. MIT license.
// Publishing services over mDNS/DNS-SD (RFC 6762, RFC 6763) with npm
// @homebridge/ciao, which probes each name, answers queries, follows the
// machine's addresses as they change, and says goodbye on close.

import ciao from "@homebridge/ciao";
import { errorText } from "../util/error_text.ts";
import { interfaceNames } from "./interfaces.ts";
import { type Service, SERVICE_TYPES, serviceType } from "./service.ts";

/** Options for {@linkcode advertise}. */
export interface AdvertiseOptions {
  /**
   * The services' instance name, which a browser lists (a Mac's MIDI
   * Network Setup, `avahi-browse`, `midisock discover`). If another
   * machine has it, a number is added: `midisock on studio (2)`.
   *
   * @default {"midisock on HOSTNAME"}
   */
  name?: string;
  /**
   * The network interfaces to publish on, by name (`eth0`) or address;
   * the loopback interface is always one of them.
   *
   * @default {every interface}
   */
  interfaces?: string[];
}

/** One service as it is published. */
export interface PublishedService extends Service {
  /** Its instance name now: the name asked for, or one with a number. */
  readonly name: string;
}

/**
 * The name that {@linkcode advertise} gives by default: `midisock on
 * HOSTNAME`, with the machine's host name up to its first dot (just
 * `midisock` where Deno may not read it: `--allow-sys=hostname`).
 *
 * @returns The name.
 *
 * @example
 * ```ts
 * import { defaultServiceName } from "@x/midisock/mdns";
 * import assert from "node:assert/strict";
 *
 * assert.match(defaultServiceName(), /^midisock( on [^.]+)?$/);
 * ```
 */
export function defaultServiceName(): string {
  let host: string;
  try {
    host = Deno.hostname().split(".")[0];
  } catch {
    return "midisock";
  }
  return host ? `midisock on ${host}` : "midisock";
}

/**
 * Services published over mDNS/DNS-SD, which {@linkcode advertise} makes.
 * {@linkcode Advertisement.close} withdraws them, with goodbye packets, so
 * that browsers drop them at once.
 */
export class Advertisement implements AsyncDisposable {
  /** The name asked for. */
  readonly name: string;
  readonly #responder: ReturnType<typeof ciao.getResponder>;
  readonly #services: Published[];
  #closing?: Promise<void>;

  /** @internal */
  constructor(
    name: string,
    responder: ReturnType<typeof ciao.getResponder>,
    services: Published[],
  ) {
    this.name = name;
    this.#responder = responder;
    this.#services = services;
  }

  /** The services, each with its instance name now. */
  get services(): PublishedService[] {
    return this.#services.map(({ service, name }) => ({ ...service, name }));
  }

  /**
   * Withdraws every service, with goodbye packets (records with a TTL of
   * 0), and closes the sockets. It may be called more than once.
   *
   * @returns When the goodbyes are sent and the sockets closed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all(
        this.#services.map(({ ciao }) => ciao.end().catch(() => {})),
      );
      await this.#responder.shutdown();
    })();
    return this.#closing;
  }

  /** Closes it: `await using ad = await advertise(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

type ServiceOptions = Parameters<
  ReturnType<typeof ciao.getResponder>["createService"]
>[0];

type CiaoService = ReturnType<
  ReturnType<typeof ciao.getResponder>["createService"]
>;

/** A service, ciao's, and its name now. */
interface Published {
  service: Service;
  ciao: CiaoService;
  name: string;
}

function typeOf(service: Service): string {
  return serviceType(service.kind);
}

/**
 * Publishes services over mDNS/DNS-SD: each one's PTR, SRV and TXT records,
 * and the A and AAAA records of the machine's addresses, on every
 * interface (loopback included), after probing that its name is free
 * (RFC 6762 section 8). It resolves once every service is announced, which
 * takes about a second (probing) for the first and as long again for each
 * of the others.
 *
 * Every service has the same instance name, with its own kind: the bus's
 * `_midisock._tcp`, its web page's `_http._tcp`, and so on (see
 * {@linkcode midisockService}, {@linkcode httpService},
 * {@linkcode appleMidiService} and {@linkcode midi2Service}). Each has a
 * host name of its own, made from the name and the kind.
 *
 * It needs `--allow-net` and `--allow-sys=networkInterfaces` (and
 * `hostname` for the default name).
 *
 * @param services What to publish.
 * @param options The instance name, the interfaces.
 * @returns The advertisement: close it to withdraw them.
 * @throws {RangeError} For an empty list, or a name that is empty or over
 * 63 bytes.
 * @throws {Error} If a service cannot be published, naming it.
 *
 * @example Advertising a bus and its page
 * ```ts ignore
 * import { advertise, httpService, midisockService } from "@x/midisock/mdns";
 *
 * await using ad = await advertise(
 *   [midisockService(8080, { relay: true }), httpService(8081)],
 *   { name: "midisock in the studio" },
 * );
 * console.log(ad.services.map((s) => `${s.name} ${s.kind} ${s.port}`));
 * ```
 */
export async function advertise(
  services: readonly Service[],
  options: AdvertiseOptions = {},
): Promise<Advertisement> {
  if (services.length === 0) {
    throw new RangeError("Cannot advertise: no services were given");
  }
  const name = options.name ?? defaultServiceName();
  const bytes = new TextEncoder().encode(name).length;
  if (bytes === 0 || bytes > 63) {
    throw new RangeError(
      `Invalid service name ${
        JSON.stringify(name)
      }: expected 1 to 63 bytes (UTF-8), got ${bytes}`,
    );
  }
  // Named here, from Deno's list: ciao would otherwise run `ip link` (and
  // so need --allow-run) to list them.
  const interfaces = options.interfaces ?? interfaceNames("advertise");
  const responder = ciao.getResponder({ interface: interfaces });
  const made = services.map((service) => {
    const { type, protocol } = SERVICE_TYPES[service.kind];
    const published = responder.createService({
      name,
      type,
      // ciao's Protocol is a const enum of these strings.
      protocol: protocol as ServiceOptions["protocol"],
      port: service.port,
      txt: { ...service.txt },
      // One host name for each service: ciao probes each as its own.
      hostname: `${name}-${service.kind}`.replace(/[^A-Za-z0-9-]+/g, "-"),
    });
    const entry: Published = { service, ciao: published, name };
    // Probing found the name (or the host name) taken, and numbered it.
    published.on("name-change", (now: string) => entry.name = now);
    published.on("hostname-change", () => {});
    return entry;
  });
  const advertisement = new Advertisement(name, responder, made);
  try {
    await Promise.all(made.map(async ({ service, ciao }) => {
      try {
        await ciao.advertise();
      } catch (error) {
        throw new Error(
          `Cannot advertise ${JSON.stringify(name)} as ${
            typeOf(service)
          } on port ${service.port}: ${errorText(error)}`,
          { cause: error },
        );
      }
    }));
  } catch (error) {
    await advertisement.close();
    throw error;
  }
  return advertisement;
}
