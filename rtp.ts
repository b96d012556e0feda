// Copyright 2026 the midisock authors. MIT license.
/**
 * RTP-MIDI (AppleMIDI): every Mac, iPhone and iPad, rtpMIDI on Windows,
 * rtpmidid on Linux and AppleMIDI boards join a midisock bus with nothing
 * to install. {@linkcode RtpListener} is the responder (it accepts
 * invitations), {@linkcode connectRtp} the initiator; each remote
 * participant is one {@linkcode RtpSession}, a `Transport` that a
 * `SocketPort` wraps or a `PortServer` admits. The guide is
 * [RTP-MIDI](docs/rtp-midi.md), in the package's `docs/` folder.
 *
 * @example A Mac's session joins a bus
 * ```ts
 * import { PortServer } from "@x/midisock";
 * import { RtpListener } from "@x/midisock/rtp";
 *
 * await using bus = new PortServer("127.0.0.1", 0, { relay: true });
 * await using rtp = await RtpListener.listen(
 *   { hostname: "127.0.0.1", port: 0, name: "midisock" },
 *   (session) => bus.admit(session, { name: session.name }),
 * );
 * console.log(`add this host, port ${rtp.port}, in Audio MIDI Setup`);
 * ```
 *
 * @module
 */

export * from "./src/transport/rtp/mod.ts";
