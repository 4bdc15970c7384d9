/**
 * A page of ours opened in a real browser (Debian's Chromium through playwright-core), recording
 * console errors, page errors, requests and dialogs. Every HTML page concept-lens writes is tested
 * through this. CI installs Chromium and sets CONCEPT_LENS_REQUIRE_BROWSER=1, so there browser
 * suites always run; on a developer machine without Chromium they are skipped.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const HAVE_CHROMIUM =
  existsSync('/usr/bin/chromium') || process.env.CONCEPT_LENS_REQUIRE_BROWSER === '1';

export interface OpenedPage {
  page: Page;
  url: string;
  consoleErrors: string[];
  pageErrors: string[];
  requests: string[];
  dialogs: string[];
  close(): Promise<void>;
}

/** Open a local HTML file in headless Chromium with a fresh profile and no network. */
export async function openInChromium(
  file: string,
  viewport = { width: 1100, height: 900 },
): Promise<OpenedPage> {
  const profile = mkdtempSync(join(tmpdir(), 'cl-chromium-'));
  // playwright takes the profile as launchPersistentContext's userDataDir (it refuses a
  // --user-data-dir argument to launch()).
  const browser: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
    viewport,
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const opened: OpenedPage = {
    page,
    url: pathToFileURL(file).href,
    consoleErrors: [],
    pageErrors: [],
    requests: [],
    dialogs: [],
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
  page.on('console', (m) => {
    if (m.type() === 'error') opened.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => opened.pageErrors.push(e.message));
  page.on('request', (r) => opened.requests.push(r.url()));
  page.on('dialog', (d) => {
    opened.dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(opened.url, { waitUntil: 'load' });
  return opened;
}
