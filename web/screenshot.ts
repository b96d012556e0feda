// Copyright 2026 the midisock authors. MIT license.
// Takes the screenshots of the page that docs/browser.md shows, docs/web.png
// (a desktop window) and docs/web-phone.png (a phone: 390 px wide, touch), in
// Debian's Chromium: a bus with a page on it, a TCP client playing into it,
// and a key held, which the page's synth sounds.
//
//   deno run --allow-net=127.0.0.1 --allow-read --allow-write=/tmp,docs \
//     --allow-env --allow-run=/usr/bin/chromium \
//     --allow-sys=homedir,osRelease web/screenshot.ts

import { connect, message, PortServer, WebGateway } from "../mod.ts";
import {
  Browser,
  PHONE,
  waitForLog,
  waitForStatus,
} from "../tests/_browser.ts";

const docs = new URL("../docs/", import.meta.url);
await Deno.mkdir(docs, { recursive: true });

await using server = new PortServer("127.0.0.1", 0, { relay: true });
await using web = new WebGateway(server, { hostname: "127.0.0.1" });
await using keys = await connect("127.0.0.1", server.port, {
  hello: { name: "keys" },
});

for (
  const [file, device] of [
    ["web.png", { viewport: { width: 1100, height: 900 } }],
    // At one device pixel a CSS pixel, as the desktop picture.
    ["web-phone.png", { ...PHONE, deviceScaleFactor: 1 }],
  ] as const
) {
  await using browser = await Browser.launch(device);
  const page = await browser.page(web.url);
  await waitForStatus(page, "connected");
  for (const [note, velocity] of [[48, 90], [52, 80], [55, 85]]) {
    await keys.send(message("note_on", { note, velocity }));
  }
  await keys.send(message("control_change", { control: 64, value: 127 }));
  await keys.send(message("clock"));
  await keys.send(message("note_off", { note: 52 }));
  await keys.send(message("note_on", { note: 64, velocity: 70 }));
  await waitForLog(page, "note_on channel=0 note=64 velocity=70 time=0");
  await page.locator('[data-note="67"]').click();
  await page.keyboard.down("k"); // C5, held while the picture is taken
  await waitForLog(page, "note_on channel=0 note=72 velocity=100 time=0");
  // The whole page, in a window as tall as it: a full-page screenshot
  // would take a phone for a desktop while it is taken.
  await page.setViewportSize({
    width: page.viewportSize()!.width,
    height: await page.evaluate<number>(
      "document.documentElement.scrollHeight",
    ),
  });
  await page.screenshot({ path: new URL(file, docs).pathname });
  await page.keyboard.up("k");
  console.log(`wrote docs/${file}`);
}
