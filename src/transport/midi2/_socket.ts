// Copyright 2026 the midisock authors. MIT license.
// Private: a UDP socket through node:dgram (Deno.listenDatagram needs
// --unstable-net), as the listener and the dialer use it.

import dgram from "node:dgram";
import { unbracket } from "../hosts.ts";

/** A bound UDP socket. */
export interface UdpSocket {
  /** The address it is bound to. */
  readonly addr: Deno.NetAddr;
  /** Sends a datagram; a failure is swallowed (UDP promises nothing). */
  send(bytes: Uint8Array, hostname: string, port: number): void;
  /**
   * Closes it once the datagrams sent so far are handed to the system; no
   * message is handed on after. Resolves once it is closed.
   */
  close(): Promise<void>;
}

/** Whether a host is an IPv6 address. */
export function isIpv6(host: string): boolean {
  return unbracket(host).includes(":");
}

/**
 * Binds a UDP socket to `hostname:port` (port 0: a free one), and hands on
 * each datagram with its sender.
 *
 * @throws {Error} If it cannot bind, naming the address.
 */
export function bindUdp(
  hostname: string,
  port: number,
  onMessage: (bytes: Uint8Array, from: Deno.NetAddr) => void,
): Promise<UdpSocket> {
  const host = unbracket(hostname);
  const v6 = isIpv6(host);
  const socket = dgram.createSocket({
    type: v6 ? "udp6" : "udp4",
    ipv6Only: v6,
  });
  const done = Promise.withResolvers<UdpSocket>();
  let closed = false;
  let sending = 0; // sends not yet handed to the system
  const shut = Promise.withResolvers<void>();
  const finish = () => socket.close(() => shut.resolve());
  socket.once("error", (error) => {
    closed = true;
    try {
      socket.close();
    } catch {
      // not open
    }
    done.reject(
      new Error(
        `Cannot bind UDP ${v6 ? `[${host}]` : host}:${port}: ${error.message}`,
      ),
    );
  });
  socket.on("message", (bytes, rinfo) => {
    if (closed) return;
    try {
      onMessage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), {
        transport: "udp",
        hostname: rinfo.address,
        port: rinfo.port,
      });
    } catch {
      // a handler never throws; if it does, the socket carries on
    }
  });
  socket.bind(port, host, () => {
    socket.removeAllListeners("error");
    socket.on("error", () => {}); // a send to a closed port, and such
    const address = socket.address();
    done.resolve({
      addr: { transport: "udp", hostname: address.address, port: address.port },
      send(bytes, hostname, port) {
        if (closed) return;
        sending++;
        try {
          socket.send(bytes, port, unbracket(hostname), () => {
            if (--sending === 0 && closed) finish();
          });
        } catch {
          // the datagram is lost, as UDP may lose it
          if (--sending === 0 && closed) finish();
        }
      },
      close() {
        if (!closed) {
          closed = true;
          if (sending === 0) finish();
        }
        return shut.promise;
      },
    });
  });
  return done.promise;
}
