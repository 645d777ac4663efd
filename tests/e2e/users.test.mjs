// An administrator creates a user in the browser with a temporary password;
// the user must choose their own at first sign-in.

import assert from 'node:assert/strict';

import { e2e, useStockroom } from './lib/harness.mjs';
import { expectDashboard, flash, heading, login, logout, navLabels, path, visit } from './lib/pages.mjs';


const ADMIN = { username: 'ada', displayName: 'Ada Admin', role: 'admin', password: 'cotton-bandage-harbour-19' };
const NEW_USER = {
  username: 'bob.nurse',
  displayName: 'Bob Nurse',
  roleLabel: 'Staff',
  temporary: 'temporary-gauze-pad-2024',
  chosen: 'my-own-syringe-tray-88',
};

/** The users table as [[username, name, role, status], ...]. */
const env = useStockroom({ prepare: (server) => server.createUser(ADMIN) });

async function usersTable(page) {
  return page.locator('main table tbody tr').evaluateAll((rows) =>
    rows.map((row) => [...row.querySelectorAll('td')].map((td) => td.innerText.trim())),
  );
}

e2e(env, 'admin creates a user with a temporary password; the user must change it at first sign-in', async (s) => {
  const admin = await s.newPage();
  await login(admin, ADMIN.username, ADMIN.password);
  await expectDashboard(admin, ADMIN.displayName);

  // Dashboard → Users → New user, as a person would.
  await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await admin.waitForURL((u) => u.pathname === '/admin/users');
  assert.equal(await heading(admin), 'Users');
  await admin.getByRole('link', { name: 'New user' }).click();
  await admin.waitForURL((u) => u.pathname === '/admin/users/new');
  assert.equal(await heading(admin), 'New user');

  const mustChange = admin.getByLabel('Must choose a new password at first sign-in');
  assert.equal(await mustChange.isChecked(), true, '"must change" is ticked by default');
  assert.equal(await admin.getByLabel('Role').inputValue(), 'staff', 'staff is the default role');

  await admin.getByLabel('Username').fill(NEW_USER.username);
  await admin.getByLabel('Name', { exact: true }).fill(NEW_USER.displayName);
  await admin.getByLabel('Role').selectOption({ label: NEW_USER.roleLabel });
  await admin.getByLabel(/^Temporary password/).fill(NEW_USER.temporary);
  await Promise.all([
    admin.waitForURL((u) => /^\/admin\/users\/\d+$/.test(u.pathname)),
    admin.getByRole('button', { name: 'Create user' }).click(),
  ]);
  assert.equal(await flash(admin), `User ${NEW_USER.username} created.`);
  assert.match(await heading(admin), new RegExp(`^${NEW_USER.displayName}\\s+${NEW_USER.username}$`));
  assert.match(await admin.locator('main').innerText(), /Staff · Active · must change password/);

  await visit(admin, '/admin/users');
  assert.deepEqual(
    (await usersTable(admin)).find((row) => row[0] === NEW_USER.username),
    [NEW_USER.username, NEW_USER.displayName, 'Staff', 'Must change password'],
  );

  // The new user, in a browser of their own.
  const bob = await s.newPage();
  await login(bob, NEW_USER.username, NEW_USER.temporary);
  assert.equal(path(bob), '/account/password', 'sent to change the password first');
  assert.equal(await heading(bob), 'Change password');
  assert.match(await flash(bob), /Your administrator set a temporary password\. Choose your own before continuing\./);
  assert.deepEqual(await navLabels(bob), [], 'no navigation until the password is changed');

  // Nothing else opens before the password is changed.
  await visit(bob, '/');
  assert.equal(path(bob), '/account/password');

  await bob.getByLabel('Current password').fill(NEW_USER.temporary);
  await bob.getByLabel(/^New password/).fill(NEW_USER.chosen);
  await bob.getByLabel('Repeat the new password').fill(NEW_USER.chosen);
  await Promise.all([
    bob.waitForURL((u) => u.pathname === '/'),
    bob.getByRole('button', { name: 'Change password' }).click(),
  ]);
  await expectDashboard(bob, NEW_USER.displayName);
  assert.equal(await flash(bob), 'Your password has been changed. Other devices were signed out.');
  assert.deepEqual(await navLabels(bob), ['Dashboard', 'Items', 'Use stock', 'Receive', 'Orders', 'Locations', 'Suppliers', 'Export']);

  // The chosen password works from now on; the temporary one does not.
  await logout(bob);
  await login(bob, NEW_USER.username, NEW_USER.temporary);
  assert.equal(path(bob), '/login');
  assert.equal((await bob.getByRole('alert').innerText()).trim(), 'Wrong username or password.');
  await login(bob, NEW_USER.username, NEW_USER.chosen);
  await expectDashboard(bob, NEW_USER.displayName);

  // The admin sees the account as active now.
  await visit(admin, '/admin/users');
  assert.deepEqual(
    (await usersTable(admin)).find((row) => row[0] === NEW_USER.username),
    [NEW_USER.username, NEW_USER.displayName, 'Staff', 'Active'],
  );
});

e2e(env, 'the new-user form explains what is wrong and keeps what was typed', async (s) => {
  const admin = await s.newPage();
  await login(admin, ADMIN.username, ADMIN.password);
  await visit(admin, '/admin/users/new');
  await admin.getByLabel('Username').fill('carla');
  await admin.getByLabel('Name', { exact: true }).fill('Carla Clerk');
  await admin.getByLabel(/^Temporary password/).fill('short');
  const [res] = await Promise.all([
    admin.waitForResponse((r) => r.request().method() === 'POST'),
    admin.getByRole('button', { name: 'Create user' }).click(),
  ]);
  assert.equal(res.status(), 422);
  await admin.waitForLoadState('load');
  assert.equal(await heading(admin), 'New user');
  assert.match(await admin.locator('main').innerText(), /Password must be at least 12 characters long/);
  assert.equal(await admin.getByLabel('Username').inputValue(), 'carla');
  assert.equal(await admin.getByLabel('Name', { exact: true }).inputValue(), 'Carla Clerk');
  assert.equal(await admin.getByLabel(/^Temporary password/).inputValue(), '');

  // An existing username is refused too.
  await admin.getByLabel('Username').fill(ADMIN.username);
  await admin.getByLabel(/^Temporary password/).fill('a-long-enough-password-1');
  await Promise.all([
    admin.waitForResponse((r) => r.request().method() === 'POST'),
    admin.getByRole('button', { name: 'Create user' }).click(),
  ]);
  await admin.waitForLoadState('load');
  assert.match(await admin.locator('main').innerText(), /Username is already taken/);
});
