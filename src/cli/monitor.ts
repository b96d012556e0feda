// Copyright 2026 the midisock authors. MIT license.
// `midisock monitor`: prints what a server sends.

import { connect } from "../client/connect.ts";
import { ReconnectingPort } from "../client/reconnecting_port.ts";
import {
  address,
  clientLink,
  onePositional,
  parseCommand,
  TLS_CLIENT_OPTIONS,
} from "./args.ts";
import { MONITOR_HELP } from "./help.ts";
import { type Lines, stdoutStatus } from "./lines.ts";
import { onStop } from "./on_stop.ts";
import { Printer } from "./printer.ts";

/**
 * Runs `midisock monitor` with its arguments (after the command word) until
 * the connection ends: by Ctrl-C, SIGTERM, `options.signal`, a failed
 * stdout, or (with --no-reconnect) the server. It prints on `out`.
 *
 * @returns The exit status: 0.
 */
export async function monitor(
  args: string[],
  options: { signal?: AbortSignal },
  out: Lines,
): Promise<number> {
  const { values, positionals } = parseCommand("monitor", args, {
    options: {
      json: { type: "boolean" },
      "no-reconnect": { type: "boolean" },
      ...TLS_CLIENT_OPTIONS,
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await out.write(MONITOR_HELP);
    return 0;
  }
  const { host, port } = address(onePositional("monitor", positionals), true);
  const printer = new Printer(out, !!values.json);
  const link = await clientLink(values);
  const server = values["no-reconnect"]
    ? await connect(host, port, link)
    : await connect(host, port, { ...link, reconnect: true });
  const removeStop = onStop(() => server.close(), options.signal);
  out.onError = () => server.close();
  printer.drops(server);
  if (server instanceof ReconnectingPort) printer.watch(server, true, true);
  try {
    await printer.event("connect", server.name);
    for await (const msg of server) await printer.message(server.name, msg);
    printer.flush();
    if (!(server instanceof ReconnectingPort)) {
      await printer.event("disconnect", server.name);
    }
  } finally {
    removeStop();
    await server.close();
  }
  return stdoutStatus(out);
}
