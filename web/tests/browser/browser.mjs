// Headless Chromium from Debian's `chromium` package, driven by playwright-core (no
// browser download): the flags the CI machine needs, a fresh profile per launch, and
// a record of every console error and uncaught page error.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'flexchain-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
    viewport: { width: 1360, height: 900 },
    timezoneId: 'Europe/Istanbul',
    locale: 'en-GB',
  });
  const errors = [];
  const watch = (page, name = '') => {
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${name} console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`${name} page error: ${e.message}`));
    return page;
  };
  return {
    context,
    errors,
    watch,
    async page(name) {
      return watch(await context.newPage(), name);
    },
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
