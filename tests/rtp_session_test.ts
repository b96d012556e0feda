// Copyright 2026 the midisock authors. MIT license.
// The AppleMIDI session (src/transport/rtp/): two midisock ends on loopback.

import assert from "node:assert/strict";
import { message, SocketPort } from "../mod.ts";
import { connectRtp, RtpListener, type RtpSession } from "../rtp.ts";

Deno.test("RTP session: a note crosses from initiator to responder and back", async () => {
  const joined = Promise.withResolvers<RtpSession>();
  await using listener = await RtpListener.listen(
    { hostname: "127.0.0.1", port: 0, name: "synth" },
    (s) => joined.resolve(s),
  );
  const session = await connectRtp("127.0.0.1", listener.port, {
    name: "keys",
  });
  await using keys = new SocketPort(session, { name: session.name });
  const remote = await joined.promise;
  await using synth = new SocketPort(remote, { name: remote.name });
  assert.equal(session.name, "rtp:synth");
  assert.equal(remote.name, "rtp:keys");
  await keys.send(message("note_on", { note: 60, velocity: 100 }));
  assert.deepEqual(
    await synth.receive(),
    message("note_on", { note: 60, velocity: 100 }),
  );
  await synth.send(message("pitchwheel", { pitch: -8192 }));
  assert.deepEqual(
    await keys.receive(),
    message("pitchwheel", { pitch: -8192 }),
  );
  const rtt = await session.ping(AbortSignal.timeout(2000));
  assert.ok(rtt >= 0 && rtt < 2000, `rtt ${rtt}`);
});
