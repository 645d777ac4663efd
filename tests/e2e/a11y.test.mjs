// Accessibility (axe-core) and Content-Security-Policy checks on the main
// pages, in the order a new installation meets them. Serious and critical
// axe violations fail the test; lesser ones are printed as diagnostics.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { checkPage, findings, horizontalOverflow, report } from './lib/a11y.mjs';
import { e2e, useStockroom } from './lib/harness.mjs';
import { expectDashboard, heading, visit } from './lib/pages.mjs';

const env = useStockroom();

const ADMIN = { username: 'ada', displayName: 'Ada Admin', password: 'cotton-bandage-harbour-19' };

// Violations accepted for now, each matched narrowly (rule and element) so
// that anything else still fails: `{ id, node: (n) => boolean, why }`.
// Empty: every serious or critical finding fails the suite.
const KNOWN = [];

e2e(env, 'login, setup, dashboard and users pages: no serious accessibility violation, no CSP violation', async (s, t) => {
  const page = await s.newPage();
  const found = findings(KNOWN);

  await visit(page, '/login');
  assert.equal(await heading(page), 'Sign in');
  await checkPage(s, t, page, 'login page', found);

  await visit(page, s.server.setupURL);
  assert.equal(await heading(page), 'Set up stockroom');
  await checkPage(s, t, page, 'setup page', found);

  // The setup form shown again with its errors.
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('main').innerText(), /Username must be 2 to 64 characters long/);
  await checkPage(s, t, page, 'setup page with errors', found);

  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Your name').fill(ADMIN.displayName);
  await page.getByLabel(/^Password/).fill(ADMIN.password);
  await page.getByLabel('Repeat the password').fill(ADMIN.password);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/'),
    page.getByRole('button', { name: 'Create administrator' }).click(),
  ]);
  await expectDashboard(page, ADMIN.displayName);
  await checkPage(s, t, page, 'dashboard', found);

  await visit(page, '/admin/users');
  assert.equal(await heading(page), 'Users');
  await checkPage(s, t, page, 'users page', found);
  report(t, found);
});

e2e(env, 'the other pages: no serious accessibility violation, no CSP violation', async (s, t) => {
  const page = await s.newPage();
  const found = findings(KNOWN);
  // Signed in as the admin the previous test created.
  await visit(page, '/login');
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.getByRole('button', { name: 'Sign in' }).click()]);

  const pages = [
    ['/admin/users/new', 'New user'],
    ['/admin/users/1', /^Ada Admin/],
    ['/admin/tokens', 'API tokens'],
    ['/admin/jobs', 'Jobs'],
    ['/audit', 'Audit log'],
    ['/stock/use', 'Use stock'],
    ['/stock/use?code=4006381333932', 'Use stock'],
    ['/stock/receive', 'Receive stock'],
    ['/account/password', 'Change password'],
    ['/no-such-page', 'Not found'],
  ];
  for (const [url, expected] of pages) {
    await visit(page, url);
    const h = await heading(page);
    if (expected instanceof RegExp) assert.match(h, expected);
    else assert.equal(h, expected);
    await checkPage(s, t, page, url, found);
  }

  // A form shown again with its errors.
  await visit(page, '/admin/users/new');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('main').innerText(), /Username must be 2 to 64 characters long/);
  await checkPage(s, t, page, 'new user form with errors', found);
  report(t, found);
});

/**
 * Adds jobs straight to the database with the sqlite3 command (no job kind
 * runs in this binary yet, so none can be made through the application): a
 * queued one, one waiting to retry and a dead one with its attempts.
 * Resolves to the dead job's id. scripts/test installs sqlite3.
 */
function seedJobs(dataDir) {
  assert.equal(spawnSync('sqlite3', ['--version']).status, 0, 'the sqlite3 command is needed (apt-get install sqlite3)');
  const at = (secondsFromNow) => new Date(Date.now() + secondsFromNow * 1000).toISOString();
  const error = 'supplier portal answered 503 Service Unavailable after 30 s; the order was not sent and will need a person to look at it';
  const sql = `
    INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, created_at)
      VALUES ('example.queued', '{"order_id": 7}', 'queued', 0, 3, '${at(-7200)}', '${at(-7200)}');
    INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, last_error, created_at)
      VALUES ('example.digest', '{"day": "2026-03-01"}', 'failed', 1, 3, '${at(600)}', 'smtp timeout', '${at(-3600)}');
    INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, last_error, created_at, finished_at)
      VALUES ('example.send', '{"order_id": 42, "lines": [1, 2, 3], "note": "<b>urgent</b>"}', 'dead', 2, 2, '${at(-60)}', '${error}', '${at(-3600)}', '${at(-60)}');
    INSERT INTO job_attempts (job_id, attempt, worker, started_at, finished_at, outcome, error)
      VALUES (last_insert_rowid(), 1, 'host-a:1234', '${at(-3600)}', '${at(-3500)}', 'failed', 'connection refused');
    INSERT INTO job_attempts (job_id, attempt, worker, started_at, finished_at, outcome, error)
      SELECT job_id, 2, worker, '${at(-120)}', '${at(-60)}', 'dead', '${error}' FROM job_attempts WHERE id = last_insert_rowid();
    SELECT max(id) FROM jobs;`;
  const out = spawnSync('sqlite3', ['-cmd', '.timeout 5000', path.join(dataDir, 'stockroom.db'), sql], { encoding: 'utf8' });
  assert.equal(out.status, 0, `sqlite3 failed: ${out.stderr}`);
  return Number(out.stdout.trim());
}

e2e(env, 'the job queue with jobs in it: no serious accessibility violation, no CSP violation, nothing too wide', async (s, t) => {
  const dead = seedJobs(s.server.dataDir);
  const page = await s.newPage();
  const found = findings(KNOWN);
  await visit(page, '/login');
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
  await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.getByRole('button', { name: 'Sign in' }).click()]);

  const layout = [];
  for (const [url, expected, label] of [
    ['/admin/jobs', /^Jobs$/, 'jobs page with jobs'],
    ['/admin/jobs?state=asleep', /^Jobs$/, 'jobs page with a filter error'],
    [`/admin/jobs/${dead}`, new RegExp(`^Job ${dead}\\b`), 'a dead job'],
  ]) {
    await visit(page, url);
    assert.match(await heading(page), expected);
    await page.setViewportSize({ width: 1280, height: 800 });
    await checkPage(s, t, page, label, found);
    await page.setViewportSize({ width: 800, height: 1280 });
    const overflow = await horizontalOverflow(page);
    if (overflow) layout.push(`${label} at 800 px:\n${overflow}`);
  }
  assert.match(await page.getByTestId('payload').innerText(), /"note": "<b>urgent<\/b>"/);
  assert.equal(await page.getByRole('row').filter({ hasText: 'connection refused' }).count(), 1);

  // Retry it: the job page comes back with the message.
  await Promise.all([
    page.waitForURL((u) => u.pathname === `/admin/jobs/${dead}`),
    page.getByRole('button', { name: `Retry job ${dead}` }).click(),
  ]);
  await page.waitForLoadState('load');
  assert.match(await page.locator('main .flash').innerText(), new RegExp(`Job ${dead} will run again\\.`));
  await checkPage(s, t, page, 'a job queued again, with its message', found);
  assert.deepEqual(layout, [], layout.join('\n\n'));
  report(t, found);
});

e2e(env, 'self-check: the page watcher catches CSP violations', async (s) => {
  const page = await s.newPage();
  // Serve /login with an inline script and an inline style added: the
  // page's own CSP must refuse both, and the watcher must see it.
  await page.route('**/login', async (route) => {
    const res = await route.fetch();
    const html = (await res.text()).replace(
      '</main>',
      '<script>window.__inline = 1;</script><p style="color: red">inline</p></main>',
    );
    await route.fulfill({ response: res, body: html });
  });
  await visit(page, '/login');
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => window.__inline), undefined, 'the inline script did not run');
  const csp = s.seen('csp');
  assert.ok(
    csp.some((p) => /script-src/.test(p.text)) && csp.some((p) => /style-src/.test(p.text)),
    `both violations were seen: ${JSON.stringify(csp, null, 2)}`,
  );
  // Expected here: clear them so the harness's own check passes.
  s.problems.length = 0;
});
