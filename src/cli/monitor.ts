// Copyright 2026 the midisock authors. MIT license.
// `midisock monitor`: prints what a server sends.

import { ReconnectingPort } from "../client/reconnecting_port.ts";
import { verdictError } from "../client/verdict.ts";
import {
  clientLink,
  onePositional,
  parseCommand,
  TLS_CLIENT_OPTIONS,
} from "./args.ts";
import { dialBus } from "./dial.ts";
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
 * @throws The reason, if the server turned the monitor away (exit status
 * 1): a wrong or missing token, an address not on its allow-list; or it
 * speaks TLS or HTTP.
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
  const where = onePositional("monitor", positionals);
  const printer = new Printer(out, !!values.json);
  const link = await clientLink(values);
  const server = await dialBus(where, link, {
    reconnect: !values["no-reconnect"],
  });
  const removeStop = onStop(() => server.close(), options.signal);
  out.onError = () => server.close();
  printer.drops(server);
  // Why the server turned it away, if it did: then it stops, and says so.
  let refused: Error | undefined;
  if (server instanceof ReconnectingPort) {
    printer.watch(server, true, true);
    server.addEventListener("close", (event) => refused = event.error);
  }
  try {
    await printer.event("connect", server.name);
    for await (const msg of server) await printer.message(server.name, msg);
    printer.flush();
    if (!(server instanceof ReconnectingPort)) {
      const tokenSent = link.hello.token !== undefined;
      refused = verdictError(server, server.name, tokenSent);
      await printer.event("disconnect", server.name);
    }
  } finally {
    removeStop();
    await server.close();
  }
  if (refused) throw refused;
  return stdoutStatus(out);
}
