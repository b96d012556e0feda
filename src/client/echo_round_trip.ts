// Copyright 2026 the midisock authors. MIT license.

import type { SocketPort } from "../port/socket_port.ts";
import {
  asksEcho,
  echoAnswerSeq,
  echoRequest,
  MAX_ECHO_SEQ,
} from "../transport/echo.ts";

/** How long start() waits for the answer to its probe, in ms. */
const PROBE_TIMEOUT_MS = 2000;

/** One round trip after another to a bus: what `midisock ping` measures with. */
export interface RoundTrip {
  /**
   * Measures one round trip.
   *
   * @param signal A signal to give up on this one (a lost sample).
   * @returns The round trip, in ms.
   */
  rtt(signal?: AbortSignal): Promise<number>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/**
 * Round trips to a midisock server over a byte stream, with its echo: each
 * is an echo request (a sysex of the non-commercial ID 0x7D with a
 * sequence number), which the server answers to this client alone, and
 * never relays. The port must have been opened with `connect(..., { echo:
 * true })`, and the server must have said in its verdict line that it
 * answers (`echo=1`), so that no echo request ever reaches a peer that
 * would take it for MIDI. The port is read from now on: other messages of
 * the bus are dropped, and a late answer is ignored.
 *
 * @example Measuring a round trip
 * ```ts
 * import { connect, EchoRoundTrip, PortServer } from "@x/midisock";
 * import assert from "node:assert/strict";
 *
 * await using server = new PortServer("127.0.0.1", 0, { relay: true });
 * const port = await connect("127.0.0.1", server.port, { echo: true });
 * const echo = new EchoRoundTrip(port);
 * const ms = await echo.rtt();
 * assert.ok(ms >= 0 && ms < 5000);
 * await echo.close();
 * assert.equal(server.stats.echoes, 1);
 * assert.equal(server.stats.received, 0); // nothing reached the bus
 * ```
 */
export class EchoRoundTrip implements RoundTrip {
  #port: SocketPort;
  #seq = 0;
  #waiting = new Map<number, (time: number) => void>();
  #reading: Promise<void>;
  #ended = Promise.withResolvers<never>();

  /**
   * Starts reading the port.
   *
   * @param port A port opened with `echo: true`.
   * @throws {Deno.errors.NotSupported} If the server did not say that it
   * answers the echo (nothing was sent; the port is the caller's to close).
   */
  constructor(port: SocketPort) {
    this.#port = port;
    if (!asksEcho(port.hello) && !EchoRoundTrip.#probing) {
      throw new Deno.errors.NotSupported(
        `Cannot ping ${port.name}: the server did not say it answers midisock's echo (${
          port.hello === undefined
            ? "it did not answer the hello line: a mido server, or no midisock server"
            : port.hello === null
            ? "it sent MIDI before it answered the hello line: a midisock bus that sends late joiners a snapshot, a mido server that sends, or an older midisock"
            : "an older midisock, or no midisock server"
        }); no echo request was sent`,
      );
    }
    this.#ended.promise.catch(() => {});
    this.#reading = this.#read();
  }

  // Set while start() makes one for a probe.
  static #probing = false;

  /**
   * Starts round trips on a port opened with `echo: true`, as the
   * constructor does; and where the server sent MIDI before it answered
   * the hello line (a busy bus, or one that sends late joiners a snapshot,
   * may), it asks once: one echo request, which a midisock server answers
   * (it read the hello line, and knows this client asked), and which
   * anything else that sends MIDI first gets as one sysex of the
   * non-commercial ID 0x7D.
   *
   * @param port A port opened with `echo: true`.
   * @param options How long to wait for the probe's answer, in ms.
   * @returns The round trips, once the server is known to answer.
   * @throws {Deno.errors.NotSupported} If it is not: the port is closed
   * then, where the constructor's error leaves it to the caller.
   *
   * @example A bus that sends a late joiner its snapshot first
   * ```ts
   * import { connect, EchoRoundTrip, message, PortServer } from "@x/midisock";
   * import assert from "node:assert/strict";
   *
   * await using server = new PortServer("127.0.0.1", 0, { relay: true, snapshot: true });
   * await server.send(message("control_change", { control: 7, value: 100 }));
   * const port = await connect("127.0.0.1", server.port, { echo: true });
   * const echo = await EchoRoundTrip.start(port);
   * assert.ok(await echo.rtt() >= 0);
   * await echo.close();
   * ```
   */
  static async start(
    port: SocketPort,
    options: { probeTimeout?: number } = {},
  ): Promise<EchoRoundTrip> {
    if (asksEcho(port.hello) || port.hello !== null) {
      return new EchoRoundTrip(port);
    }
    EchoRoundTrip.#probing = true;
    let echo: EchoRoundTrip;
    try {
      echo = new EchoRoundTrip(port);
    } finally {
      EchoRoundTrip.#probing = false;
    }
    const timeout = options.probeTimeout ?? PROBE_TIMEOUT_MS;
    try {
      await echo.rtt(AbortSignal.timeout(timeout));
      return echo;
    } catch {
      await echo.close();
      throw new Deno.errors.NotSupported(
        `Cannot ping ${port.name}: it sent MIDI before it answered the hello line, and did not answer an echo request within ${timeout} ms (a mido server that sends, or an older midisock)`,
      );
    }
  }

  async #read(): Promise<void> {
    try {
      for await (const { message, time } of this.#port.withTimes()) {
        const seq = echoAnswerSeq(message);
        if (seq === undefined) continue;
        this.#waiting.get(seq)?.(time);
      }
    } catch {
      // The port failed: the end, as below.
    }
    this.#ended.reject(
      new Deno.errors.ConnectionReset(
        `Cannot ping ${this.#port.name}: the connection ended`,
      ),
    );
  }

  /**
   * Sends an echo request and waits for its answer.
   *
   * @param signal A signal to give up on it.
   * @returns The round trip, in ms: from just before the request is
   * written until the answer's bytes were read.
   * @throws {Deno.errors.ConnectionReset} If the connection ends first.
   */
  async rtt(signal?: AbortSignal): Promise<number> {
    const seq = this.#seq;
    this.#seq = seq === MAX_ECHO_SEQ ? 0 : seq + 1;
    const answered = Promise.withResolvers<number>();
    this.#waiting.set(seq, answered.resolve);
    const onAbort = () => answered.reject(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      signal?.throwIfAborted();
      const sent = performance.now();
      await this.#port.send(echoRequest(seq));
      const time = await Promise.race([answered.promise, this.#ended.promise]);
      return Math.max(0, time - sent);
    } finally {
      this.#waiting.delete(seq);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Closes the port.
   *
   * @returns When it is closed.
   */
  async close(): Promise<void> {
    await this.#port.close();
    await this.#reading;
  }
}
