// First run: the one-time setup link creates the first administrator.

import assert from 'node:assert/strict';

import { e2e, useStockroom } from './lib/harness.mjs';
import { expectDashboard, flash, heading, navLabels, path, visit } from './lib/pages.mjs';

const env = useStockroom();

const ADMIN = {
  username: 'anna.admin',
  displayName: 'Anna Adler',
  password: 'gauze-trolley-ampoule-7',
};

async function expectNoSetupForm(page) {
  assert.equal(await page.locator('form[action="/setup"]').count(), 0, 'no setup form');
  assert.equal(await page.getByLabel('Username').count(), 0, 'no username field');
  assert.equal(await page.getByRole('button', { name: 'Create administrator' }).count(), 0);
}

e2e(env, 'before setup, signing in is not possible and the sign-in page points to the setup link', async (s) => {
  const page = await s.newPage();
  await visit(page, '/');
  assert.equal(path(page), '/login', 'the dashboard redirects to the sign-in page');
  assert.equal(await heading(page), 'Sign in');
  assert.match(await flash(page), /not set up yet\. Open the setup link printed on the server's console/);
});

e2e(env, '/setup without the token or with a wrong token shows an error page and no form', async (s) => {
  const page = await s.newPage();
  const good = new URL(s.server.setupURL).searchParams.get('token');
  const wrong = [
    '/setup',
    '/setup?token=',
    '/setup?token=not-the-token',
    // Same length, last character changed.
    `/setup?token=${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`,
  ];
  for (const url of wrong) {
    const res = await visit(page, url);
    assert.equal(res.status(), 403, `${url} is refused`);
    assert.equal(await heading(page), 'Setup link not valid', `${url} shows the error page`);
    assert.match(await page.locator('main').innerText(), /Copy the whole link/);
    await expectNoSetupForm(page);
    assert.ok(
      await page.getByRole('link', { name: 'Sign in' }).isVisible(),
      'the error page offers the way to sign in',
    );
  }
});

e2e(env, 'setup refuses a repeated password that does not match and keeps what was typed', async (s) => {
  const page = await s.newPage();
  await visit(page, s.server.setupURL);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Your name').fill(ADMIN.displayName);
  await page.getByLabel(/^Password/).fill(ADMIN.password);
  await page.getByLabel('Repeat the password').fill(`${ADMIN.password}-typo`);
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Create administrator' }).click(),
  ]);
  assert.equal(res.status(), 422);
  await page.waitForLoadState('load');
  assert.equal(await heading(page), 'Set up stockroom');
  assert.match(await page.locator('main').innerText(), /Repeated password does not match the password/);
  assert.equal(await page.getByLabel('Username').inputValue(), ADMIN.username);
  assert.equal(await page.getByLabel('Your name').inputValue(), ADMIN.displayName);
  assert.equal(await page.getByLabel(/^Password/).inputValue(), '', 'the password is not sent back');
});

e2e(env, 'first-run setup creates the administrator, signs them in, and the link stops working', async (s) => {
  const page = await s.newPage();
  const res = await visit(page, s.server.setupURL);
  assert.equal(res.status(), 200);
  assert.equal(await heading(page), 'Set up stockroom');

  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Your name').fill(ADMIN.displayName);
  await page.getByLabel(/^Password/).fill(ADMIN.password);
  await page.getByLabel('Repeat the password').fill(ADMIN.password);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/'),
    page.getByRole('button', { name: 'Create administrator' }).click(),
  ]);

  await expectDashboard(page, ADMIN.displayName);
  assert.equal(await flash(page), 'Welcome to stockroom. Your administrator account is ready.');
  assert.match(await page.getByTestId('current-user').innerText(), /Anna Adler\s+Administrator/);
  assert.deepEqual(await navLabels(page), ['Dashboard', 'Items', 'Use stock', 'Receive', 'Orders', 'Locations', 'Suppliers', 'Recall', 'Import', 'Export', 'Users', 'Practice', 'API tokens', 'Jobs', 'Audit log']);

  // The link is spent: for the new admin and for anyone else.
  const stranger = await s.newPage();
  for (const p of [page, stranger]) {
    const again = await visit(p, s.server.setupURL);
    assert.equal(again.status(), 404, 'the setup URL no longer works');
    assert.equal(await heading(p), 'Already set up');
    await expectNoSetupForm(p);
  }

  // Posting the spent token directly (with a valid CSRF token, so that only
  // the setup check can refuse it) is refused too.
  const csrf = await stranger.locator('meta[name="csrf-token"]').getAttribute('content');
  const post = await stranger.request.post('/setup', {
    form: {
      csrf_token: csrf,
      token: new URL(s.server.setupURL).searchParams.get('token'),
      username: 'mallory',
      display_name: '',
      password: 'another-long-password-1',
      confirm: 'another-long-password-1',
    },
    maxRedirects: 0,
  });
  assert.equal(post.status(), 404, 'a late setup POST is refused');

  // And the sign-in page stops pointing to it.
  await visit(stranger, '/login');
  assert.equal(await flash(stranger), null);
});
