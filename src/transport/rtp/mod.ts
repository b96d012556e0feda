// Copyright 2026 the midisock authors. MIT license.
// The face of src/transport/rtp/: what rtp.ts exports.

export { connectRtp, type ConnectRtpOptions } from "./connect_rtp.ts";
export {
  RtpListener,
  type RtpListenerEventMap,
  type RtpListenerOptions,
  type RtpListenerStats,
} from "./rtp_listener.ts";
export {
  RtpSession,
  type RtpSessionEventMap,
  type RtpSessionOptions,
  type RtpSessionStats,
} from "./rtp_session.ts";
export {
  type NamedSession,
  type RtpEndReason,
  RtpPacketEvent,
  type RtpPacketEventInit,
  RtpSessionEvent,
  type RtpSessionEventInit,
} from "./events.ts";
export {
  RTP_MIDI_PAYLOAD_TYPE,
  type RtpMidiReceived,
  RtpMidiReceiver,
  type RtpMidiReceiverOptions,
  RtpMidiSender,
  type RtpMidiSenderOptions,
  type RtpMidiSenderStats,
} from "./rtp_midi.ts";
