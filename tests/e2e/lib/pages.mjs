// What a person does on stockroom's pages, written once. Locators go by
// what a person sees (labels, button texts, headings), so a missing label
// fails here as it would for someone using a screen reader.

import assert from 'node:assert/strict';

/** Goes to `url`; returns the main-document response. */
export async function visit(page, url) {
  const res = await page.goto(url, { waitUntil: 'load' });
  assert.ok(res, `navigation to ${url} produced a response`);
  return res;
}

export async function login(page, username, password) {
  await visit(page, '/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  await page.waitForLoadState('load');
}

export async function logout(page) {
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/login'),
    page.getByRole('button', { name: 'Sign out' }).click(),
  ]);
}

export function path(page) {
  return new URL(page.url()).pathname;
}

export async function heading(page) {
  return (await page.getByRole('heading', { level: 1 }).first().textContent()).trim();
}

/** The labels of the links in the main navigation, in order. */
export async function navLabels(page) {
  const nav = page.getByRole('navigation', { name: 'Main' });
  if ((await nav.count()) === 0) return [];
  return (await nav.getByRole('link').allTextContents()).map((s) => s.trim());
}

export async function expectDashboard(page, displayName) {
  assert.equal(path(page), '/', `expected the dashboard, got ${page.url()}`);
  assert.equal(await heading(page), `Hello, ${displayName}`);
}

/** The flash message shown at the top of <main>, or null. */
export async function flash(page) {
  const el = page.locator('main .flash');
  if ((await el.count()) === 0) return null;
  return (await el.first().textContent()).trim();
}

/** Whether `locator`'s element has the keyboard focus. */
export async function isFocused(locator) {
  return locator.evaluate((el) => el === document.activeElement);
}

/**
 * Presses Tab until `locator`'s element has the focus, as a keyboard user
 * would; fails when it is not reached within `max` presses (not focusable,
 * hidden, or out of the tab order). Resolves to the number of presses.
 */
export async function tabTo(page, locator, { max = 40 } = {}) {
  const target = await locator.elementHandle();
  assert.ok(target, `${locator} is on the page`);
  for (let i = 1; i <= max; i += 1) {
    await page.keyboard.press('Tab');
    if (await target.evaluate((el) => el === document.activeElement)) return i;
  }
  const focused = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  return assert.fail(`${locator} was not reached with the Tab key in ${max} presses (focus is on ${focused})`);
}

/**
 * Runs `action` (a click or key press that submits a form or follows a link)
 * and waits until a new document has replaced the current one and loaded,
 * even when its address is the same.
 */
export async function andWaitForNewPage(page, action) {
  await page.evaluate(() => {
    window.__replacedPage = true;
  });
  await action();
  await page.waitForFunction(() => !window.__replacedPage && document.readyState === 'complete');
}
