// Copyright 2026 the midisock authors. MIT license.
// The browser page in a real browser: Debian's Chromium, driven by
// playwright-core (tests/_browser.ts), against a PortServer with a
// WebGateway on loopback. A Python mido peer (tests/fixtures/py_net_peer.py)
// stands for a TCP client where the issue asks for mido.

import assert from "node:assert/strict";
import {
  connect,
  message,
  PortServer,
  type RejectEvent,
  WebGateway,
} from "../mod.ts";
import type { Page } from "playwright-core";
import {
  audioLevel,
  Browser,
  listenToAudio,
  oscillatorsStarted,
  PHONE,
  SILENCE,
  SOUND,
  waitForLog,
  waitForSilence,
  waitForSound,
  waitForStatus,
} from "./_browser.ts";
import { Child } from "./_child.ts";
import { delay, PYTHON, readExactly, waitFor } from "./_net.ts";
import { BROWSER, MIDO, needs } from "./_peers.ts";

/** Deno.test, for the tests that need Chromium and Python mido. */
const BROWSER_AND_MIDO = needs(BROWSER, MIDO);

const PEER = new URL("./fixtures/py_net_peer.py", import.meta.url).pathname;

/** A bus with relay, and its gateway, on loopback. */
function bus(
  options: ConstructorParameters<typeof PortServer>[2] = {},
  webPort = 0,
  tcpPort = 0,
) {
  const server = new PortServer("127.0.0.1", tcpPort, {
    relay: true,
    ...options,
  });
  const web = new WebGateway(server, { hostname: "127.0.0.1", port: webPort });
  return {
    server,
    web,
    async [Symbol.asyncDispose]() {
      await Promise.all([server.close(), web.close()]);
    },
  };
}

BROWSER_AND_MIDO.test("A key clicked in Chromium reaches a mido client on the TCP port as exactly its note_on and note_off", async () => {
  await using b = bus();
  await using peer = new Child(PYTHON, [
    PEER,
    "receive",
    "127.0.0.1",
    String(b.server.port),
    "3",
  ]);
  await peer.waitForMatch("stdout", /^connected$/);
  await using browser = await Browser.launch();
  const page = await browser.page(b.web.url);
  await waitForStatus(page, "connected");
  await waitFor(() => b.server.ports.length === 2, "the page and mido");
  await page.locator('[data-note="60"]').click();
  // Both went through the bus before it closes, which ends mido's stream.
  await waitFor(() => b.server.stats.relayed === 2, "two messages relayed");
  await b.server.close();
  const result = await peer.result();
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout.trimEnd().split("\n"), [
    "connected",
    "note_on channel=0 note=60 velocity=100 time=0",
    "note_off channel=0 note=60 velocity=64 time=0",
  ]);
});

BROWSER.test("A message that a TCP client sends appears in the page's #log after its sender's name, and clock is hidden and counted", async () => {
  await using b = bus();
  await using browser = await Browser.launch();
  const page = await browser.page(b.web.url);
  await waitForStatus(page, "connected");
  await using tcp = await connect("127.0.0.1", b.server.port, {
    hello: { name: "keys" },
  });
  await waitFor(() => b.server.ports.length === 2, "two clients");
  await tcp.send(message("clock"));
  await tcp.send(message("note_on", { channel: 2, note: 64, velocity: 90 }));
  await tcp.send(message("sysex", { data: new Uint8Array([1, 2, 3]) }));
  await waitForLog(page, "sysex data=(1,2,3) time=0");
  assert.deepEqual(await page.locator("#log > *").allTextContents(), [
    "keys note_on channel=2 note=64 velocity=90 time=0",
    "keys sysex data=(1,2,3) time=0",
  ]);
  assert.match(
    await page.locator("#log-counts").textContent() ?? "",
    /^2 shown, 1 hidden by filters$/,
  );
});

BROWSER.test("The page names the server for its own messages, and a client that leaves for the notes the server releases for it, styled by who they are, not by name", async () => {
  await using b = bus();
  await using browser = await Browser.launch();
  const page = await browser.page(b.web.url);
  await waitForStatus(page, "connected");
  // A client that calls itself "you" is still a client on the page.
  const keys = await connect("127.0.0.1", b.server.port, {
    hello: { name: "you" },
  });
  await waitFor(() => b.server.ports.length === 2, "two clients");
  await keys.send(message("note_on", { note: 60 }));
  await waitForLog(page, "note_on channel=0 note=60 velocity=64 time=0");
  await b.server.send(message("program_change", { program: 3 }));
  await keys.close(); // with the note still on
  await waitForLog(page, "note_off channel=0 note=60 velocity=64 time=0");
  assert.deepEqual(await page.locator("#log > *").allTextContents(), [
    "you note_on channel=0 note=60 velocity=64 time=0",
    "server program_change channel=0 program=3 time=0",
    "you note_off channel=0 note=60 velocity=64 time=0",
  ]);
  assert.deepEqual(
    await page.locator("#log .from").evaluateAll((spans) =>
      spans.map((span) => span.className)
    ),
    ["from client", "from server", "from client"],
  );
  // What the page itself plays is "you", styled as the page's own.
  await page.locator('[data-note="62"]').click();
  await waitForLog(page, "note_off channel=0 note=62 velocity=64 time=0");
  assert.deepEqual(
    (await page.locator("#log .from").evaluateAll((spans) =>
      spans.map((span) => span.className)
    )).slice(3),
    ["from you", "from you"],
  );
});

BROWSER.test("Two pages hear each other through the bus, from a click and from a computer key", async () => {
  await using b = bus();
  await using browser = await Browser.launch();
  const left = await browser.page(b.web.url);
  const right = await browser.page(b.web.url);
  await waitForStatus(left, "connected");
  await waitForStatus(right, "connected");
  await waitFor(() => b.server.ports.length === 2, "two pages");
  await left.locator('[data-note="62"]').click();
  await waitForLog(right, "note_off channel=0 note=62 velocity=64 time=0");
  // The left page's name, which it chose and said in its hello line.
  const leftName = (await left.locator("#who").textContent())!.replace(
    /^as /,
    "",
  );
  assert.match(leftName, /^browser-[0-9a-f]+$/);
  // A (the lowest key, C4) on the right page, on channel 5.
  await right.locator("#channel").selectOption({ value: "4" });
  await right.bringToFront();
  await right.keyboard.down("a");
  await waitForLog(left, "note_on channel=4 note=60 velocity=100 time=0");
  await right.keyboard.up("a");
  await waitForLog(left, "note_off channel=4 note=60 velocity=64 time=0");
  assert.deepEqual(await right.locator("#log > *").allTextContents(), [
    `${leftName} note_on channel=0 note=62 velocity=100 time=0`,
    `${leftName} note_off channel=0 note=62 velocity=64 time=0`,
    "you note_on channel=4 note=60 velocity=100 time=0",
    "you note_off channel=4 note=60 velocity=64 time=0",
  ]);
});

BROWSER.test("When the server restarts, the page shows it is disconnected and then reconnects by itself", async () => {
  const first = bus();
  const { port: webPort } = first.web;
  const tcpPort = first.server.port;
  await using browser = await Browser.launch();
  const page = await browser.page(first.web.url);
  try {
    await waitForStatus(page, "connected");
  } finally {
    await first[Symbol.asyncDispose]();
  }
  await waitForStatus(page, "disconnected");
  await using again = bus({}, webPort, tcpPort);
  await waitForStatus(page, "connected");
  await waitFor(() => again.server.ports.length === 1, "the page back");
  await using tcp = await connect("127.0.0.1", tcpPort);
  await tcp.send(message("program_change", { program: 5 }));
  await waitForLog(page, "program_change channel=0 program=5 time=0");
});

BROWSER.test("A page asks for the token, a wrong token is refused, and the right one lets it in", async () => {
  await using b = bus({ token: "s3cret" });
  const reasons: string[] = [];
  b.server.addEventListener("reject", (e) => reasons.push(e.reason));
  await using browser = await Browser.launch();
  const page = await browser.page(b.web.url);
  await waitForStatus(page, "needs a token");
  assert.equal(await page.locator("#token-form").isVisible(), true);
  await page.locator("#token").fill("guess");
  await page.locator("#token-submit").click();
  await waitForStatus(page, "refused: wrong token");
  assert.equal(await page.locator("#token-form").isVisible(), true);
  assert.equal(
    await page.locator("#token-error").textContent(),
    "Refused: wrong token",
  );
  assert.equal(b.server.ports.length, 0);
  await page.locator("#token").fill("s3cret");
  await page.locator("#token-submit").click();
  await waitForStatus(page, "connected");
  await waitFor(() => b.server.ports.length === 1, "the page let in");
  assert.match(b.server.ports[0].name, /^browser-[0-9a-f]+$/);
  assert.deepEqual(reasons, ["no token in the hello line", "wrong token"]);
  assert.equal(b.server.stats.rejected, 2);
});

BROWSER.test("A WebSocket from a page of another origin is refused, unless origins allows it", async () => {
  await using b = bus();
  const rejected: RejectEvent[] = [];
  b.web.addEventListener("reject", (event) => rejected.push(event));
  // A page of another origin: another port on the same host.
  await using other = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () =>
      new Response("<!doctype html><title>other</title>", {
        headers: { "content-type": "text/html" },
      }),
  );
  const otherOrigin = `http://127.0.0.1:${other.addr.port}`;
  await using allowing = new WebGateway(b.server, {
    hostname: "127.0.0.1",
    origins: [otherOrigin],
  });
  await using browser = await Browser.launch();
  const page = await browser.page(`${otherOrigin}/`);
  const open = (url: string) =>
    page.evaluate((url) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => {
          resolve("open");
          ws.close();
        };
        ws.onclose = (event) => resolve(`closed ${event.code}`);
      }), url);
  assert.equal(await open(new URL("/ws", b.web.url).href), "closed 1006");
  assert.equal(b.web.stats.rejected, 1);
  assert.equal(rejected[0].reason, `origin ${otherOrigin} is not allowed`);
  assert.equal(await open(new URL("/ws", allowing.url).href), "open");
  assert.equal(allowing.stats.rejected, 0);
});

BROWSER.test("When Web MIDI is denied, the page says so plainly, and its keyboard still plays", async () => {
  await using b = bus();
  await using browser = await Browser.launch();
  const page = await browser.page(b.web.url);
  await waitForStatus(page, "connected");
  assert.equal(await page.locator("#midi-in").isDisabled(), true);
  await page.locator("#midi-enable").click();
  // Headless Chromium refuses Web MIDI (there is no one to ask).
  await page.locator("#midi-status").filter({
    hasText:
      /^Web MIDI was denied: [^.]+\. The keyboard and the log still work\.$/,
  }).waitFor();
  assert.equal(await page.locator("#midi-in").isDisabled(), true);
  await page.locator('[data-note="64"]').click();
  await waitForLog(page, "note_off channel=0 note=64 velocity=64 time=0");
});

BROWSER.test("A page that goes away with a key held has its note released by the server, for the others on the bus", async () => {
  await using b = bus();
  await using tcp = await connect("127.0.0.1", b.server.port);
  await using browser = await Browser.launch();
  const page = await browser.page(b.web.url);
  await waitForStatus(page, "connected");
  await waitFor(() => b.server.ports.length === 2, "the page and the client");
  await page.keyboard.down("d"); // E4, held
  assert.deepEqual(
    await tcp.receive(),
    message("note_on", { note: 64, velocity: 100 }),
  );
  await page.close(); // the tab goes, the key still down
  assert.deepEqual(await tcp.receive(), message("note_off", { note: 64 }));
  // The server sent it, not the page: the page sent one message.
  assert.equal(b.server.stats.releasedNotes, 1);
  assert.equal(b.server.stats.received, 1);
  assert.equal(tcp.poll(), undefined);
});

BROWSER.test("A page that joins a bus with snapshot hears the bus's controller state first, from the server", async () => {
  await using b = bus({ snapshot: true });
  await using tcp = await connect("127.0.0.1", b.server.port);
  await waitFor(() => b.server.ports.length === 1, "the client");
  await tcp.send(message("program_change", { channel: 1, program: 12 }));
  await tcp.send(message("control_change", { control: 7, value: 90 }));
  await waitFor(() => b.server.stats.relayed === 2, "two relayed");
  await using browser = await Browser.launch();
  const page = await browser.page(b.web.url);
  await waitForStatus(page, "connected");
  await waitForLog(page, "program_change channel=1 program=12 time=0");
  // The snapshot is the server's: the page names the server as its sender.
  assert.deepEqual(await page.locator("#log > *").allTextContents(), [
    "server control_change channel=0 control=7 value=90 time=0",
    "server program_change channel=1 program=12 time=0",
  ]);
});

BROWSER.test("The page's octave shift, velocity and channel set what a key plays", async () => {
  await using b = bus();
  await using tcp = await connect("127.0.0.1", b.server.port);
  await using browser = await Browser.launch();
  const page = await browser.page(b.web.url);
  await waitForStatus(page, "connected");
  await waitFor(() => b.server.ports.length === 2, "the page and the client");
  assert.equal(await page.locator("[data-note]").count(), 25);
  await page.locator("#octave-up").click();
  assert.equal(await page.locator("#octave").textContent(), "C5");
  assert.equal(await page.locator('[data-note="96"]').count(), 1);
  await page.locator("#velocity").fill("80");
  await page.locator("#channel").selectOption({ value: "9" });
  await page.locator('[data-note="84"]').click();
  assert.deepEqual(
    await tcp.receive(),
    message("note_on", {
      channel: 9,
      note: 84,
      velocity: 80,
    }),
  );
  assert.deepEqual(
    await tcp.receive(),
    message("note_off", { channel: 9, note: 84 }),
  );
  await page.keyboard.press("z"); // an octave down, from the computer keys
  assert.equal(await page.locator("#octave").textContent(), "C4");
});

/** A page whose sound the test can measure, on the bus and connected. */
async function listeningPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.page();
  await listenToAudio(page);
  await page.goto(url);
  await waitForStatus(page, "connected");
  return page;
}

BROWSER.test("A key pressed on the page sounds in its own synth, through a running AudioContext, with no MIDI device chosen, as one voice", async () => {
  await using b = bus();
  await using tcp = await connect("127.0.0.1", b.server.port);
  await using browser = await Browser.launch();
  const page = await listeningPage(browser, b.web.url);
  await waitFor(() => b.server.ports.length === 2, "the page and the client");
  // Browsers start sound only after a gesture: nothing runs before it.
  assert.equal(await audioLevel(page), 0);
  await page.locator('[data-note="60"]').hover();
  await page.mouse.down(); // the gesture, and the key held
  await waitForSound(page);
  assert.equal(await page.locator("#midi-out").inputValue(), "");
  assert.deepEqual(
    await tcp.receive(),
    message("note_on", { note: 60, velocity: 100 }),
  );
  assert.equal(await oscillatorsStarted(page), 1);
  await page.mouse.up();
});

BROWSER.test("The page's sound falls silent when its key is let go: a mouse press, a short click and a computer key", async () => {
  await using b = bus();
  await using browser = await Browser.launch();
  const page = await listeningPage(browser, b.web.url);
  await page.locator('[data-note="64"]').hover();
  await page.mouse.down();
  await waitForSound(page);
  await page.mouse.up();
  await waitForSilence(page);
  await page.keyboard.down("g"); // G4, from the computer keys
  await waitForSound(page);
  await page.keyboard.up("g");
  await waitForSilence(page);
  await page.locator('[data-note="72"]').click(); // down and up at once
  await waitForLog(page, "note_off channel=0 note=72 velocity=64 time=0");
  await waitForSilence(page);
  assert.equal(await oscillatorsStarted(page), 3);
});

BROWSER.test("A note that another client plays on the bus sounds on the page, Mute silences it, and a note_on of velocity 0 ends it", async () => {
  await using b = bus();
  await using browser = await Browser.launch();
  const page = await listeningPage(browser, b.web.url);
  await page.locator("h1").click(); // a gesture, anywhere, starts the sound
  await using tcp = await connect("127.0.0.1", b.server.port, {
    hello: { name: "keys" },
  });
  await waitFor(() => b.server.ports.length === 2, "the page and the client");
  await tcp.send(message("note_on", { channel: 3, note: 67, velocity: 100 }));
  await waitForSound(page);
  assert.equal(
    await page.locator("#mute").getAttribute("aria-pressed"),
    "false",
  );
  await page.locator("#mute").click();
  assert.equal(
    await page.locator("#mute").getAttribute("aria-pressed"),
    "true",
  );
  await waitForSilence(page);
  await page.locator("#mute").click();
  await waitForSound(page); // the note is still held
  await tcp.send(message("note_on", { channel: 3, note: 67, velocity: 0 }));
  await waitForSilence(page);
  assert.equal(await oscillatorsStarted(page), 1);
});

BROWSER.test("A note's velocity sets how loud it sounds", async () => {
  await using b = bus();
  await using browser = await Browser.launch();
  const page = await listeningPage(browser, b.web.url);
  await page.locator("h1").click();
  await using tcp = await connect("127.0.0.1", b.server.port);
  await waitFor(() => b.server.ports.length === 2, "the page and the client");
  // A held note is at its sustain level (to within 1%) 500 ms after it
  // starts: its decay takes 300 ms.
  const sustained = async (velocity: number) => {
    await tcp.send(message("note_on", { note: 69, velocity }));
    await waitForLog(
      page,
      `note_on channel=0 note=69 velocity=${velocity} time=0`,
    );
    await delay(500);
    const level = await audioLevel(page);
    await tcp.send(message("note_off", { note: 69 }));
    await waitForSilence(page);
    return level;
  };
  const loud = await sustained(120);
  const soft = await sustained(30);
  assert.ok(soft > SILENCE, `soft ${soft}`);
  assert.ok(loud > 4 * soft, `loud ${loud}, soft ${soft}`);
});

BROWSER.test("A player who leaves with a note held and the sustain pedal down falls silent on the page when the server releases them", async () => {
  await using b = bus();
  await using browser = await Browser.launch();
  const page = await listeningPage(browser, b.web.url);
  await page.locator("h1").click();
  const tcp = await connect("127.0.0.1", b.server.port, {
    hello: { name: "keys" },
  });
  try {
    await waitFor(() => b.server.ports.length === 2, "the page and the client");
    await tcp.send(message("control_change", { control: 64, value: 127 }));
    await tcp.send(message("note_on", { note: 60, velocity: 90 }));
    await tcp.send(message("note_off", { note: 60 })); // held by the pedal
    await waitForLog(page, "note_off channel=0 note=60 velocity=64 time=0");
    // A released note is silent 0.5 s after its release: this one is not.
    await delay(700);
    assert.ok(await audioLevel(page) > SOUND, "the pedal holds the note");
    await tcp.send(message("note_on", { channel: 1, note: 64, velocity: 90 }));
    await waitForLog(page, "note_on channel=1 note=64 velocity=90 time=0");
  } finally {
    await tcp.close(); // the pedal down and a key held
  }
  await waitForLog(page, "note_off channel=1 note=64 velocity=64 time=0");
  await waitForLog(page, "control_change channel=0 control=64 value=0 time=0");
  await waitForSilence(page);
  assert.equal(await oscillatorsStarted(page), 2);
});

BROWSER.test("With Play the bus off, the bus's notes make no sound on the page, and the page's own keys still do", async () => {
  await using b = bus();
  await using browser = await Browser.launch();
  const page = await listeningPage(browser, b.web.url);
  await using tcp = await connect("127.0.0.1", b.server.port);
  await waitFor(() => b.server.ports.length === 2, "the page and the client");
  assert.equal(await page.locator("#play-bus").isChecked(), true);
  await page.locator("h1").click();
  await tcp.send(message("note_on", { note: 50, velocity: 100 }));
  await waitForSound(page);
  await page.locator("#play-bus").uncheck(); // the bus's note stops
  await waitForSilence(page);
  await tcp.send(message("note_on", { note: 52, velocity: 100 }));
  // The page plays a message when it logs it: no voice began for it.
  await waitForLog(page, "note_on channel=0 note=52 velocity=100 time=0");
  assert.equal(await oscillatorsStarted(page), 1);
  await page.locator('[data-note="60"]').hover();
  await page.mouse.down();
  await waitForSound(page);
  await page.mouse.up();
  assert.equal(await oscillatorsStarted(page), 2);
});

BROWSER.test("A note played on one page sounds once on it and once on another page, never a second time from the bus", async () => {
  await using b = bus();
  await using tcp = await connect("127.0.0.1", b.server.port);
  await using browser = await Browser.launch();
  const left = await listeningPage(browser, b.web.url);
  const right = await listeningPage(browser, b.web.url);
  await waitFor(() => b.server.ports.length === 3, "two pages and a client");
  await right.locator("h1").click();
  await left.locator('[data-note="62"]').hover();
  await left.mouse.down();
  await waitForLog(right, "note_on channel=0 note=62 velocity=100 time=0");
  await waitForSound(left);
  await waitForSound(right);
  // An echo of the left page's note would reach it before this, which the
  // client sends once the note has gone through the bus.
  await tcp.send(message("program_change", { program: 1 }));
  await waitForLog(left, "program_change channel=0 program=1 time=0");
  assert.equal(await oscillatorsStarted(left), 1);
  assert.equal(await oscillatorsStarted(right), 1);
  await left.mouse.up();
  await waitForSilence(left);
  await waitForSilence(right);
});

BROWSER.test("The channel control shows 1 to 16 with mido's number beside it, what it shows is what the wire and the log carry, and a key held when it changes is let go on its own channel", async () => {
  await using b = bus();
  using raw = await Deno.connect({
    hostname: "127.0.0.1",
    port: b.server.port,
  });
  await using browser = await Browser.launch();
  const page = await browser.page(b.web.url);
  await waitForStatus(page, "connected");
  await waitFor(() => b.server.ports.length === 2, "the page and the client");
  assert.deepEqual(
    await page.locator("#channel option").allTextContents(),
    Array.from({ length: 16 }, (_, i) => String(i + 1)),
  );
  assert.equal(await page.locator("#channel-mido").textContent(), "channel=0");
  await page.keyboard.down("a"); // C4 on channel 1, held
  await page.locator("#channel").selectOption({ label: "5" });
  // A new channel lets go of the keys held: on the channel they sounded on.
  assert.deepEqual(
    [...await readExactly(raw, 6)],
    [0x90, 60, 100, 0x80, 60, 64],
  );
  await page.keyboard.up("a");
  assert.equal(await page.locator("#channel-mido").textContent(), "channel=4");
  assert.equal(
    await page.locator("label:has(#channel) + *").textContent(),
    "(channel=4 in the log)",
  );
  await page.locator('[data-note="60"]').click();
  // Status bytes 0x94 and 0x84: note_on and note_off on channel 5 of 16.
  assert.deepEqual(
    [...await readExactly(raw, 6)],
    [0x94, 60, 100, 0x84, 60, 64],
  );
  await waitForLog(page, "note_off channel=4 note=60 velocity=64 time=0");
  assert.deepEqual(await page.locator("#log > *").allTextContents(), [
    "you note_on channel=0 note=60 velocity=100 time=0",
    "you note_off channel=0 note=60 velocity=64 time=0",
    "you note_on channel=4 note=60 velocity=100 time=0",
    "you note_off channel=4 note=60 velocity=64 time=0",
  ]);
  assert.deepEqual(
    await page.locator("#log > *").evaluateAll((lines) =>
      lines.map((line) => line.getAttribute("title"))
    ),
    [
      "channel 1 of 16",
      "channel 1 of 16",
      "channel 5 of 16",
      "channel 5 of 16",
    ],
  );
});

BROWSER.test("On a 390 px phone the white keys are at least 28 px wide and labelled, the page is no wider than the screen, and a tap plays", async () => {
  await using b = bus();
  await using tcp = await connect("127.0.0.1", b.server.port);
  await using browser = await Browser.launch(PHONE);
  const page = await browser.page(b.web.url);
  await waitForStatus(page, "connected");
  await waitFor(() => b.server.ports.length === 2, "the page and the client");
  const keys = await page.locator("[data-note]").evaluateAll((keys) =>
    keys.map((key) => ({
      note: Number(key.getAttribute("data-note")),
      width: key.getBoundingClientRect().width,
    }))
  );
  const whites = keys.filter(({ note }) =>
    ![1, 3, 6, 8, 10].includes(note % 12)
  );
  assert.ok(whites.length >= 8, `${whites.length} white keys`);
  for (const { note, width } of whites) {
    assert.ok(width >= 28, `the key of note ${note} is ${width} px wide`);
  }
  assert.ok(
    await page.evaluate<number>("document.documentElement.scrollWidth") <= 390,
  );
  const c4 = page.locator('[data-note="60"]');
  assert.equal(await c4.textContent(), "C4");
  const labelSize = await page.evaluate<string>(
    `getComputedStyle(document.querySelector('[data-note="60"]')).fontSize`,
  );
  assert.ok(parseFloat(labelSize) >= 10, `the label is ${labelSize}`);
  await page.locator('[data-note="64"]').tap();
  assert.deepEqual(
    await tcp.receive(),
    message("note_on", { note: 64, velocity: 100 }),
  );
  assert.deepEqual(await tcp.receive(), message("note_off", { note: 64 }));
  // The octave buttons reach the keys that the screen has no room for.
  await page.locator("#octave-up").tap();
  assert.equal(await page.locator("#octave").textContent(), "C5");
  assert.ok(
    await page.evaluate<number>("document.documentElement.scrollWidth") <= 390,
  );
});

BROWSER.test("No state of the page says 'hello line': it says in plain words that the bus needs a token, that it is wrong, or why else the server refused it", async () => {
  await using b = bus({ token: "s3cret" });
  const noJargon = async (page: Page) => {
    const html = await page.content(); // every element, hidden or not, and its attributes
    assert.doesNotMatch(html, /hello line/i);
    assert.doesNotMatch(
      await page.evaluate<string>("document.body.innerText"),
      /hello/i,
    );
  };
  const served = await fetch(b.web.url);
  assert.doesNotMatch(await served.text(), /hello line/i);
  await using browser = await Browser.launch();
  const page = await browser.page(b.web.url);
  await waitForStatus(page, "needs a token");
  assert.equal(
    await page.locator("#token-form h2").textContent(),
    "This bus needs a token",
  );
  assert.equal(await page.locator("#token").isVisible(), true);
  await noJargon(page);
  await page.locator("#token").fill("guess");
  await page.locator("#token-submit").click();
  await waitForStatus(page, "refused: wrong token");
  await noJargon(page);
  await page.locator("#token").fill("s3cret");
  await page.locator("#token-submit").click();
  await waitForStatus(page, "connected");
  await noJargon(page);
  // The server's other reasons, which a page that works never meets, from
  // a server that serves the page and refuses its WebSocket as a PortServer
  // does: code 4000, with the reason.
  const html = await (await fetch(b.web.url)).text();
  const js = await (await fetch(new URL("/midisock.js", b.web.url))).text();
  let reason = "";
  await using refusing = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/ws") {
        const { socket, response } = Deno.upgradeWebSocket(request);
        socket.onopen = () => socket.close(4000, reason);
        return response;
      }
      return pathname === "/midisock.js"
        ? new Response(js, { headers: { "content-type": "text/javascript" } })
        : new Response(html, { headers: { "content-type": "text/html" } });
    },
  );
  for (
    const [why, status] of [
      [
        "no hello line within 2000 ms",
        "refused: the server gave up waiting for this page",
      ],
      ["no hello line", "refused: the server did not understand this page"],
      [
        "bad hello line: expected MIDISOCK/1",
        "refused: the server did not understand this page",
      ],
      [
        "hello line over 512 bytes",
        "refused: the server did not understand this page",
      ],
      [
        "not on the allow-list",
        "refused: this bus does not let your address in",
      ],
      ["over maxClients (8)", "refused: the bus is full"],
    ]
  ) {
    reason = why;
    await page.goto(`http://127.0.0.1:${refusing.addr.port}/`);
    await waitForStatus(page, status);
    await noJargon(page);
  }
});
