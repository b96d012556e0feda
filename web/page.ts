// Copyright 2026 the midisock authors. MIT license.
// The browser page that the web gateway serves. It is bundled, with the
// parts of the codec that it uses (src/), into src/_web_assets.ts by
// web/build.ts: the page speaks the bus's wire protocol with the same code
// as the library, and needs nothing from the network but its own server.

/// <reference lib="dom" />

import { encodeHello, parseLine } from "../src/transport/hello.ts";
import { exponentialBackoff } from "../src/client/backoff.ts";
import { encode } from "../src/midi/encode.ts";
import { type Message, message } from "../src/midi/message.ts";
import { NoteTracker } from "../src/midi/note_tracker.ts";
import { MidiParser } from "../src/midi/parser.ts";
import { formatMessage } from "../src/midi/text.ts";
import { Synth } from "./synth.ts";

/** Lines the log keeps; older ones go. */
const LOG_LINES = 200;
/**
 * White keys on screen, from a C to a C or a G: two octaves and a C, an
 * octave and a half, or an octave and a C, as many as the width allows.
 */
const WHITES = [15, 12, 8];
/** The narrowest a white key is made, where the screen allows: a fingertip. */
const WHITE_KEY_PX = 40;
/** WebSocket close code of a client that the server refused. */
const REFUSED = 4000;

const $ = <T extends HTMLElement>(id: string) =>
  document.getElementById(id) as T;

const statusEl = $<HTMLSpanElement>("status");
const whoEl = $<HTMLSpanElement>("who");
const keyboardEl = $<HTMLDivElement>("keyboard");
const octaveEl = $<HTMLSpanElement>("octave");
const velocityEl = $<HTMLInputElement>("velocity");
const velocityValueEl = $<HTMLOutputElement>("velocity-value");
const channelEl = $<HTMLSelectElement>("channel");
const channelMidoEl = $<HTMLOutputElement>("channel-mido");
const volumeEl = $<HTMLInputElement>("volume");
const muteEl = $<HTMLButtonElement>("mute");
const playBusEl = $<HTMLInputElement>("play-bus");
const soundStatusEl = $<HTMLParagraphElement>("sound-status");
const logEl = $<HTMLDivElement>("log");
const logCountsEl = $<HTMLSpanElement>("log-counts");
const hideClockEl = $<HTMLInputElement>("hide-clock");
const hideSensingEl = $<HTMLInputElement>("hide-sensing");
const tokenFormEl = $<HTMLElement>("token-form");
const tokenEntryEl = $<HTMLFormElement>("token-entry");
const tokenEl = $<HTMLInputElement>("token");
const tokenErrorEl = $<HTMLSpanElement>("token-error");
const midiEnableEl = $<HTMLButtonElement>("midi-enable");
const midiInEl = $<HTMLSelectElement>("midi-in");
const midiOutEl = $<HTMLSelectElement>("midi-out");
const midiStatusEl = $<HTMLParagraphElement>("midi-status");

// ---- Who this page is on the bus -------------------------------------

const name = sessionStorage.getItem("midisock.name") ??
  `browser-${crypto.getRandomValues(new Uint16Array(1))[0].toString(16)}`;
sessionStorage.setItem("midisock.name", name);
whoEl.textContent = `as ${name}`;
let token = sessionStorage.getItem("midisock.token") ?? undefined;

// ---- The log ----------------------------------------------------------

let shown = 0;
let hidden = 0;

function updateCounts(): void {
  logCountsEl.textContent = `${shown} shown, ${hidden} hidden by filters` +
    (shown > LOG_LINES ? `, last ${LOG_LINES} kept` : "");
}

/** Who sent a message, for the log: a name, and a kind for its style. */
interface Sender {
  name: string;
  kind: "you" | "server" | "client";
}

const YOU: Sender = { name: "you", kind: "you" };
const SERVER: Sender = { name: "server", kind: "server" };

/** Adds one line to the log: the sender, then mido's text of the message. */
function log(msg: Message, from: Sender): void {
  if (
    (msg.type === "clock" && hideClockEl.checked) ||
    (msg.type === "active_sensing" && hideSensingEl.checked)
  ) {
    hidden++;
    updateCounts();
    return;
  }
  shown++;
  const line = document.createElement("div");
  const who = document.createElement("span");
  // Styled by kind, not by name: a client may call itself anything.
  who.className = `from ${from.kind}`;
  who.textContent = from.name;
  who.title = from.kind === "you"
    ? "this page"
    : from.kind === "server"
    ? "the server"
    : "a client of the bus, by the name it gave";
  line.append(who, " ", formatMessage(msg));
  // mido counts channels from 0, musicians from 1.
  if ("channel" in msg) line.title = `channel ${msg.channel + 1} of 16`;
  const atEnd = logEl.scrollTop + logEl.clientHeight >= logEl.scrollHeight - 4;
  logEl.append(line);
  while (logEl.childElementCount > LOG_LINES) logEl.firstElementChild!.remove();
  if (atEnd) logEl.scrollTop = logEl.scrollHeight;
  updateCounts();
}

$<HTMLButtonElement>("clear-log").addEventListener("click", () => {
  logEl.replaceChildren();
  shown = 0;
  hidden = 0;
  updateCounts();
});
updateCounts();

// ---- The connection ---------------------------------------------------

let socket: WebSocket | undefined;
let attempt = 0;
let retry: ReturnType<typeof setTimeout> | undefined;
const backoff = exponentialBackoff({
  minInterval: 250,
  maxInterval: 5000,
  jitter: 0.2,
});
// What the bus has left sounding on this page's MIDI output: released if
// the connection goes, so that no note sticks.
const fromBus = new NoteTracker();

function setStatus(text: string, kind: string): void {
  statusEl.textContent = text;
  statusEl.className = kind;
}

function wsURL(): string {
  // Asking to be told who sent each message.
  const url = new URL("/ws?senders=1", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

function connect(): void {
  retry = undefined;
  setStatus(attempt === 0 ? "connecting" : "reconnecting", "connecting");
  const ws = new WebSocket(wsURL());
  ws.binaryType = "arraybuffer";
  const parser = new MidiParser();
  // Who sent the messages that come next: the server names the sender in
  // a text frame before each run of one sender's messages (`MIDISOCK/1
  // from=NAME`; with no name, the server itself, which no client can be).
  let sender: Sender = { name: "bus", kind: "client" };
  socket = ws;
  ws.addEventListener("open", () => {
    // The hello line is the first frame: the page's name, and the token.
    ws.send(encodeHello({ name, token }));
    attempt = 0;
    setStatus("connected", "connected");
  });
  ws.addEventListener("message", (event) => {
    if (typeof event.data === "string") {
      const fields = parseLine(event.data);
      sender = typeof fields === "string"
        ? { name: "?", kind: "client" }
        : fields.from === undefined
        ? SERVER
        : { name: fields.from, kind: "client" };
      return;
    }
    if (!(event.data instanceof ArrayBuffer)) return;
    for (const msg of parser.feed(new Uint8Array(event.data))) {
      fromBus.track(msg);
      showHeard(msg);
      log(msg, sender);
      playOut(msg);
      if (playBusEl.checked) synth.play(msg, player(sender));
    }
  });
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return;
    socket = undefined;
    releaseAll();
    if (event.code === REFUSED) {
      const why = refusal(event.reason);
      setStatus(why, "refused");
      if (/token/.test(event.reason)) {
        askForToken(
          event.reason === "wrong token" ? "Refused: wrong token" : "",
        );
        return; // until a token is given
      }
    } else {
      setStatus("disconnected", "disconnected");
    }
    attempt++;
    const wait = backoff(attempt);
    statusEl.title = `reconnecting in ${Math.round(wait)} ms`;
    retry = setTimeout(connect, wait);
  });
}

/**
 * What a server's reason for refusing the page means, in a musician's
 * words: the reasons are written for a server's log.
 */
function refusal(reason: string): string {
  if (/^no token/.test(reason)) return "needs a token";
  if (reason === "wrong token") return "refused: wrong token";
  if (reason === "not on the allow-list") {
    return "refused: this bus does not let your address in";
  }
  if (/^over maxClients/.test(reason)) return "refused: the bus is full";
  if (/^no hello line within/.test(reason)) {
    return "refused: the server gave up waiting for this page";
  }
  // The page's greeting is well formed: a server that says otherwise is
  // not one this page knows.
  if (/hello/.test(reason)) {
    return "refused: the server did not understand this page";
  }
  return `refused: ${reason}`;
}

function askForToken(error: string): void {
  tokenFormEl.hidden = false;
  tokenErrorEl.textContent = error;
  tokenEl.focus();
}

tokenEntryEl.addEventListener("submit", (event) => {
  event.preventDefault();
  try {
    encodeHello({ name, token: tokenEl.value });
  } catch {
    tokenErrorEl.textContent =
      "This token cannot be sent: it is too long, or has a control character.";
    return;
  }
  token = tokenEl.value;
  sessionStorage.setItem("midisock.token", token);
  tokenFormEl.hidden = true;
  tokenErrorEl.textContent = "";
  if (retry !== undefined) clearTimeout(retry);
  if (socket) socket.close();
  else connect();
});

/**
 * Sends a message to the bus (if connected), logs it, and plays it out and
 * on the synth. The server never sends a client's message back to it, so
 * it sounds here once.
 */
function play(msg: Message): void {
  const bytes = encode(msg);
  if (socket?.readyState === WebSocket.OPEN) socket.send(bytes);
  log(msg, YOU);
  playOut(msg, bytes);
  synth.play(msg, player(YOU));
}

// ---- The keyboard -----------------------------------------------------

let base = 60; // the lowest key: C4
let whites = WHITES[0]; // white keys on screen
// Pointer or key code -> the note it holds, and on which channel: its
// note_off goes there, whatever the channel control says by then.
const held = new Map<string, { note: number; channel: number }>();

/** The notes that the page's keys hold. */
function heldNotes(): number[] {
  return [...held.values()].map(({ note }) => note);
}

function noteName(note: number): string {
  const names = [
    "C",
    "C#",
    "D",
    "D#",
    "E",
    "F",
    "F#",
    "G",
    "G#",
    "A",
    "A#",
    "B",
  ];
  return `${names[note % 12]}${Math.floor(note / 12) - 1}`;
}

function isBlack(note: number): boolean {
  return [1, 3, 6, 8, 10].includes(note % 12);
}

/** Keys on screen: from the lowest, a C, up to the last white key. */
function keyCount(): number {
  let count = 0;
  for (let white = 0; white < whites; count++) {
    if (!isBlack(base + count)) white++;
  }
  return count;
}

/**
 * The most white keys (of WHITES) that fit the keyboard's width at
 * WHITE_KEY_PX or wider, and never fewer than an octave's: a phone shows
 * fewer, wider keys, and the octave buttons reach the others.
 */
function whitesThatFit(): number {
  const fit = Math.floor(keyboardEl.clientWidth / WHITE_KEY_PX);
  return WHITES.find((count) => count <= fit) ?? WHITES[WHITES.length - 1];
}

function drawKeyboard(): void {
  keyboardEl.replaceChildren();
  let white = 0;
  const keys = keyCount();
  for (let i = 0; i < keys; i++) {
    const note = base + i;
    if (note > 127) break;
    const key = document.createElement("div");
    key.dataset.note = String(note);
    key.title = noteName(note);
    key.setAttribute("role", "button");
    key.setAttribute("aria-label", noteName(note));
    if (isBlack(note)) {
      key.className = "key black";
      const width = 100 / whites;
      key.style.left = `${white * width - width * 0.3}%`;
      key.style.width = `${width * 0.6}%`;
    } else {
      key.className = "key";
      key.textContent = note % 12 === 0 ? noteName(note) : "";
      white++;
    }
    keyboardEl.append(key);
  }
  octaveEl.textContent = noteName(base);
  for (const note of heldNotes()) keyOf(note)?.classList.add("down");
}

function keyOf(note: number): HTMLElement | null {
  return keyboardEl.querySelector(`[data-note="${note}"]`);
}

function channel(): number {
  return Number(channelEl.value);
}

function noteOn(source: string, note: number): void {
  if (held.has(source) || note < 0 || note > 127) return;
  held.set(source, { note, channel: channel() });
  keyOf(note)?.classList.add("down");
  play(message("note_on", {
    channel: channel(),
    note,
    velocity: Number(velocityEl.value),
  }));
}

function noteOff(source: string): void {
  const key = held.get(source);
  if (key === undefined) return;
  held.delete(source);
  const { note, channel } = key;
  if (!heldNotes().includes(note)) keyOf(note)?.classList.remove("down");
  play(message("note_off", { channel, note }));
}

/** Lets go of every key that this page holds, and of what the bus held. */
function releaseAll(): void {
  for (const source of [...held.keys()]) noteOff(source);
  for (const msg of fromBus.release()) playOut(msg);
  synth.release((from) => from !== player(YOU));
  for (const key of keyboardEl.querySelectorAll(".heard")) {
    key.classList.remove("heard");
  }
}

function showHeard(msg: Message): void {
  if (msg.type !== "note_on" && msg.type !== "note_off") return;
  const key = keyOf(msg.note);
  if (!key) return;
  key.classList.toggle("heard", msg.type === "note_on" && msg.velocity > 0);
}

function shiftOctave(by: number): void {
  const next = base + 12 * by;
  if (next < 0 || next + keyCount() - 1 > 127 + 12) return;
  base = next;
  drawKeyboard();
}

keyboardEl.addEventListener("pointerdown", (event) => {
  const key = (event.target as HTMLElement).closest<HTMLElement>("[data-note]");
  if (!key) return;
  event.preventDefault();
  keyboardEl.setPointerCapture?.(event.pointerId);
  noteOn(`pointer${event.pointerId}`, Number(key.dataset.note));
});
// A finger or a mouse that slides to another key plays that key.
keyboardEl.addEventListener("pointermove", (event) => {
  const source = `pointer${event.pointerId}`;
  if (!held.has(source)) return;
  const under = document.elementFromPoint(event.clientX, event.clientY)
    ?.closest<HTMLElement>("[data-note]");
  const note = under ? Number(under.dataset.note) : undefined;
  if (note === held.get(source)?.note) return;
  noteOff(source);
  if (note !== undefined) noteOn(source, note);
});
for (const type of ["pointerup", "pointercancel", "lostpointercapture"]) {
  keyboardEl.addEventListener(
    type,
    (event) => noteOff(`pointer${(event as PointerEvent).pointerId}`),
  );
}

// The usual row: A W S E D F T G Y H U J K O L P ; from the lowest C.
const COMPUTER_KEYS = [
  "KeyA",
  "KeyW",
  "KeyS",
  "KeyE",
  "KeyD",
  "KeyF",
  "KeyT",
  "KeyG",
  "KeyY",
  "KeyH",
  "KeyU",
  "KeyJ",
  "KeyK",
  "KeyO",
  "KeyL",
  "KeyP",
  "Semicolon",
];

function typing(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement;
  return event.ctrlKey || event.metaKey || event.altKey ||
    target instanceof HTMLInputElement && target.type !== "range" &&
      target.type !== "checkbox";
}

addEventListener("keydown", (event) => {
  if (event.repeat || typing(event)) return;
  if (event.code === "KeyZ") return shiftOctave(-1);
  if (event.code === "KeyX") return shiftOctave(1);
  const i = COMPUTER_KEYS.indexOf(event.code);
  if (i < 0) return;
  event.preventDefault();
  noteOn(event.code, base + i);
});
addEventListener("keyup", (event) => noteOff(event.code));
addEventListener("blur", () => {
  for (const source of [...held.keys()]) noteOff(source);
});

$<HTMLButtonElement>("octave-down").addEventListener(
  "click",
  () => shiftOctave(-1),
);
$<HTMLButtonElement>("octave-up").addEventListener(
  "click",
  () => shiftOctave(1),
);
velocityEl.addEventListener("input", () => {
  velocityValueEl.textContent = velocityEl.value;
});
// Channels as musicians count them, 1 to 16; each option's value, and the
// number beside the control, is mido's, 0 to 15, as the log shows it.
for (let ch = 0; ch < 16; ch++) {
  channelEl.add(new Option(String(ch + 1), String(ch)));
}
channelEl.addEventListener("change", () => {
  for (const source of [...held.keys()]) noteOff(source);
  channelMidoEl.textContent = `channel=${channelEl.value}`;
});
channelMidoEl.textContent = `channel=${channelEl.value}`;

// ---- Web MIDI ---------------------------------------------------------

let midi: MIDIAccess | undefined;
let input: MIDIInput | undefined;
const fromInput = new MidiParser();

/** Plays a message on the chosen output, if any: its bytes, if encoded. */
function playOut(msg: Message, bytes?: Uint8Array): void {
  const id = midiOutEl.value;
  if (!midi || !id) return;
  try {
    midi.outputs.get(id)?.send(bytes ?? encode(msg));
  } catch (error) {
    midiStatusEl.textContent = `Cannot play on the output: ${
      (error as Error).message
    }`;
  }
}

function fillPorts(): void {
  if (!midi) return;
  for (
    const [select, ports] of [
      [midiInEl, midi.inputs],
      [midiOutEl, midi.outputs],
    ] as const
  ) {
    const chosen = select.value;
    select.replaceChildren(new Option("none", ""));
    for (const port of ports.values()) {
      select.add(new Option(port.name ?? port.id, port.id));
    }
    select.value = [...ports.keys()].includes(chosen) ? chosen : "";
    select.disabled = false;
  }
  midiStatusEl.textContent = midi.inputs.size + midi.outputs.size === 0
    ? "Web MIDI is on, but there are no MIDI devices."
    : `Web MIDI is on: ${midi.inputs.size} inputs, ${midi.outputs.size} outputs.`;
}

midiEnableEl.addEventListener("click", async () => {
  if (!("requestMIDIAccess" in navigator)) {
    midiStatusEl.textContent =
      "This browser has no Web MIDI. The keyboard and the log still work.";
    return;
  }
  if (!isSecureContext) {
    midiStatusEl.textContent =
      "Web MIDI needs a secure page: open it over HTTPS, or on localhost.";
    return;
  }
  try {
    midi = await navigator.requestMIDIAccess({ sysex: false });
  } catch (error) {
    const why = ((error as Error).message || (error as Error).name)
      .replace(/\.+$/, "");
    midiStatusEl.textContent =
      `Web MIDI was denied: ${why}. The keyboard and the log still work.`;
    return;
  }
  midi.addEventListener("statechange", fillPorts);
  fillPorts();
});

midiInEl.addEventListener("change", () => {
  if (input) input.onmidimessage = null;
  input = midi?.inputs.get(midiInEl.value);
  if (!input) return;
  input.onmidimessage = (event) => {
    if (!event.data) return;
    for (const msg of fromInput.feed(event.data)) play(msg);
  };
});
midiOutEl.addEventListener("change", () => {
  for (const msg of fromBus.snapshot()) playOut(msg);
});

// ---- Sound --------------------------------------------------------------

/** Who plays a message, for the synth: a note_off ends that player's note. */
function player(from: Sender): string {
  return `${from.kind}:${from.name}`;
}

const synth = new Synth({ onstatechange: showSound });

function showSound(): void {
  soundStatusEl.textContent = typeof AudioContext === "undefined"
    ? "This browser cannot make sound: play the bus on a MIDI device."
    : synth.state === undefined
    ? "Sound starts when you first tap, click or press a key."
    : synth.state === "running"
    ? synth.muted
      ? "Muted."
      : playBusEl.checked
      ? "Sound is on: your keys and the bus play here."
      : "Sound is on: your keys play here."
    : "Sound is paused: tap or click anywhere to turn it on.";
}

// Browsers let a page start sound in a user gesture: each one starts (or
// resumes) it. A touch counts once the finger lifts.
for (const type of ["pointerdown", "pointerup", "keydown", "touchend"]) {
  addEventListener(type, () => synth.start(), { capture: true });
}
volumeEl.addEventListener("input", () => {
  synth.volume = Number(volumeEl.value) / 100;
});
synth.volume = Number(volumeEl.value) / 100;
muteEl.addEventListener("click", () => {
  synth.muted = !synth.muted;
  muteEl.setAttribute("aria-pressed", String(synth.muted));
  muteEl.textContent = synth.muted ? "Unmute" : "Mute";
  showSound();
});
playBusEl.addEventListener("change", () => {
  if (!playBusEl.checked) synth.release((from) => from !== player(YOU));
  showSound();
});
showSound();

// The keyboard fits the screen: fewer, wider keys on a phone.
new ResizeObserver(() => {
  const fit = whitesThatFit();
  if (fit === whites) return;
  whites = fit;
  if (base + keyCount() - 1 > 127 + 12) base -= 12;
  drawKeyboard();
}).observe(keyboardEl);

whites = whitesThatFit();
drawKeyboard();
connect();
