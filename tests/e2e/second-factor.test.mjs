// The second factor in a real browser, with the default policy
// (administrators must use one): the first administrator sets up an
// authenticator app straight after setup, keeps the recovery codes, and
// signs in again with one. The test plays the phone: it reads the key off
// the page and computes the codes (RFC 6238) itself.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { checkPage, findings, horizontalOverflow, report } from './lib/a11y.mjs';
import { e2e, useStockroom } from './lib/harness.mjs';
import { expectDashboard, flash, heading, login, logout, path, visit } from './lib/pages.mjs';

const env = useStockroom({ serverEnv: { STOCKROOM_SECURITY_SECOND_FACTOR_REQUIRED_FOR: 'administrators' } });

const ADMIN = { username: 'ada', displayName: 'Ada Admin', password: 'cotton-bandage-harbour-19' };
const PHONE = { width: 390, height: 844 };
const TABLET = { width: 1024, height: 768 };

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/\s+/g, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The six-digit code an authenticator app shows for `key` now. */
function totp(key, at = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = crypto.createHmac('sha1', base32(key)).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

const state = { key: null, codes: [] };

e2e(env, 'the first administrator sets up an authenticator app before reaching the dashboard', async (s, t) => {
  const page = await s.newPage();
  const found = findings();
  await page.setViewportSize(PHONE);
  await visit(page, s.server.setupURL);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Your name').fill(ADMIN.displayName);
  await page.getByLabel(/^Password/).fill(ADMIN.password);
  await page.getByLabel('Repeat the password').fill(ADMIN.password);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/login/setup'),
    page.getByRole('button', { name: 'Create administrator' }).click(),
  ]);
  assert.equal(await heading(page), 'Set up your second factor');
  const qr = page.getByRole('img', { name: /QR code/ });
  assert.ok(await qr.isVisible(), 'the QR code is shown');
  const box = await qr.boundingBox();
  assert.ok(box.width >= 180 && box.width <= PHONE.width, `QR code ${box.width} px wide fits a phone`);
  assert.equal(await horizontalOverflow(page), null, 'the set-up page fits a phone');
  await checkPage(s, t, page, 'second factor set-up (phone)', found);

  // Nothing else opens before the app is set up.
  const other = await page.context().newPage();
  await visit(other, '/');
  assert.equal(path(other), '/login', 'no session yet');
  await other.close();

  state.key = (await page.getByTestId('totp-secret').textContent()).trim();
  await page.getByLabel('Code from the app').fill('000000');
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('main').innerText(), /That code is not right/);

  await page.getByLabel('Code from the app').fill(totp(state.key));
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.waitForLoadState('load');
  assert.equal(await heading(page), 'Your recovery codes');
  state.codes = (await page.getByTestId('recovery-codes').locator('code').allTextContents()).map((c) => c.trim());
  assert.equal(state.codes.length, 10);
  assert.equal(await horizontalOverflow(page), null, 'the codes fit a phone');
  await checkPage(s, t, page, 'recovery codes (phone)', found);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/'),
    page.getByRole('link', { name: /I have saved them/ }).click(),
  ]);
  await expectDashboard(page, ADMIN.displayName);
  report(t, found);
});

e2e(env, 'signing in again asks for a code; a recovery code does instead, once', async (s, t) => {
  assert.ok(state.key, 'the previous test set up the app');
  const page = await s.newPage();
  const found = findings();
  await page.setViewportSize(TABLET);
  await login(page, ADMIN.username, ADMIN.password);
  assert.equal(path(page), '/login/code');
  assert.equal(await heading(page), 'Enter your code');
  assert.equal(await page.getByLabel('Code from your authenticator app').getAttribute('autocomplete'), 'one-time-code');
  await checkPage(s, t, page, 'code step (tablet)', found);

  await page.getByLabel('Code from your authenticator app').fill(state.codes[0]);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  assert.match(await flash(page), /You signed in with a recovery code\. 9 are left/);

  await visit(page, '/account/second-factor');
  assert.equal(await heading(page), 'Second factor');
  assert.match(await page.getByTestId('second-factor-state').innerText(), /^On\./);
  assert.match(await page.locator('main').innerText(), /Recovery codes left: 9 of 10/);
  assert.match(await page.locator('main').innerText(), /Your role must use a second factor/);
  await checkPage(s, t, page, 'own second factor (tablet)', found);
  await page.setViewportSize(PHONE);
  assert.equal(await horizontalOverflow(page), null, 'the account page fits a phone');
  await logout(page);

  // The same recovery code again: refused.
  await login(page, ADMIN.username, ADMIN.password);
  await page.getByLabel('Code from your authenticator app').fill(state.codes[0]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
  assert.equal(path(page), '/login/code');
  assert.match(await page.locator('main').innerText(), /not right, or was already used/);
  report(t, found);
});
