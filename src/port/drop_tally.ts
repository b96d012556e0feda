// Copyright 2026 the midisock authors. MIT license.

import {
  type MidiParser,
  type MidiParserStats,
  skippedOf,
} from "../midi/parser.ts";

/** The counts of one drop event. */
export interface DropCounts {
  skippedBytes: number;
  discardedMessages: number;
  oversizedSysex: number;
}

/**
 * What a port's parser has dropped since the port last reported it: the
 * counts of its next `drop` event. One message dropped makes one report,
 * with its total: while the parser is still skipping the rest of a message
 * it dropped (an oversized sysex, read 16 KiB at a time), the report waits
 * for the skip to end, or for the stream to end.
 */
export class DropTally {
  #parser: MidiParser;
  #reported: MidiParserStats;

  /** Starts from what `parser` has counted so far. */
  constructor(parser: MidiParser) {
    this.#parser = parser;
    this.#reported = parser.stats;
  }

  /**
   * The counts since the last report, or undefined if nothing was dropped
   * since, or if the parser is in the middle of skipping a dropped message.
   */
  take(): DropCounts | undefined {
    const parser = this.#parser;
    if (parser.skipping) return undefined;
    const last = this.#reported;
    // (No copy of the stats for a chunk that dropped nothing.)
    if (skippedOf(parser) === last.skippedBytes) return undefined;
    const now = parser.stats;
    this.#reported = now;
    return {
      skippedBytes: now.skippedBytes - last.skippedBytes,
      discardedMessages: now.discardedMessages - last.discardedMessages,
      oversizedSysex: now.oversizedSysex - last.oversizedSysex,
    };
  }
}
