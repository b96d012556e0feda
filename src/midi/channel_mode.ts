// Copyright 2026 the midisock authors. MIT license.
// Private: the messages that mido's reset() and panic() send.

import { type Message, message } from "./message.ts";

/** mido's reset(): All Notes Off and Reset All Controllers on every channel. */
export const RESET_MESSAGES: readonly Message[] = Array.from(
  { length: 32 },
  (_, i) =>
    message("control_change", {
      channel: i >> 1,
      control: i & 1 ? 121 : 123,
    }),
);

/** mido's panic(): All Sounds Off on every channel. */
export const PANIC_MESSAGES: readonly Message[] = Array.from(
  { length: 16 },
  (_, channel) => message("control_change", { channel, control: 120 }),
);
