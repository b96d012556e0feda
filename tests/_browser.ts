// Copyright 2026 the midisock authors. MIT license.
// Test helper: Debian's Chromium (/usr/bin/chromium, from apt), driven by
// npm playwright-core, pinned (see docs/dependencies.md). It never
// downloads a browser of its own: it launches that executable, headless,
// with a fresh profile in /tmp that is removed afterwards.

import type { BrowserContext, Page } from "playwright-core";

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

/** A Chromium with a fresh profile; disposing of it closes it and removes the profile. */
export class Browser implements AsyncDisposable {
  readonly context: BrowserContext;
  readonly #profile: string;

  private constructor(context: BrowserContext, profile: string) {
    this.context = context;
    this.#profile = profile;
  }

  /** Launches Chromium with a new `--user-data-dir` under /tmp. */
  static async launch(): Promise<Browser> {
    const profile = await Deno.makeTempDir({
      dir: "/tmp",
      prefix: "midisock-chromium-",
    });
    try {
      // launchPersistentContext gives Chromium the --user-data-dir.
      const context = await chromium.launchPersistentContext(profile, {
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
