// Copyright 2026 the midisock authors. MIT license.
// Test helpers for Network MIDI 2.0: a raw UDP peer that sends bytes written
// by hand and reads what comes back, and a UDP proxy that drops, duplicates
// and reorders datagrams on cue. Both on 127.0.0.1, through node:dgram.

import dgram from "node:dgram";

/** Bytes from hex, spaces allowed: `hex("4d 49 44 49")`. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  return Uint8Array.from(
    { length: clean.length / 2 },
    (_, i) => parseInt(clean.slice(2 * i, 2 * i + 2), 16),
  );
}

/** Hex of bytes, with a space between words of 4 bytes. */
export function toHexWords(bytes: Uint8Array): string {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += 4) {
    out.push(
      Array.from(
        bytes.subarray(i, i + 4),
        (b) => b.toString(16).padStart(2, "0"),
      ).join(""),
    );
  }
  return out.join(" ");
}

/** ASCII text as hex, padded with zeros to a multiple of 4 bytes. */
export function textWords(text: string): string {
  const bytes = new TextEncoder().encode(text);
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return toHexWords(padded);
}

/** A UDP socket on 127.0.0.1 that sends datagrams and queues those that come. */
export class RawPeer implements AsyncDisposable {
  readonly #socket = dgram.createSocket("udp4");
  readonly #queue: Uint8Array[] = [];
  #wake: (() => void) | undefined;
  port = 0;

  /** Binds a peer on 127.0.0.1, a free port. */
  static async open(): Promise<RawPeer> {
    const peer = new RawPeer();
    await new Promise<void>((resolve) =>
      peer.#socket.bind(0, "127.0.0.1", () => resolve())
    );
    peer.port = peer.#socket.address().port;
    peer.#socket.on("message", (bytes) => {
      peer.#queue.push(new Uint8Array(bytes));
      peer.#wake?.();
    });
    return peer;
  }

  /** Sends a datagram to 127.0.0.1:`port`. */
  send(bytes: Uint8Array, port: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#socket.send(
        bytes,
        port,
        "127.0.0.1",
        (error) => error ? reject(error) : resolve(),
      )
    );
  }

  /** The next datagram, or undefined after `ms` with none. */
  async next(ms = 2000): Promise<Uint8Array | undefined> {
    const deadline = performance.now() + ms;
    while (this.#queue.length === 0) {
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, left);
        this.#wake = done;
      });
    }
    return this.#queue.shift();
  }

  /** The next datagram whose first command has `code`, skipping others. */
  async nextWith(code: number, ms = 2000): Promise<Uint8Array> {
    const deadline = performance.now() + ms;
    for (;;) {
      const left = deadline - performance.now();
      const datagram = left > 0 ? await this.next(left) : undefined;
      if (datagram === undefined) {
        throw new Error(
          `No datagram with command 0x${code.toString(16)} within ${ms} ms`,
        );
      }
      if (datagram[4] === code) return datagram;
    }
  }

  /** What came and was not read yet, read and cleared. */
  drain(): Uint8Array[] {
    return this.#queue.splice(0);
  }

  /** Closes the socket. */
  [Symbol.asyncDispose](): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/** What the proxy does with one datagram. */
export type ProxyAction = "pass" | "drop" | "duplicate" | "hold";

/**
 * A UDP proxy on 127.0.0.1 in front of a host: a client sends to
 * `proxy.port`, and the host sees the proxy as the client. `policy` decides
 * for each datagram from the client to the host that carries a new UMP Data
 * command (with its index among those): pass it, drop it, send it twice, or
 * hold it until the next one has passed (a reorder). Datagrams of copies
 * alone (a FEC tail, a retransmit) and of other commands pass.
 */
export class UdpProxy implements AsyncDisposable {
  readonly #socket = dgram.createSocket("udp4");
  #client: { port: number } | undefined;
  #held: Uint8Array | undefined;
  #release: ReturnType<typeof setTimeout> | undefined;
  #dataIndex = 0;
  #highest = -1;
  port = 0;
  /** Datagrams dropped, duplicated and reordered, client to host. */
  readonly counts = { dropped: 0, duplicated: 0, reordered: 0, passed: 0 };

  private constructor(
    readonly hostPort: number,
    readonly policy: (index: number, datagram: Uint8Array) => ProxyAction,
  ) {}

  /** Starts a proxy in front of 127.0.0.1:`hostPort`. */
  static async start(
    hostPort: number,
    policy: (index: number, datagram: Uint8Array) => ProxyAction,
  ): Promise<UdpProxy> {
    const proxy = new UdpProxy(hostPort, policy);
    await new Promise<void>((resolve) =>
      proxy.#socket.bind(0, "127.0.0.1", () => resolve())
    );
    proxy.port = proxy.#socket.address().port;
    proxy.#socket.on("message", (bytes, from) => {
      const datagram = new Uint8Array(bytes);
      if (from.port === hostPort) {
        if (proxy.#client) proxy.#send(datagram, proxy.#client.port);
        return;
      }
      proxy.#client = { port: from.port };
      proxy.#fromClient(datagram);
    });
    return proxy;
  }

  #send(datagram: Uint8Array, port: number): void {
    this.#socket.send(datagram, port, "127.0.0.1");
  }

  #fromClient(datagram: Uint8Array): void {
    const last = lastSequence(datagram);
    const data = last !== undefined && last > this.#highest;
    if (!data) {
      // Copies and other commands pass, and release nothing held.
      this.counts.passed++;
      return this.#send(datagram, this.hostPort);
    }
    this.#highest = last;
    const action = this.policy(this.#dataIndex++, datagram);
    const held = this.#held;
    this.#held = undefined;
    switch (action) {
      case "drop":
        this.counts.dropped++;
        break;
      case "duplicate":
        this.counts.duplicated++;
        this.#send(datagram, this.hostPort);
        this.#send(datagram, this.hostPort);
        break;
      case "hold":
        this.counts.reordered++;
        this.#held = datagram;
        // Released after the next one, or after a moment if none comes.
        clearTimeout(this.#release);
        this.#release = setTimeout(() => {
          const held = this.#held;
          this.#held = undefined;
          if (held) {
            this.counts.reordered--; // nothing came after it: in order
            this.#send(held, this.hostPort);
          }
        }, 20);
        break;
      default:
        this.counts.passed++;
        this.#send(datagram, this.hostPort);
    }
    if (held) this.#send(held, this.hostPort);
  }

  /** Closes the proxy. */
  [Symbol.asyncDispose](): Promise<void> {
    clearTimeout(this.#release);
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }
}

/** The sequence number of a datagram's last UMP Data command, if any. */
export function lastSequence(datagram: Uint8Array): number | undefined {
  let last: number | undefined;
  for (let at = 4; at + 4 <= datagram.length;) {
    if (datagram[at] === 0xff) {
      last = (datagram[at + 2] << 8) | datagram[at + 3];
    }
    at += 4 + datagram[at + 1] * 4;
  }
  return last;
}
