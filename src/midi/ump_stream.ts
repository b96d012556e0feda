// Copyright 2026 the midisock authors. MIT license.
// UMP Stream messages (message type 0xF, 128 bits, no group): what an
// endpoint says about itself and which protocol it selects (UMP and MIDI 2.0
// Protocol specification, M2-104-UM v1.1, 7.1).

/** The statuses of UMP Stream messages (10 bits). */
export const UmpStreamStatus = {
  EndpointDiscovery: 0x000,
  EndpointInfoNotification: 0x001,
  DeviceIdentityNotification: 0x002,
  EndpointNameNotification: 0x003,
  ProductInstanceIdNotification: 0x004,
  StreamConfigurationRequest: 0x005,
  StreamConfigurationNotification: 0x006,
  FunctionBlockDiscovery: 0x010,
  FunctionBlockInfoNotification: 0x011,
  FunctionBlockNameNotification: 0x012,
  StartOfClip: 0x020,
  EndOfClip: 0x021,
} as const;

/** The protocol numbers of a Stream Configuration message. */
export type UmpProtocol = 1 | 2;

/** Endpoint Discovery: a peer asks what this endpoint is. */
export interface EndpointDiscovery {
  /** The kind of message. */
  type: "endpoint_discovery";
  /** The UMP version of the asker, major. */
  umpVersionMajor: number;
  /** The UMP version of the asker, minor. */
  umpVersionMinor: number;
  /** Bits: 0 endpoint info, 1 device identity, 2 name, 3 product instance id, 4 stream configuration. */
  filter: number;
}

/** Stream Configuration Request or Notification: the protocol selected. */
export interface StreamConfiguration {
  /** The kind of message. */
  type: "stream_configuration_request" | "stream_configuration_notification";
  /** 1: MIDI 1.0 Protocol, 2: MIDI 2.0 Protocol (other values as sent). */
  protocol: number;
  /** The endpoint receives JR timestamps. */
  rxJR: boolean;
  /** The endpoint sends JR timestamps. */
  txJR: boolean;
}

/** Endpoint Info Notification. */
export interface EndpointInfo {
  /** The kind of message. */
  type: "endpoint_info";
  /** The UMP version, major. */
  umpVersionMajor: number;
  /** The UMP version, minor. */
  umpVersionMinor: number;
  /** The function blocks never change. */
  staticFunctionBlocks: boolean;
  /** How many function blocks (0..32). */
  functionBlocks: number;
  /** It speaks the MIDI 2.0 protocol. */
  midi2: boolean;
  /** It speaks the MIDI 1.0 protocol. */
  midi1: boolean;
  /** It receives JR timestamps. */
  rxJR: boolean;
  /** It sends JR timestamps. */
  txJR: boolean;
}

/** Endpoint Name or Product Instance Id Notification, one packet of it. */
export interface EndpointText {
  /** The kind of message. */
  type: "endpoint_name" | "product_instance_id";
  /** 0 complete, 1 start, 2 continue, 3 end. */
  form: number;
  /** The text of this packet (up to 14 bytes). */
  text: string;
}

/** Function Block Discovery. */
export interface FunctionBlockDiscovery {
  /** The kind of message. */
  type: "function_block_discovery";
  /** 0..31, or 0xFF for all. */
  block: number;
  /** Bits: 0 info, 1 name. */
  filter: number;
}

/** Any other UMP Stream message, as its words. */
export interface OtherStreamMessage {
  /** The kind of message. */
  type: "other";
  /** Its 10-bit status. */
  status: number;
  /** Its format: 0 complete, 1 start, 2 continue, 3 end. */
  form: number;
  /** Its four words. */
  words: readonly number[];
}

/** A UMP Stream message (MT 0xF), as {@linkcode UmpToMidi1} reports it. */
export type UmpStreamMessage =
  | EndpointDiscovery
  | StreamConfiguration
  | EndpointInfo
  | EndpointText
  | FunctionBlockDiscovery
  | OtherStreamMessage;

const decoder = new TextDecoder("utf-8", { fatal: false });

/**
 * The text bytes of one Endpoint Name, Product Instance Id or Function Block
 * Name packet, without the zero bytes that pad it.
 *
 * @param words The four words of the packet.
 * @param fromByte Where its text starts (2, or 3 for a function block name).
 * @returns Up to 14 bytes of UTF-8, which may end inside a character that the
 * next packet finishes.
 *
 * @example
 * ```ts
 * import { streamTextBytes } from "./ump_stream.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(streamTextBytes([0xf0034869, 0, 0, 0]), new Uint8Array([0x48, 0x69]));
 * ```
 */
export function streamTextBytes(
  words: ArrayLike<number>,
  fromByte = 2,
): Uint8Array {
  const bytes: number[] = [];
  for (let i = fromByte; i < 16; i++) {
    const byte = ((words[i >> 2] ?? 0) >>> (24 - 8 * (i & 3))) & 0xff;
    if (byte !== 0) bytes.push(byte);
  }
  return new Uint8Array(bytes);
}

function textOf(words: ArrayLike<number>, fromByte: number): string {
  return decoder.decode(streamTextBytes(words, fromByte));
}

/**
 * Reads one UMP Stream message from its four words.
 *
 * @param words The four words of the message (MT 0xF).
 * @returns The message, typed where its status is known.
 *
 * @example An endpoint selects the MIDI 2.0 protocol
 * ```ts
 * import { decodeUmpStream } from "./ump_stream.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(decodeUmpStream([0xf0050200, 0, 0, 0]), {
 *   type: "stream_configuration_request",
 *   protocol: 2,
 *   rxJR: false,
 *   txJR: false,
 * });
 * ```
 */
export function decodeUmpStream(words: ArrayLike<number>): UmpStreamMessage {
  const w0 = words[0] >>> 0;
  const form = (w0 >>> 26) & 0x3;
  const status = (w0 >>> 16) & 0x3ff;
  switch (status) {
    case UmpStreamStatus.EndpointDiscovery:
      return {
        type: "endpoint_discovery",
        umpVersionMajor: (w0 >>> 8) & 0xff,
        umpVersionMinor: w0 & 0xff,
        filter: words[1] & 0xff,
      };
    case UmpStreamStatus.EndpointInfoNotification: {
      const w1 = words[1] >>> 0;
      return {
        type: "endpoint_info",
        umpVersionMajor: (w0 >>> 8) & 0xff,
        umpVersionMinor: w0 & 0xff,
        staticFunctionBlocks: (w1 >>> 31) === 1,
        functionBlocks: (w1 >>> 24) & 0x7f,
        midi2: ((w1 >>> 9) & 1) === 1,
        midi1: ((w1 >>> 8) & 1) === 1,
        rxJR: ((w1 >>> 1) & 1) === 1,
        txJR: (w1 & 1) === 1,
      };
    }
    case UmpStreamStatus.EndpointNameNotification:
    case UmpStreamStatus.ProductInstanceIdNotification:
      return {
        type: status === UmpStreamStatus.EndpointNameNotification
          ? "endpoint_name"
          : "product_instance_id",
        form,
        text: textOf(words, 2),
      };
    case UmpStreamStatus.StreamConfigurationRequest:
    case UmpStreamStatus.StreamConfigurationNotification:
      return {
        type: status === UmpStreamStatus.StreamConfigurationRequest
          ? "stream_configuration_request"
          : "stream_configuration_notification",
        protocol: (w0 >>> 8) & 0xff,
        rxJR: ((w0 >>> 1) & 1) === 1,
        txJR: (w0 & 1) === 1,
      };
    case UmpStreamStatus.FunctionBlockDiscovery:
      return {
        type: "function_block_discovery",
        block: (w0 >>> 8) & 0xff,
        filter: w0 & 0xff,
      };
    default:
      return {
        type: "other",
        status,
        form,
        words: Array.from({ length: 4 }, (_, i) => (words[i] ?? 0) >>> 0),
      };
  }
}

/**
 * Writes one UMP Stream message as its four words. An endpoint answers
 * Endpoint Discovery with these, and selects a protocol with a Stream
 * Configuration Request or Notification.
 *
 * @param message The message; for `endpoint_name` and
 * `product_instance_id`, a text of at most 14 bytes (split longer ones
 * with `form`).
 * @returns Four unsigned 32-bit words.
 *
 * @example
 * ```ts
 * import { encodeUmpStream } from "./ump_stream.ts";
 * import assert from "node:assert/strict";
 *
 * const words = encodeUmpStream({
 *   type: "stream_configuration_notification",
 *   protocol: 1,
 *   rxJR: false,
 *   txJR: false,
 * });
 * assert.deepEqual(words, [0xf0060100, 0, 0, 0]);
 * ```
 */
export function encodeUmpStream(message: UmpStreamMessage): number[] {
  const head = (status: number, form = 0) =>
    ((0xf << 28) | (form << 26) | (status << 16)) >>> 0;
  switch (message.type) {
    case "endpoint_discovery":
      return [
        (head(UmpStreamStatus.EndpointDiscovery) |
          ((message.umpVersionMajor & 0xff) << 8) |
          (message.umpVersionMinor & 0xff)) >>> 0,
        message.filter & 0xff,
        0,
        0,
      ];
    case "endpoint_info":
      return [
        (head(UmpStreamStatus.EndpointInfoNotification) |
          ((message.umpVersionMajor & 0xff) << 8) |
          (message.umpVersionMinor & 0xff)) >>> 0,
        ((message.staticFunctionBlocks ? 1 << 31 : 0) |
          ((message.functionBlocks & 0x7f) << 24) |
          (message.midi2 ? 1 << 9 : 0) | (message.midi1 ? 1 << 8 : 0) |
          (message.rxJR ? 2 : 0) | (message.txJR ? 1 : 0)) >>> 0,
        0,
        0,
      ];
    case "endpoint_name":
    case "product_instance_id": {
      const bytes = new TextEncoder().encode(message.text);
      if (bytes.length > 14) {
        throw new RangeError(
          `A UMP Stream ${message.type} packet holds at most 14 bytes, got ${bytes.length}`,
        );
      }
      const out = [
        head(
          message.type === "endpoint_name"
            ? UmpStreamStatus.EndpointNameNotification
            : UmpStreamStatus.ProductInstanceIdNotification,
          message.form & 3,
        ),
        0,
        0,
        0,
      ];
      bytes.forEach((byte, i) => {
        const at = i + 2;
        out[at >> 2] = (out[at >> 2] | (byte << (24 - 8 * (at & 3)))) >>> 0;
      });
      return out;
    }
    case "stream_configuration_request":
    case "stream_configuration_notification":
      return [
        (head(
          message.type === "stream_configuration_request"
            ? UmpStreamStatus.StreamConfigurationRequest
            : UmpStreamStatus.StreamConfigurationNotification,
        ) | ((message.protocol & 0xff) << 8) | (message.rxJR ? 2 : 0) |
          (message.txJR ? 1 : 0)) >>> 0,
        0,
        0,
        0,
      ];
    case "function_block_discovery":
      return [
        (head(UmpStreamStatus.FunctionBlockDiscovery) |
          ((message.block & 0xff) << 8) | (message.filter & 0xff)) >>> 0,
        0,
        0,
        0,
      ];
    case "other":
      return Array.from(
        { length: 4 },
        (_, i) => (message.words[i] ?? 0) >>> 0,
      );
  }
}

/**
 * Splits an Endpoint Name or Product Instance Id into the UMP Stream packets
 * that carry it, 14 bytes each (complete, or start, continue and end).
 *
 * @param type Which text.
 * @param text The text, at most 98 bytes of UTF-8 for a name and 42 for a
 * product instance id (the UMP specification's bounds).
 * @returns The packets' words, four for each.
 * @throws {RangeError} A text over its bound.
 *
 * @example
 * ```ts
 * import { streamTextPackets } from "./ump_stream.ts";
 * import assert from "node:assert/strict";
 *
 * // "midisock" fits one packet (form 0, complete).
 * assert.deepEqual(streamTextPackets("endpoint_name", "midisock"), [
 *   0xf0036d69, 0x6469736f, 0x636b0000, 0,
 * ]);
 * ```
 */
export function streamTextPackets(
  /** The kind of message. */
  type: "endpoint_name" | "product_instance_id",
  text: string,
): number[] {
  const bytes = new TextEncoder().encode(text);
  const max = type === "endpoint_name" ? 98 : 42;
  if (bytes.length > max) {
    throw new RangeError(
      `A UMP ${type} must be at most ${max} bytes, got ${bytes.length}`,
    );
  }
  const count = Math.max(1, Math.ceil(bytes.length / 14));
  const out: number[] = [];
  for (let p = 0; p < count; p++) {
    const form = count === 1 ? 0 : p === 0 ? 1 : p === count - 1 ? 3 : 2;
    const packet = encodeUmpStream({ type, form, text: "" });
    bytes.subarray(p * 14, p * 14 + 14).forEach((byte, i) => {
      const at = i + 2;
      packet[at >> 2] = (packet[at >> 2] | (byte << (24 - 8 * (at & 3)))) >>>
        0;
    });
    out.push(...packet);
  }
  return out;
}

/** What an endpoint says of itself, for {@linkcode endpointDiscoveryReply}. */
export interface EndpointIdentity {
  /** The endpoint name, at most 98 bytes of UTF-8. */
  name: string;
  /** The Product Instance Id, at most 42 bytes. */
  productInstanceId: string;
  /** The protocol in use now. */
  protocol: UmpProtocol;
  /** It can speak the MIDI 1.0 protocol. @default {true} */
  midi1?: boolean;
  /** It can speak the MIDI 2.0 protocol. @default {true} */
  midi2?: boolean;
}

/**
 * The answer to an Endpoint Discovery: the notifications that its filter asks
 * for, in the specification's order: Endpoint Info (UMP 1.1, no function
 * blocks, no JR timestamps), the Endpoint Name, the Product Instance Id and
 * the Stream Configuration in use. A Device Identity is not sent: there is no
 * manufacturer to name.
 *
 * @param discovery The request.
 * @param identity What to say.
 * @returns The words of the replies, four for each packet.
 *
 * @example Answering only the stream configuration
 * ```ts
 * import { endpointDiscoveryReply } from "./ump_stream.ts";
 * import assert from "node:assert/strict";
 *
 * const words = endpointDiscoveryReply(
 *   { type: "endpoint_discovery", umpVersionMajor: 1, umpVersionMinor: 1, filter: 0x10 },
 *   { name: "midisock", productInstanceId: "1", protocol: 1 },
 * );
 * assert.deepEqual(words, [0xf0060100, 0, 0, 0]);
 * ```
 */
export function endpointDiscoveryReply(
  discovery: EndpointDiscovery,
  identity: EndpointIdentity,
): number[] {
  const out: number[] = [];
  if (discovery.filter & 0x01) {
    out.push(...encodeUmpStream({
      type: "endpoint_info",
      umpVersionMajor: 1,
      umpVersionMinor: 1,
      staticFunctionBlocks: true,
      functionBlocks: 0,
      midi2: identity.midi2 ?? true,
      midi1: identity.midi1 ?? true,
      rxJR: false,
      txJR: false,
    }));
  }
  if (discovery.filter & 0x04) {
    out.push(...streamTextPackets("endpoint_name", identity.name));
  }
  if (discovery.filter & 0x08) {
    out.push(
      ...streamTextPackets("product_instance_id", identity.productInstanceId),
    );
  }
  if (discovery.filter & 0x10) {
    out.push(...encodeUmpStream({
      type: "stream_configuration_notification",
      protocol: identity.protocol,
      rxJR: false,
      txJR: false,
    }));
  }
  return out;
}
