// Signing in and out.

import assert from 'node:assert/strict';

import { e2e, useStockroom } from './lib/harness.mjs';
import { expectDashboard, flash, heading, login, logout, path, visit } from './lib/pages.mjs';


const USER = {
  username: 'maria.manager',
  displayName: 'Maria Moreno',
  role: 'manager',
  password: 'sterile-swab-lantern-42',
};

const env = useStockroom({ prepare: (server) => server.createUser(USER) });

async function expectLoginRefused(page) {
  assert.equal(path(page), '/login');
  assert.equal(await heading(page), 'Sign in');
  const alert = page.getByRole('alert');
  assert.equal((await alert.innerText()).trim(), 'Wrong username or password.');
}

e2e(env, 'a wrong password, or an unknown user, shows "Wrong username or password."', async (s) => {
  const page = await s.newPage();
  await login(page, USER.username, 'not-the-right-password');
  await expectLoginRefused(page);
  assert.equal(await page.getByLabel('Username').inputValue(), USER.username, 'the username is kept');
  assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'the password is not');

  await login(page, 'nobody-here', USER.password);
  await expectLoginRefused(page);

  // Still signed out.
  await visit(page, '/');
  assert.equal(path(page), '/login');
});

e2e(env, 'the right password lands on the dashboard; signing out returns to /login and ends the session', async (s) => {
  const page = await s.newPage();
  await login(page, USER.username, USER.password);
  await expectDashboard(page, USER.displayName);
  assert.match(await page.getByTestId('current-user').innerText(), /Maria Moreno\s+Practice manager/);

  await logout(page);
  assert.equal(path(page), '/login');
  assert.equal(await heading(page), 'Sign in');
  assert.equal(await flash(page), 'You have signed out.');

  // The flash is shown once.
  await page.reload();
  assert.equal(await page.locator('main .flash', { hasText: 'You have signed out.' }).count(), 0);

  // The dashboard now asks to sign in again.
  await visit(page, '/');
  assert.equal(path(page), '/login');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/');
  assert.equal(await heading(page), 'Sign in');
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
});

e2e(env, 'signing in after being sent to /login returns to the page that was asked for', async (s) => {
  const page = await s.newPage();
  await visit(page, '/audit');
  assert.equal(path(page), '/login');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/audit');
  await page.getByLabel('Username').fill(USER.username);
  await page.getByLabel('Password', { exact: true }).fill(USER.password);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/audit'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  assert.equal(await heading(page), 'Audit log');
  // The audit log shows this sign-in.
  assert.match(await page.locator('table.audit tbody').innerText(), /auth\.login/);
});

e2e(env, 'a session cookie from before sign-out no longer works', async (s) => {
  const page = await s.newPage();
  await login(page, USER.username, USER.password);
  await expectDashboard(page, USER.displayName);
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'stockroom_session');
  assert.ok(session, 'a session cookie is set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  await logout(page);

  // Replaying the old cookie in another browser gets the sign-in page.
  const other = await s.newPage();
  await other.context().addCookies([session]);
  await visit(other, '/');
  assert.equal(path(other), '/login');
});

e2e(
  env,
  'once an administrator exists (made with the CLI), the sign-in page no longer says stockroom is not set up',
  async (s) => {
    // With only a manager there is no administrator yet: stockroom says so.
    const page = await s.newPage();
    await visit(page, '/login');
    const notice = page.locator('main .flash', { hasText: 'not set up yet' });
    assert.equal(await notice.count(), 1, 'no administrator yet');
    await s.server.createUser({ username: 'ada.admin', displayName: 'Ada', role: 'admin', password: 'cotton-bandage-harbour-19' });
    await visit(page, '/login');
    assert.equal(await notice.count(), 0, `the sign-in page says: ${await notice.allInnerTexts()}`);
  },
);
