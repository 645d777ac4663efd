// Debian's Chromium driven by playwright-core. No browser is ever
// downloaded: the executable is the system one.
//
// `chromium.launch()` starts Chromium with a fresh temporary profile
// (`--user-data-dir=<new temp dir>`, removed on close) — Playwright refuses a
// `--user-data-dir` in `args` and creates one itself — and every
// `browser.newContext()` is a further isolated, incognito-like profile: no
// cookies or storage shared between contexts.

import fs from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install Debian's package (apt-get install chromium) or run scripts/test`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

// Installed in every page before its own scripts: reports each CSP
// violation on the console, where the listener below collects it (Chromium
// also logs its own "Refused to ..." line; both are caught).
const CSP_REPORTER = `
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error('CSP violation: ' + e.violatedDirective + ' blocked ' +
      (e.blockedURI || '(inline)') + ' in ' + e.sourceFile + ':' + e.lineNumber +
      (e.sample ? ' sample=' + JSON.stringify(e.sample) : ''));
  });
`;

export function isCspMessage(text) {
  return /Content Security Policy|CSP violation/i.test(text);
}

/**
 * A new isolated browser context on `baseURL`, watched for problems:
 * CSP violations, uncaught page errors, console errors and failed
 * sub-resources (a document answering 4xx is fine: error pages are tested).
 */
export async function watchedContext(browser, baseURL, problems) {
  const context = await browser.newContext({ baseURL, locale: 'en-GB' });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(20_000);
  await context.addInitScript({ content: CSP_REPORTER });
  // Pages load nothing from anywhere but the server under test (noted, not
  // intercepted: request interception doubles every page load's time).
  context.on('request', (req) => {
    const url = new URL(req.url());
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) return;
    if (url.origin !== new URL(baseURL).origin) {
      problems.push({ kind: 'offsite-request', url: req.url(), text: req.resourceType() });
    }
  });
  const watch = (page) => {
    page.on('console', (msg) => {
      const text = msg.text();
      const url = page.url();
      if (isCspMessage(text)) {
        problems.push({ kind: 'csp', url, text });
      } else if (msg.type() === 'error' && !/^Failed to load resource/.test(text)) {
        // "Failed to load resource" repeats what the response listener sees.
        problems.push({ kind: 'console-error', url, text });
      }
    });
    page.on('pageerror', (err) => {
      problems.push({ kind: 'pageerror', url: page.url(), text: String(err && err.stack ? err.stack : err) });
    });
    page.on('response', (res) => {
      const type = res.request().resourceType();
      if (type !== 'document' && res.status() >= 400) {
        problems.push({ kind: 'subresource', url: res.url(), text: `${type} answered ${res.status()}` });
      }
    });
    page.on('requestfailed', (req) => {
      const failure = req.failure()?.errorText || 'failed';
      // A navigation that replaced a page aborts its pending loads (the
      // favicon, typically): not a fault of the page.
      if (failure === 'net::ERR_ABORTED') return;
      problems.push({ kind: 'requestfailed', url: req.url(), text: `${req.resourceType()}: ${failure}` });
    });
  };
  context.on('page', watch);
  return context;
}
