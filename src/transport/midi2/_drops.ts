// Copyright 2026 the midisock authors. MIT license.
// Private: a session's drops, reported without a flood. Drops of one kind in
// a row (the rest of a sysex whose start was lost, packet after packet) are
// one report, with their count, made when another kind comes, after a
// moment, or at flush(). Every drop is in a count; none goes unreported.

/** Gathers drops of one kind, and reports each run of them once. */
export class DropGate {
  #report: (reason: string, count: number) => void;
  #held:
    | { kind: string; reason: string; count: number; events: number }
    | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param report Called with the first reason of a run, and its count. */
  constructor(report: (reason: string, count: number) => void) {
    this.#report = report;
  }

  /** Adds `count` drops for `reason`. */
  add(reason: string, count: number): void {
    const kind = reason.replace(/0x[0-9a-f]+/gi, "#");
    const held = this.#held;
    if (held && held.kind === kind) {
      held.count += count;
      held.events++;
      return;
    }
    this.flush();
    this.#held = { kind, reason, count, events: 1 };
    this.#timer = setTimeout(() => this.flush(), 100);
  }

  /** Reports the run held, if any, now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const held = this.#held;
    this.#held = undefined;
    if (held === undefined) return;
    const { reason, count, events } = held;
    this.#report(
      events > 1 ? `${reason} (and ${events - 1} more like it)` : reason,
      count,
    );
  }
}
