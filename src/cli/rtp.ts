// Copyright 2026 the midisock authors. MIT license.
// RTP-MIDI in the CLI: the `rtp://HOST[:PORT]` scheme that connect, monitor,
// send and record dial, and the listener of `serve --rtp`, whose sessions
// join the bus through PortServer.admit() and whose events serve prints.

import type { PortServer } from "../bus/port_server.ts";
import { formatAddress, parseAddress } from "../transport/address.ts";
import { connectRtp } from "../transport/rtp/connect_rtp.ts";
import type { RtpPacketEvent } from "../transport/rtp/events.ts";
import { RtpListener } from "../transport/rtp/rtp_listener.ts";
import type { RtpSession } from "../transport/rtp/rtp_session.ts";
import { oneLine } from "../util/error_text.ts";
import { type Link, UsageError } from "./args.ts";
import { PROGRAM } from "./help.ts";
import { sessionScheme } from "./_session_scheme.ts";
import type { LineWriter } from "./nats.ts";

/** The control port of RTP-MIDI when an address names none. */
const RTP_DEFAULT_PORT = 5004;

/** The session name that midisock gives itself unless told another. */
const DEFAULT_NAME = "midisock";

/** Parses `HOST[:PORT]` of an RTP address (a usage error names the fault). */
function rtpAddress(
  text: string,
  what: string,
): { host: string; port: number } {
  let parsed;
  try {
    parsed = parseAddress(text, { defaultHost: "localhost" });
  } catch {
    try {
      // No port: the host alone, the default port.
      parsed = parseAddress(
        `${
          text.includes(":") && !text.startsWith("[") ? `[${text}]` : text
        }:${RTP_DEFAULT_PORT}`,
        { defaultHost: "localhost" },
      );
    } catch (error) {
      throw new UsageError(
        `Invalid ${what} ${JSON.stringify(text)}: ${oneLine(error)}`,
      );
    }
  }
  if (parsed.port > 65534) {
    throw new UsageError(
      `Invalid ${what} ${
        JSON.stringify(text)
      }: the control port must be at most 65534 (the data port is the next)`,
    );
  }
  return parsed;
}

/**
 * Checks the rest of an `rtp://HOST[:PORT]` address (the port defaults to
 * 5004) with the command's link (`--name` is this end's session name;
 * RTP-MIDI has no TLS and no token), and says how to open a session to it:
 * `midisock ping rtp://` measures with the session's ping().
 *
 * @throws {UsageError} Naming the fault.
 */
function rtpTarget(rest: string, link: Link): {
  name: string;
  open(signal: AbortSignal): Promise<RtpSession>;
} {
  if (link.tls) {
    throw new UsageError(
      `rtp:// has no TLS: drop --tls and --ca (see ${PROGRAM} --help)`,
    );
  }
  if (link.hello.token !== undefined) {
    throw new UsageError(
      `rtp:// has no token: RTP-MIDI has no authentication; drop --token-file and MIDISOCK_TOKEN (see ${PROGRAM} --help)`,
    );
  }
  const { host, port } = rtpAddress(rest.replace(/\/$/, ""), "address");
  if (port === 0) {
    throw new UsageError(
      `Invalid address "rtp://${rest}": cannot connect to port 0`,
    );
  }
  return {
    name: `rtp://${formatAddress(host, port)}`,
    open: (signal) =>
      connectRtp(host, port, { name: link.hello.name ?? DEFAULT_NAME, signal }),
  };
}

/**
 * `rtp://HOST[:PORT]`: an AppleMIDI session that this end invites, as a
 * port (an entry of dial.ts's SCHEMES).
 */
export const RTP_SCHEME = sessionScheme("rtp:", "rtp://HOST[:PORT]", rtpTarget);

/**
 * `serve --rtp [HOST:]PORT`'s address: the host by default the server's.
 *
 * @throws {UsageError} Naming the fault.
 */
export function rtpListenAddress(
  text: string,
  serverHost: string,
): { host: string; port: number } {
  if (/^\d+$/.test(text)) {
    return rtpAddress(
      formatAddress(serverHost || "0.0.0.0", Number(text)),
      "--rtp address",
    );
  }
  return rtpAddress(text, "--rtp address");
}

/**
 * Listens for RTP-MIDI invitations, admits each participant to `server`
 * (under its allow-list and maxClients) as `rtp:NAME`, taking a sysex as
 * long as the bus does (`maxSysexBytes`, serve's --max-sysex), and prints its
 * recoveries, bad packets and end with `line`.
 */
export async function startRtp(
  server: PortServer,
  where: { host: string; port: number; name?: string; maxSysexBytes?: number },
  line: LineWriter,
): Promise<RtpListener> {
  line = unlessBehind(line);
  const listener = await RtpListener.listen(
    {
      hostname: where.host,
      port: where.port,
      name: where.name ?? DEFAULT_NAME,
      // The bus's own limit (--max-sysex), no lower.
      maxSysexBytes: where.maxSysexBytes,
      // Whom the bus would turn away is answered NO.
      check: (from) => server.refusal(from.address),
    },
    (session) => {
      watch(session, line);
      server.admit(session, { name: session.name });
    },
  );
  listener.addEventListener("badpacket", (event) => bad(event, line));
  listener.addEventListener("refused", ({ address, reason }) => {
    line(
      {
        event: "rtprefused",
        address,
        reason,
        total: listener.stats.refused,
      },
      `# rtprefused ${address} ${reason}`,
    );
  });
  return listener;
}

function watch(session: RtpSession, line: LineWriter): void {
  const port = session.name;
  session.addEventListener("recovery", ({ recovered, lost }) => {
    line(
      {
        event: "recovery",
        port,
        recovered,
        lost,
        total: session.stats.recovered,
      },
      `# recovery ${port} recovered=${recovered} lost=${lost} total=${session.stats.recovered}`,
    );
  });
  session.addEventListener("badpacket", (event) => bad(event, line));
  session.addEventListener("overflow", ({ reason }) => {
    line(
      { event: "overflow", port, reason, dropped: session.stats.overflowed },
      `# overflow ${port} ${reason}`,
    );
  });
  session.addEventListener("dropped", ({ reason }) => {
    line(
      { event: "rtpdropped", port, reason, total: session.stats.dropped },
      `# rtpdropped ${port} ${reason}`,
    );
  });
  session.addEventListener("end", ({ reason }) => {
    const { packetsReceived, lost, recovered, badPackets, late } =
      session.stats;
    line(
      {
        event: "rtpend",
        port,
        reason,
        packets: packetsReceived,
        lost,
        recovered,
        bad: badPackets,
        late,
      },
      `# rtpend ${port} reason=${reason} packets=${packetsReceived} lost=${lost} recovered=${recovered} bad=${badPackets} late=${late}`,
    );
  });
}

function bad(event: RtpPacketEvent, line: LineWriter): void {
  const { address, reason } = event;
  const port = event.session?.name;
  line(
    { event: "badpacket", address, port, reason },
    `# badpacket ${address}${port ? ` ${port}` : ""} ${reason}`,
  );
}

/**
 * RTP's lines, which anyone's datagrams can cause, one a datagram: while
 * stdout is behind (a line from an earlier turn still waits for it), more
 * are counted rather than queued, and once it has caught up one line says
 * how many were left out (the stats count every one).
 */
function unlessBehind(line: LineWriter): LineWriter {
  let waiting = 0; // lines not yet taken by stdout
  let thisTurn = false; // a line was written in this turn
  let unprinted = 0;
  const write = (json: Record<string, unknown>, text: string) => {
    waiting++;
    if (!thisTurn) {
      thisTurn = true;
      queueMicrotask(() => thisTurn = false);
    }
    const written = line(json, text);
    written.finally(() => {
      waiting--;
      if (waiting === 0 && unprinted > 0) {
        const count = unprinted;
        unprinted = 0;
        write(
          { event: "unprinted", count },
          `# unprinted ${count} lines of RTP events: stdout was behind (the counts have them)`,
        );
      }
    }).catch(() => {});
    return written;
  };
  return (json, text) => {
    // (Lines of the same turn are one datagram's: they go together.)
    if (waiting > 0 && !thisTurn) {
      unprinted++;
      return Promise.resolve();
    }
    return write(json, text);
  };
}
