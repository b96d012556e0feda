// Copyright 2026 the midisock authors. MIT license.
// Private: the two UDP sockets of an AppleMIDI participant, the control port
// N and the data port N+1, over node:dgram (Deno.listenDatagram would need
// --unstable-net).
//
// Deno 2.9.6's node:dgram sends the first datagrams that a new socket is
// given before its first send has completed in reverse order (measured:
// six sends in a row arrive 5,4,3,2,1,0; every later burst arrives in
// order). So each socket here holds the datagrams given to it while its
// first send is in flight, and sends them in order once that send is done.

import dgram from "node:dgram";
import type { SessionLink } from "./rtp_session.ts";

/** Which of the pair a datagram came in on or goes out of. */
export type Channel = "control" | "data";

/**
 * Called with a failed send (no `from`: UDP makes no promise), or with what
 * a datagram's handler threw (with its sender), which node:dgram would
 * swallow without a word.
 */
export type OnFault = (
  error: Error,
  from?: { address: string; port: number },
) => void;

/** Called with each datagram that comes in. */
export type OnDatagram = (
  channel: Channel,
  bytes: Uint8Array,
  from: { address: string; port: number },
) => void;

// How many times a pair on a free port (port 0) is looked for.
const PAIR_ATTEMPTS = 32;

/** One socket, whose sends leave in the order they were made. */
class OrderedSocket {
  readonly socket: dgram.Socket;
  #ready = false;
  #held: [Uint8Array, number, string][] = [];
  #inFlight = 0;
  #idle: (() => void)[] = [];
  #onError: (error: Error) => void;
  #sent = (error: Error | null) => {
    if (error) this.#onError(error);
    if (--this.#inFlight === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  };

  constructor(socket: dgram.Socket, onError: (error: Error) => void) {
    this.socket = socket;
    this.#onError = onError;
  }

  send(bytes: Uint8Array, port: number, address: string): void {
    if (this.#ready) {
      this.#send(bytes, port, address, this.#sent);
      return;
    }
    if (this.#inFlight > 0) {
      this.#held.push([bytes, port, address]);
      return;
    }
    this.#send(bytes, port, address, (error) => {
      this.#ready = true;
      for (const [b, p, a] of this.#held.splice(0)) {
        this.#send(b, p, a, this.#sent);
      }
      this.#sent(error);
    });
  }

  /** Resolves once every send made so far has been handed to the system. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #send(
    bytes: Uint8Array,
    port: number,
    address: string,
    done: (error: Error | null) => void,
  ): void {
    this.#inFlight++;
    try {
      this.socket.send(bytes, port, address, done);
    } catch (error) {
      done(error as Error); // a closed socket, a bad address
    }
  }
}

/** The control and data sockets of one participant. */
export class UdpPair {
  readonly #control: OrderedSocket;
  readonly #data: OrderedSocket;
  #closed = false;
  #done = Promise.resolve();
  /** The address both are bound to. */
  readonly hostname: string;
  /** The control port (the data port is the next). */
  readonly port: number;

  private constructor(
    control: dgram.Socket,
    data: dgram.Socket,
    hostname: string,
    port: number,
    onError: (error: Error) => void,
  ) {
    this.#control = new OrderedSocket(control, onError);
    this.#data = new OrderedSocket(data, onError);
    this.hostname = hostname;
    this.port = port;
  }

  /**
   * Binds a control port and the port after it, on `hostname`. Port 0
   * finds a free pair whose control port is even (node-rtpmidi answers from
   * the socket that the parity of the peer's port picks, so a peer with an
   * odd control port hears it from the wrong one).
   *
   * @throws {Deno.errors.AddrInUse} If a port is taken, naming it.
   */
  static async bind(
    hostname: string,
    port: number,
    onDatagram: OnDatagram,
    onFault: OnFault,
  ): Promise<UdpPair> {
    const type = hostname.includes(":") ? "udp6" : "udp4";
    let lastError: unknown;
    for (
      let attempt = 0;
      attempt < (port === 0 ? PAIR_ATTEMPTS : 1);
      attempt++
    ) {
      const control = dgram.createSocket(type);
      try {
        await bindSocket(control, hostname, port);
      } catch (error) {
        control.close();
        throw error;
      }
      const controlPort = control.address().port;
      if (port === 0 && (controlPort % 2 !== 0 || controlPort === 65535)) {
        control.close();
        continue;
      }
      const data = dgram.createSocket(type);
      try {
        await bindSocket(data, hostname, controlPort + 1);
      } catch (error) {
        control.close();
        data.close();
        lastError = error;
        if (port === 0) continue;
        throw error;
      }
      const onError = (error: Error) => onFault(error);
      control.on("error", onError);
      data.on("error", onError);
      const pair = new UdpPair(control, data, hostname, controlPort, onError);
      for (
        const [channel, socket] of [["control", control], [
          "data",
          data,
        ]] as const
      ) {
        socket.on("message", (bytes: Uint8Array, rinfo: dgram.RemoteInfo) => {
          if (pair.#closed) return;
          try {
            onDatagram(channel, bytes, rinfo);
          } catch (error) {
            onFault(
              error instanceof Error ? error : new Error(String(error)),
              { address: rinfo.address, port: rinfo.port },
            );
          }
        });
      }
      return pair;
    }
    throw lastError ??
      new Deno.errors.AddrInUse(
        `Cannot find two free UDP ports in a row on ${hostname}`,
      );
  }

  /** Sends a datagram from one of the pair; never throws. */
  send(
    channel: Channel,
    bytes: Uint8Array,
    port: number,
    address: string,
  ): void {
    if (this.#closed) return;
    (channel === "control" ? this.#control : this.#data).send(
      bytes,
      port,
      address,
    );
  }

  /**
   * A session's link over this pair to a peer's control and data ports.
   * Its end first calls `forget` (if given), then says BY on both ports, as
   * rtpmidid needs to end a session: on the data port after the last MIDI
   * (two sockets race otherwise), then on the control port; then, with
   * `own`, closes the pair (an initiator's own), once that has left too.
   */
  link(
    control: { address: string; port: number },
    data: { address: string; port: number },
    options: { forget?: () => void; own?: boolean },
  ): SessionLink {
    return {
      sendControl: (b) =>
        this.send("control", b, control.port, control.address),
      sendData: (b) => this.send("data", b, data.port, data.address),
      reply: (b, channel, to) => this.send(channel, b, to.port, to.address),
      end: async (bye) => {
        options.forget?.();
        if (bye) {
          this.send("data", bye, data.port, data.address);
          await this.#data.idle();
          this.send("control", bye, control.port, control.address);
        }
        if (options.own) await this.close();
      },
      localAddr: { transport: "udp", hostname: this.hostname, port: this.port },
      remoteAddr: {
        transport: "udp",
        hostname: control.address,
        port: control.port,
      },
    };
  }

  /**
   * Closes both sockets, once what was sent so far has left (a BY sent
   * just before is not lost).
   *
   * @returns When they are closed.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#done = Promise.all([this.#control.idle(), this.#data.idle()]).then(
        () => {
          for (const s of [this.#control.socket, this.#data.socket]) {
            try {
              s.close();
            } catch { /* closed already */ }
          }
        },
      );
    }
    return this.#done;
  }
}

function bindSocket(
  socket: dgram.Socket,
  hostname: string,
  port: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => {
      const code = (error as { code?: string }).code;
      reject(
        code === "EADDRINUSE"
          ? new Deno.errors.AddrInUse(
            `Cannot listen on UDP ${hostname}:${port}: the port is in use`,
          )
          : error,
      );
    };
    socket.once("error", failed);
    try {
      socket.bind(port, hostname, () => {
        socket.off("error", failed);
        resolve();
      });
    } catch (error) {
      failed(error as Error);
    }
  });
}
