// Copyright 2026 the midisock authors. MIT license.
// Private: active sensing on a socket port's link, MIDI 1.0's check that a
// link is alive, made to work over a network (see the activeSensing option
// of SocketPortOptions).

import type { Message } from "../midi/message.ts";
import type { Outbox } from "./_outbox.ts";

const MIN_SENSING = 100;
const MAX_SENSING = 3_600_000;

const ACTIVE_SENSING = new Uint8Array([0xfe]);

function validSensing(ms: unknown): ms is number {
  return typeof ms === "number" && ms >= MIN_SENSING && ms <= MAX_SENSING;
}

/**
 * Checks the activeSensing option.
 *
 * @param ms The option.
 * @throws {RangeError} If it is neither 0 nor in range.
 */
export function checkSensing(ms: number | undefined): void {
  if (ms !== undefined && ms !== 0 && !validSensing(ms)) {
    throw new RangeError(
      `Invalid activeSensing option: expected 0 (off) or a number of milliseconds in ${MIN_SENSING}..${MAX_SENSING}, got ${ms}`,
    );
  }
}

/** What {@linkcode Sensing} needs of its port. */
export interface SensingPort {
  /** The port's name, for the error. */
  name(): string;
  /** Whether the port does not read now, because its reader is behind. */
  waiting(): boolean;
  /** Closes the port with an error: the peer went silent. */
  lost(error: Error): void;
}

/**
 * Active sensing on one link. Once it is on, the port sends 0xFE whenever
 * it has sent nothing for a quarter of the allowed silence, and the port
 * is lost when the peer sends nothing for all of it (while the port
 * reads). It is on once either end asked for it and the other answered: a
 * client that asks turns it on at the server's first 0xFE (or at once,
 * with `expectSensing`); a server answers a client that asked once its
 * owner reads the port.
 */
export class Sensing {
  #port: SensingPort;
  #outbox: Outbox;
  #want: number; // the silence this end asks for, if any
  #asked = 0; // the silence the peer asked for in its hello line
  #answering = false; // the owner reads the port: answer the peer
  #silence = 0; // the silence allowed, once active sensing is on
  #timer: ReturnType<typeof setInterval> | undefined;
  #sensed = 0; // 0xFE bytes taken as signs of life
  #lastRead = performance.now();

  /**
   * Makes the port's sensing, off until it is asked for and answered.
   *
   * @param want The silence this end asks for, in ms; 0 for none.
   * @param outbox The port's outgoing queue, for its 0xFE bytes.
   * @param port The port.
   */
  constructor(want: number, outbox: Outbox, port: SensingPort) {
    this.#want = want;
    this.#outbox = outbox;
    this.#port = port;
  }

  /** The silence allowed once sensing is on, in ms; else 0. */
  get silence(): number {
    return this.#silence;
  }

  /** The 0xFE bytes taken as signs of life. */
  get sensed(): number {
    return this.#sensed;
  }

  /** The hello line's `sensing` field: what this end asks for. */
  get helloField(): string | undefined {
    return this.#want ? String(this.#want) : undefined;
  }

  /** Turns sensing on now, if this end asks for it (`expectSensing`). */
  expect(): void {
    if (this.#want) this.#start(this.#want, false);
  }

  /**
   * Takes the peer's hello line's `sensing` field: a peer that asks for
   * active sensing gets it, once the owner reads the port.
   *
   * @param field The field, if any.
   */
  askedFor(field: string | undefined): void {
    const silence = Number(field);
    if (!validSensing(silence)) return;
    this.#asked = silence;
    if (this.#answering) this.#start(silence, true);
  }

  /** The owner reads the port: answer a peer that asked for sensing. */
  answer(): void {
    if (this.#answering) return;
    this.#answering = true;
    if (this.#asked) this.#start(this.#asked, true);
  }

  /**
   * The peer sent something.
   *
   * @param now When, by `performance.now()`.
   */
  heard(now: number): void {
    this.#lastRead = now;
  }

  /**
   * Takes the 0xFE bytes of a link under active sensing out of the
   * messages: they are signs of life, not MIDI for the reader. A client
   * that asked for active sensing turns it on at the first one, which
   * tells it that the server speaks it.
   *
   * @param messages The messages of one chunk, from index 0 on; those for
   * the reader are moved to the front.
   * @param count How many there are.
   * @returns How many are for the reader.
   */
  take(messages: Message[], count: number): number {
    if (!this.#silence && !this.#want) return count;
    let kept = 0;
    for (let i = 0; i < count; i++) {
      const msg = messages[i];
      if (msg.type !== "active_sensing") {
        messages[kept++] = msg;
        continue;
      }
      this.#sensed++;
      if (!this.#silence) this.#start(this.#want, false);
    }
    return kept;
  }

  /** Stops sensing: the port closes. */
  stop(): void {
    clearInterval(this.#timer);
  }

  // A server announces sensing at once, which tells the client it speaks
  // it.
  #start(silence: number, announce: boolean): void {
    const outbox = this.#outbox;
    if (this.#silence || outbox.closed) return;
    this.#silence = silence;
    if (announce) outbox.enqueue(ACTIVE_SENSING);
    let out = -1;
    this.#timer = setInterval(() => {
      const now = performance.now();
      if (!this.#port.waiting() && now - this.#lastRead > silence) {
        clearInterval(this.#timer);
        this.#port.lost(
          new Error(
            `Active sensing timed out: nothing from ${this.#port.name()} for ${silence} ms`,
          ),
        );
        return;
      }
      const sent = outbox.writtenBytes + outbox.queuedBytes;
      if (sent === out && !outbox.closed) outbox.enqueue(ACTIVE_SENSING);
      out = outbox.writtenBytes + outbox.queuedBytes;
    }, silence / 4);
  }
}
