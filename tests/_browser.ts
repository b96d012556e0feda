// Copyright 2026 the midisock authors. MIT license.
// Test helper: Debian's Chromium (/usr/bin/chromium, from apt), driven by
// npm playwright-core, pinned (see docs/dependencies.md). It never
// downloads a browser of its own: it launches that executable, headless,
// with a fresh profile in /tmp that is removed afterwards.

import type {
  BrowserContext,
  BrowserContextOptions,
  Page,
} from "playwright-core";

// playwright-core bundles the npm package is-wsl, which at import time asks
// whether /proc/sys/fs/binfmt_misc/WSLInterop exists; Deno lets a program
// read /proc/sys only with --allow-all. With this variable set, is-wsl
// defers its check to a function that playwright calls only to open a file
// in the desktop's default application, which these tests never do. So the
// test task needs no --allow-all: only --allow-sys=homedir,osRelease and
// --allow-run=/usr/bin/chromium beyond what the other tests have.
Deno.env.set("__IS_WSL_TEST__", "1");
const { chromium } = await import("playwright-core");

/** The browser the tests run: Debian's `chromium` package. */
export const CHROMIUM = "/usr/bin/chromium";

/** Chromium's flags: headless, and nothing that reaches the network. */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** How long a browser test waits for something on a page. */
export const PAGE_TIMEOUT_MS = 15_000;

/** A phone: 390 by 844 CSS pixels, touch, and the page's meta viewport obeyed. */
export const PHONE: BrowserContextOptions = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
};

/** A Chromium with a fresh profile; disposing of it closes it and removes the profile. */
export class Browser implements AsyncDisposable {
  readonly context: BrowserContext;
  readonly #profile: string;

  private constructor(context: BrowserContext, profile: string) {
    this.context = context;
    this.#profile = profile;
  }

  /**
   * Launches Chromium with a new `--user-data-dir` under /tmp, and the
   * tabs' `device` (such as {@linkcode PHONE}), if given.
   */
  static async launch(device: BrowserContextOptions = {}): Promise<Browser> {
    const profile = await Deno.makeTempDir({
      dir: "/tmp",
      prefix: "midisock-chromium-",
    });
    try {
      // launchPersistentContext gives Chromium the --user-data-dir.
      const context = await chromium.launchPersistentContext(profile, {
        ...device,
        executablePath: CHROMIUM,
        headless: true,
        args: [...CHROMIUM_FLAGS],
        timeout: PAGE_TIMEOUT_MS,
      });
      context.setDefaultTimeout(PAGE_TIMEOUT_MS);
      return new Browser(context, profile);
    } catch (error) {
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  /** A new tab, with what its console says kept for failure messages. */
  async page(url?: string): Promise<Page> {
    const page = await this.context.newPage();
    if (url !== undefined) await page.goto(url);
    return page;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      await this.context.close();
    } finally {
      await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
    }
  }
}

/** The text of each line in a page's `#log`. */
export function logLines(page: Page): Promise<string[]> {
  return page.locator("#log > *").allTextContents();
}

/** A regular expression that matches exactly `text`. */
function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
}

/**
 * Waits until a line of `#log` is mido's text of a message, `text`, after
 * the sender's name.
 */
export async function waitForLog(page: Page, text: string): Promise<void> {
  const line = new RegExp(`^\\S+ ${exactly(text).source.slice(1)}`);
  await page.locator("#log > *").filter({ hasText: line }).first().waitFor();
}

/** Waits until `#status` reads `text`. */
export async function waitForStatus(page: Page, text: string): Promise<void> {
  await page.locator("#status").filter({ hasText: exactly(text) }).waitFor();
}

// What listenToAudio puts in a page, before the page's own script: every
// node that the page connects to an AudioContext's destination is also
// connected to an AnalyserNode of the test's, which hears what the
// destination gets; and every OscillatorNode started is counted. The page
// needs no hook of its own: this is the Web Audio graph as it is. (It is
// JavaScript, for the browser: the tests are type-checked without the DOM.)
const TAP_AUDIO = `(() => {
  const taps = [];
  let oscillators = 0;
  const connect = AudioNode.prototype.connect;
  AudioNode.prototype.connect = function (...args) {
    const result = connect.apply(this, args);
    if (args[0] instanceof AudioDestinationNode) {
      const analyser = new AnalyserNode(this.context, { fftSize: 2048 });
      connect.call(this, analyser);
      taps.push({ context: this.context, analyser });
    }
    return result;
  };
  const start = AudioScheduledSourceNode.prototype.start;
  AudioScheduledSourceNode.prototype.start = function (...args) {
    if (this instanceof OscillatorNode) oscillators++;
    return start.apply(this, args);
  };
  globalThis.__heard = {
    // The peak of the last 2048 samples that reached the destination of a
    // running AudioContext: 0 if none runs.
    level() {
      let peak = 0;
      for (const { context, analyser } of taps) {
        if (context.state !== "running") continue;
        const samples = new Float32Array(analyser.fftSize);
        analyser.getFloatTimeDomainData(samples);
        for (const x of samples) peak = Math.max(peak, Math.abs(x));
      }
      return peak;
    },
    oscillators: () => oscillators,
  };
})();`;

interface Heard {
  level(): number;
  oscillators(): number;
}

/** Makes a page's sound measurable; call it before the page loads. */
export async function listenToAudio(page: Page): Promise<void> {
  await page.addInitScript({ content: TAP_AUDIO });
}

/**
 * The peak level, 0 to 1, of the last 2048 samples that the page's running
 * AudioContexts sent their destinations (0 if none runs). Needs
 * {@linkcode listenToAudio}.
 */
export function audioLevel(page: Page): Promise<number> {
  return page.evaluate(() =>
    (globalThis as unknown as { __heard: Heard }).__heard.level()
  );
}

/** How many OscillatorNodes the page has started. Needs {@linkcode listenToAudio}. */
export function oscillatorsStarted(page: Page): Promise<number> {
  return page.evaluate(() =>
    (globalThis as unknown as { __heard: Heard }).__heard.oscillators()
  );
}

/** The level that counts as sound: -40 dBFS. */
export const SOUND = 0.01;
/** The level that counts as silence: -80 dBFS. */
export const SILENCE = 0.0001;

/** Waits until the page sounds: a peak level over {@linkcode SOUND}. */
export async function waitForSound(page: Page): Promise<void> {
  await page.waitForFunction(
    (sound) =>
      (globalThis as unknown as { __heard: Heard }).__heard.level() > sound,
    SOUND,
    { polling: 20 },
  );
}

/** Waits until the page is silent: a peak level under {@linkcode SILENCE}. */
export async function waitForSilence(page: Page): Promise<void> {
  await page.waitForFunction(
    (silence) =>
      (globalThis as unknown as { __heard: Heard }).__heard.level() < silence,
    SILENCE,
    { polling: 20 },
  );
}
