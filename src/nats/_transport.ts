// Copyright 2026 the midisock authors. MIT license.
// The NATS client, in one place (pinned in deno.json's imports; see
// docs/dependencies.md for why this one). The protocol is npm
// @nats-io/nats-core's; the transport under it is Deno's own sockets (below),
// not Node's net module through Deno's compatibility layer.

import { asError } from "../util/error_text.ts";
import {
  checkOptions,
  extractProtocolMessage,
  INFO,
  NatsConnectionImpl,
  setTransportFactory,
} from "@nats-io/nats-core/internal";
import { whenAborted } from "../util/abort.ts";
import type {
  ConnectionOptions,
  NatsConnection,
  Server,
  ServerInfo,
  Transport,
} from "@nats-io/nats-core/internal";

export {
  credsAuthenticator,
  headers as natsHeaders,
  type Msg as NatsMsg,
  type NatsConnection,
} from "@nats-io/nats-core";

/** The options of {@linkcode connectNats}: nats-core's, TLS narrowed. */
export type NatsConnectOptions = Omit<ConnectionOptions, "tls"> & {
  /** TLS: trust these CAs (PEM text, or a file of them). */
  tls?: { ca?: string; caFile?: string };
};

/**
 * Dials NATS over Deno's sockets (TCP, and TLS where the server has it).
 *
 * nats-core has no transport per connection: it keeps one factory for the
 * process (setTransportFactory), which this sets at each dial. A
 * connection of the program's own dialed with nats-core's transports
 * (`@nats-io/transport-node` or `-deno`, `wsconnect`) sets its factory back
 * as it dials, but nats-core's own reconnects of such a connection made
 * after this dial use this factory (Deno's sockets, no client
 * certificates). docs/nats.md says so.
 */
export function connectNats(
  options: NatsConnectOptions,
): Promise<NatsConnection> {
  setTransportFactory({
    factory: () => new DenoTransport(),
    defaultPort: 4222,
  });
  return NatsConnectionImpl.connect(options);
}

/**
 * The bytes of a connection made by {@linkcode connectNats} on their way
 * to the server: handed to the client (its buffer and the transport's
 * queue), and written to the socket. Counts are from the connection's
 * start, so a publisher can tell which of its messages went out.
 */
export class NatsOutbox {
  #nc: NatsConnectionImpl;
  #transport: DenoTransport;

  constructor(nc: NatsConnection) {
    const impl = nc as NatsConnectionImpl;
    const transport = impl.protocol?.transport;
    if (!(transport instanceof DenoTransport)) {
      throw new TypeError("Not a connection made by connectNats");
    }
    this.#nc = impl;
    this.#transport = transport;
  }

  /** Bytes handed to the client so far, written or not. */
  get queuedTotal(): number {
    return this.#transport.queuedTotal + this.#nc.protocol.outbound.size();
  }

  /** Bytes written to the socket so far. */
  get writtenTotal(): number {
    return this.#transport.writtenTotal;
  }

  /** Bytes handed to the client and not yet written. */
  get pending(): number {
    return this.queuedTotal - this.writtenTotal;
  }

  /** Whether the link is closed (what is pending then never goes). */
  get closed(): boolean {
    return this.#transport.isClosed;
  }

  /**
   * Resolves once at most `limit` bytes are pending, the link closes, or
   * `signal` aborts.
   */
  async below(limit: number, signal?: AbortSignal): Promise<void> {
    while (this.pending > limit && !this.closed && !signal?.aborted) {
      const drained = this.#transport.drained(limit);
      await (signal ? Promise.race([drained, whenAborted(signal)]) : drained);
    }
  }
}

/** How much one read takes. */
const READ_SIZE = 64 * 1024;

/**
 * nats-core's Transport over Deno.Conn: it reads the server's INFO line,
 * upgrades to TLS when the server requires it or the client asks for it,
 * then yields what it reads and writes what it is sent, in order.
 */
class DenoTransport implements Transport {
  readonly lang = "midisock";
  readonly version = "3.4.0";
  closeError?: Error;
  #conn: Deno.Conn | undefined;
  #options: ConnectionOptions = {};
  #first = new Uint8Array(0); // what was read with the INFO line
  #done = false;
  #encrypted = false;
  #closed = Promise.withResolvers<void | Error>();
  #queue: Uint8Array[] = [];
  #writing = false;
  #queuedTotal = 0; // bytes sent here, in all
  #writtenTotal = 0; // bytes written to the socket, in all
  #drained: { limit: number; resolve: () => void }[] = [];

  get isClosed(): boolean {
    return this.#done;
  }

  async connect(server: Server, options: ConnectionOptions): Promise<void> {
    this.#options = options;
    const { hostname, port } = server;
    try {
      this.#conn = await Deno.connect({ hostname, port });
      const info = await this.#readInfo();
      checkOptions(info, options);
      if (info.tls_required || (options.tls && info.tls_available)) {
        const tls = options.tls ?? {};
        const caCerts = [
          ...(tls.ca ? [tls.ca] : []),
          ...(tls.caFile ? [await Deno.readTextFile(tls.caFile)] : []),
        ];
        if (tls.cert || tls.certFile || tls.key || tls.keyFile) {
          throw new TypeError(
            "Client certificates for NATS are not supported: authenticate with a token, a user and password, or a credentials file",
          );
        }
        this.#conn = await Deno.startTls(this.#conn as Deno.TcpConn, {
          hostname: server.tlsName || hostname,
          caCerts: caCerts.length ? caCerts : undefined,
        });
        await (this.#conn as Deno.TlsConn).handshake(); // a bad certificate fails here
        this.#encrypted = true;
      }
    } catch (error) {
      try {
        this.#conn?.close();
      } catch {
        // Already closed.
      }
      this.#done = true;
      throw error;
    }
  }

  // Reads until the server's first line, INFO {...}, is whole.
  async #readInfo(): Promise<ServerInfo> {
    let got = new Uint8Array(0);
    while (true) {
      const buf = new Uint8Array(READ_SIZE);
      const n = await this.#conn!.read(buf);
      if (n === null) {
        throw new Error("NATS server closed before its INFO line");
      }
      const next = new Uint8Array(got.length + n);
      next.set(got);
      next.set(buf.subarray(0, n), got.length);
      got = next;
      const line = extractProtocolMessage(got);
      if (line === "") {
        if (got.length > READ_SIZE) throw new Error("NATS INFO line too long");
        continue;
      }
      const match = INFO.exec(line);
      if (!match) {
        throw new Error(
          `Not a NATS server: it said ${JSON.stringify(line.slice(0, 40))}`,
        );
      }
      this.#first = got; // the client reads the INFO line again, from here
      return JSON.parse(match[1]) as ServerInfo;
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    let reason: Error | undefined;
    yield this.#first;
    while (!this.#done) {
      const buf = new Uint8Array(READ_SIZE); // the client may keep a frame
      let n: number | null;
      try {
        n = await this.#conn!.read(buf);
      } catch (error) {
        if (!this.#done) {
          reason = asError(error);
        }
        break;
      }
      if (n === null) break;
      yield buf.subarray(0, n);
    }
    await this.#close(reason, true);
  }

  isEncrypted(): boolean {
    return this.#encrypted;
  }

  /** Bytes sent here in all (those sent once closed are never written). */
  get queuedTotal(): number {
    return this.#queuedTotal;
  }

  /** Bytes written to the socket in all. */
  get writtenTotal(): number {
    return this.#writtenTotal;
  }

  /**
   * Resolves once at most `limit` bytes wait here to be written, or the
   * transport is closed.
   */
  drained(limit: number): Promise<void> {
    if (this.#done || this.#queuedTotal - this.#writtenTotal <= limit) {
      return Promise.resolve();
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#drained.push({ limit, resolve });
    return promise;
  }

  #wake(): void {
    if (this.#drained.length === 0) return;
    const pending = this.#queuedTotal - this.#writtenTotal;
    this.#drained = this.#drained.filter((w) => {
      if (!this.#done && pending > w.limit) return true;
      w.resolve();
      return false;
    });
  }

  send(frame: Uint8Array): void {
    this.#queuedTotal += frame.length;
    if (this.#done) return;
    this.#queue.push(frame);
    if (!this.#writing) this.#write();
  }

  // Writes what is queued, all of it together, until nothing is left.
  async #write(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#done) {
        const frames = this.#queue.splice(0);
        let bytes = frames[0];
        if (frames.length > 1) {
          let length = 0;
          for (const f of frames) length += f.length;
          bytes = new Uint8Array(length);
          let offset = 0;
          for (const f of frames) {
            bytes.set(f, offset);
            offset += f.length;
          }
        }
        for (let i = 0; i < bytes.length;) {
          const n = await this.#conn!.write(bytes.subarray(i));
          i += n;
          this.#writtenTotal += n;
          this.#wake();
        }
      }
    } catch (error) {
      // The read side sees the connection end, and reports it.
      this.closeError ??= error instanceof Error ? error : undefined;
    } finally {
      this.#writing = false;
    }
  }

  close(error?: Error): Promise<void> {
    return this.#close(error, false);
  }

  disconnect(): void {
    this.#close(undefined, true);
  }

  #close(error: Error | undefined, internal: boolean): Promise<void> {
    if (this.#done) return Promise.resolve();
    this.#done = true;
    this.closeError = error;
    this.#queue = []; // never written: its owner counts it from the totals
    this.#wake();
    try {
      this.#conn?.close();
    } catch {
      // Already closed.
    }
    if (internal) this.#closed.resolve(error);
    return Promise.resolve();
  }

  closed(): Promise<void | Error> {
    return this.#closed.promise;
  }

  discard(): void {
    // Nothing is throttled here.
  }
}
