/**
 * The browser tests' Chromium: Debian's package (no tool downloads its own browser), driven by playwright-core.
 * A test file that needs it skips with a message when it is absent (`.ci/run` installs it).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { waitFor } from './wait-for.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Whether Chromium is installed; when not, says which test skips and how to install it. */
export function chromiumOrSkip(what: string): boolean {
  const has = existsSync(CHROMIUM);
  if (!has) console.warn(`${what} skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
  return has;
}

/** Headless Chromium with nothing of its own going to the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The page does not scroll sideways: its content fits the viewport's width (a phone's 360–390 px). */
export async function expectNoSideScroll(page: Page): Promise<void> {
  const { sw, iw } = (await page.evaluate(
    '({ sw: document.documentElement.scrollWidth, iw: window.innerWidth })',
  )) as { sw: number; iw: number };
  expect(sw).toBeLessThanOrEqual(iw);
}

/**
 * Brings an element into view for a screenshot. The emulated DingTalk client redraws its messages every second, so
 * the element a locator found can be replaced mid-scroll ("not attached to the DOM", seen in CI): tried again.
 */
export async function scrollIntoView(el: Locator): Promise<void> {
  await waitFor(
    () =>
      el.scrollIntoViewIfNeeded({ timeout: 1_000 }).then(
        () => true,
        () => false,
      ),
    10_000,
    'the element scrolled into view',
  );
}
