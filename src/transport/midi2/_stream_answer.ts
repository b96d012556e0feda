// Copyright 2026 the midisock authors. MIT license.
// Private: what a session answers to the UMP Stream messages (MT 0xF) of its
// peer: a Stream Configuration Request selects the protocol of what the
// session sends (unless an option forces it) and gets the configuration;
// Endpoint Discovery gets the endpoint's info, name, Product Instance Id and
// configuration, as its filter asks. The endpoint has no function blocks:
// Windows MIDI Services then makes MIDI 1.0 ports for it.

import type { UmpStreamMessage } from "../../midi/ump_stream.ts";

/** The answer to one UMP Stream message, and the protocol from then on. */
export function streamAnswer(
  message: UmpStreamMessage,
  state: {
    self: { name: string; productInstanceId: string };
    protocol: 1 | 2;
    forced: boolean;
  },
): { answer: UmpStreamMessage[]; protocol: 1 | 2 } {
  let protocol = state.protocol;
  const answer: UmpStreamMessage[] = [];
  const configuration = (): UmpStreamMessage => ({
    type: "stream_configuration_notification",
    protocol,
    rxJR: false,
    txJR: false,
  });
  if (message.type === "stream_configuration_request") {
    if (!state.forced && (message.protocol === 1 || message.protocol === 2)) {
      protocol = message.protocol;
    }
    answer.push(configuration());
  } else if (message.type === "endpoint_discovery") {
    const filter = message.filter;
    if (filter & 0x01) {
      answer.push({
        type: "endpoint_info",
        umpVersionMajor: 1,
        umpVersionMinor: 1,
        staticFunctionBlocks: true,
        functionBlocks: 0,
        midi2: true,
        midi1: true,
        rxJR: false,
        txJR: false,
      });
    }
    if (filter & 0x04) answer.push(...texts("endpoint_name", state.self.name));
    if (filter & 0x08) {
      answer.push(
        ...texts("product_instance_id", state.self.productInstanceId),
      );
    }
    if (filter & 0x10) answer.push(configuration());
  }
  return { answer, protocol };
}

// A text as UMP Stream packets of up to 14 bytes each, split between
// characters.
function texts(
  type: "endpoint_name" | "product_instance_id",
  text: string,
): UmpStreamMessage[] {
  const encoder = new TextEncoder();
  const pieces: string[] = [];
  let piece = "";
  for (const char of text) {
    if (encoder.encode(piece + char).length > 14) {
      pieces.push(piece);
      piece = "";
    }
    piece += char;
  }
  pieces.push(piece);
  return pieces.map((text, p) => ({
    type,
    form: pieces.length === 1
      ? 0
      : p === 0
      ? 1
      : p === pieces.length - 1
      ? 3
      : 2,
    text,
  }));
}
