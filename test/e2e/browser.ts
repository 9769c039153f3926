import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { approveCli, devEnv } from './helpers.js';

/** Debian's chromium (scripts/browser.sh installs it); playwright-core never downloads one. */
export const CHROMIUM = process.env.KUBEGATE_CHROMIUM ?? '/usr/bin/chromium';

/** Screenshots and other browser artifacts of the e2e run. */
export const artifacts = path.resolve('test/e2e/artifacts');

export function launch(): Promise<Browser> {
  mkdirSync(artifacts, { recursive: true });
  // launch() gives every run a fresh, temporary --user-data-dir of its own
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The console's origin (a passkey needs a host name: localhost, not 127.0.0.1). */
export const consoleUrl = () => devEnv().KUBEGATE_CONSOLE_URL!;

export interface Approver {
  name: string;
  context: BrowserContext;
  page: Page;
  /** Every URL the page asked for (to prove nothing comes from another host). */
  requested: string[];
}

/**
 * A browser of one's own (cookies, and a virtual authenticator standing in for a hardware key:
 * CTAP2, built in, user verification done, resident keys), on the console.
 */
export async function approverBrowser(browser: Browser, name: string): Promise<Approver> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
  });
  const page = await context.newPage();
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
    },
  });
  return { name, context, page, requested };
}

/** `approve-cli passkey enroll` as this approver: the one-time link it prints. */
export async function enrolLink(name: 'alice' | 'bob'): Promise<string> {
  process.env.KUBEGATE_CONSOLE_URL = consoleUrl();
  const r = await approveCli(['passkey', 'enroll'], name);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

/** Waits until the console's status line matches (it says what happened, in the CLI's words). */
export async function waitStatus(page: Page, match: RegExp, timeout = 15_000): Promise<string> {
  const text = () => page.locator('#status').textContent().then(String);
  await page
    .waitForFunction(
      (src) => new RegExp(src).test(document.getElementById('status')?.textContent ?? ''),
      match.source,
      {
        timeout,
      },
    )
    .catch(async () => {
      throw new Error(`the console says "${await text()}", not ${match}`);
    });
  return text();
}

/** Opens the link and enrols the virtual authenticator's new passkey. */
export async function enrol(a: Approver, link: string): Promise<void> {
  await a.page.goto(link);
  await a.page.getByRole('button', { name: 'Enrol passkey' }).click();
  await waitStatus(a.page, new RegExp(`^passkey enrolled for ${a.name}$`));
}

/** Signs in with the passkey, from the keyboard (the button has focus). */
export async function signIn(a: Approver): Promise<void> {
  await a.page.goto(`${consoleUrl()}/kubegate/ui/`);
  await a.page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor();
  await a.page.keyboard.press('Enter');
  await waitStatus(a.page, new RegExp(`^signed in as ${a.name}$`));
}

/** A console API call from inside the signed-in page (its cookie, its origin). */
export function inPage(
  a: Approver,
  apiPath: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json', 'x-kubegate-console': '1' },
): Promise<{ status: number; body: Record<string, unknown> }> {
  return a.page.evaluate(
    async ([p, b, h]) => {
      const res = await fetch(p as string, {
        method: 'POST',
        headers: h as Record<string, string>,
        body: JSON.stringify(b),
      });
      return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    },
    [apiPath, body, headers] as const,
  );
}
