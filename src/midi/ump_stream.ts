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
  type: "endpoint_discovery";
  umpVersionMajor: number;
  umpVersionMinor: number;
  /** Bits: 0 endpoint info, 1 device identity, 2 name, 3 product instance id, 4 stream configuration. */
  filter: number;
}

/** Stream Configuration Request or Notification: the protocol selected. */
export interface StreamConfiguration {
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
  type: "endpoint_info";
  umpVersionMajor: number;
  umpVersionMinor: number;
  staticFunctionBlocks: boolean;
  functionBlocks: number;
  midi2: boolean;
  midi1: boolean;
  rxJR: boolean;
  txJR: boolean;
}

/** Endpoint Name or Product Instance Id Notification, one packet of it. */
export interface EndpointText {
  type: "endpoint_name" | "product_instance_id";
  /** 0 complete, 1 start, 2 continue, 3 end. */
  form: number;
  /** The text of this packet (up to 14 bytes). */
  text: string;
}

/** Function Block Discovery. */
export interface FunctionBlockDiscovery {
  type: "function_block_discovery";
  /** 0..31, or 0xFF for all. */
  block: number;
  /** Bits: 0 info, 1 name. */
  filter: number;
}

/** Any other UMP Stream message, as its words. */
export interface OtherStreamMessage {
  type: "other";
  status: number;
  form: number;
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

function textOf(words: ArrayLike<number>, fromByte: number): string {
  const bytes: number[] = [];
  for (let i = fromByte; i < 16; i++) {
    const byte = (words[i >> 2] >>> (24 - 8 * (i & 3))) & 0xff;
    if (byte !== 0) bytes.push(byte);
  }
  return decoder.decode(new Uint8Array(bytes));
}

/**
 * Reads one UMP Stream message from its four words.
 *
 * @param words The four words of the message (MT 0xF).
 * @returns The message, typed where its status is known.
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
