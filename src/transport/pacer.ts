// Copyright 2026 the midisock authors. MIT license.
// Not public: the pacing of a UDP transport's bursts (a long sysex), which
// Network MIDI 2.0's and RTP-MIDI's sessions share. Nothing in UDP paces a
// sender, and a burst longer than the peer's socket buffer is lost.

/**
 * A token bucket: `burst` datagrams may go at once, then `rate` a second.
 * A lone datagram (a player's message) never waits: it takes its token,
 * going into debt by at most a burst; only a burst waits for tokens.
 */
export class Pacer {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #refilled = performance.now();

  /**
   * @param rate Datagrams a second, after a burst.
   * @param burst Datagrams that may go at once.
   */
  constructor(rate: number, burst: number) {
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
  }

  /** Whether a datagram of a burst may go now. */
  get ready(): boolean {
    this.#refill();
    return this.#tokens >= 1;
  }

  /** Counts a datagram that went. */
  spend(): void {
    this.#tokens = Math.max(this.#tokens - 1, -this.#burst);
  }

  /**
   * Waits until a datagram of a burst may go, or `stop()` says to give up.
   *
   * @param stop Checked after each timer turn.
   * @param signal Ends the wait at once (its timer cleared) when it aborts.
   */
  async wait(stop: () => boolean, signal?: AbortSignal): Promise<void> {
    while (!this.ready && !stop() && !signal?.aborted) {
      const ms = (1 - this.#tokens) * 1000 / this.#rate;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener("abort", done, { once: true });
      });
    }
  }

  #refill(): void {
    const now = performance.now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + (now - this.#refilled) * this.#rate / 1000,
    );
    this.#refilled = now;
  }
}
