// What each role sees and may open. Users are made with the CLI against the
// running server's data directory.

import assert from 'node:assert/strict';

import { e2e, useStockroom } from './lib/harness.mjs';
import { expectDashboard, heading, login, navLabels, path, visit } from './lib/pages.mjs';

const PASSWORD = 'cotton-bandage-harbour-19';

const ROLES = [
  {
    role: 'admin',
    username: 'ada',
    displayName: 'Ada Admin',
    label: 'Administrator',
    nav: ['Dashboard', 'Items', 'Use stock', 'Receive', 'Orders', 'Locations', 'Suppliers', 'Recall', 'Import', 'Export', 'Users', 'Practice', 'API tokens', 'Jobs', 'Audit log'],
    tiles: ['Stock', 'Orders', 'Users', 'Audit log'],
  },
  {
    role: 'manager',
    username: 'max',
    displayName: 'Max Manager',
    label: 'Practice manager',
    nav: ['Dashboard', 'Items', 'Use stock', 'Receive', 'Orders', 'Locations', 'Suppliers', 'Recall', 'Import', 'Export', 'Audit log'],
    tiles: ['Stock', 'Orders', 'Audit log'],
  },
  {
    role: 'staff',
    username: 'sam',
    displayName: 'Sam Staff',
    label: 'Staff',
    nav: ['Dashboard', 'Items', 'Use stock', 'Receive', 'Orders', 'Locations', 'Suppliers', 'Export'],
    tiles: ['Stock', 'Orders'],
  },
  {
    role: 'viewer',
    username: 'vic',
    displayName: 'Vic Viewer',
    label: 'Viewer',
    nav: ['Dashboard', 'Items', 'Orders', 'Locations', 'Suppliers', 'Export'],
    tiles: ['Stock', 'Orders'],
  },
];

// Every page reachable from the navigation, with its heading, and the roles
// that may open it.
const PAGES = [
  { url: '/', heading: /^Hello, /, roles: ['admin', 'manager', 'staff', 'viewer'] },
  { url: '/admin/users', heading: /^Users$/, roles: ['admin'] },
  { url: '/admin/users/new', heading: /^New user$/, roles: ['admin'] },
  { url: '/admin/tokens', heading: /^API tokens$/, roles: ['admin'] },
  { url: '/admin/jobs', heading: /^Jobs$/, roles: ['admin'] },
  { url: '/audit', heading: /^Audit log$/, roles: ['admin', 'manager'] },
  { url: '/stock/use', heading: /^Use stock$/, roles: ['admin', 'manager', 'staff'] },
  { url: '/stock/receive', heading: /^Receive stock$/, roles: ['admin', 'manager', 'staff'] },
  { url: '/stock/adjust', heading: /^Adjust stock$/, roles: ['admin', 'manager', 'staff'] },
  { url: '/items', heading: /^Items$/, roles: ['admin', 'manager', 'staff', 'viewer'] },
  { url: '/items/new', heading: /^New item$/, roles: ['admin', 'manager'] },
  { url: '/locations', heading: /^Locations$/, roles: ['admin', 'manager', 'staff', 'viewer'] },
  { url: '/suppliers', heading: /^Suppliers$/, roles: ['admin', 'manager', 'staff', 'viewer'] },
  { url: '/categories', heading: /^Categories$/, roles: ['admin', 'manager'] },
  { url: '/recall', heading: /^Recall$/, roles: ['admin', 'manager'] },
  { url: '/import', heading: /^Import from a spreadsheet$/, roles: ['admin', 'manager'] },
  { url: '/export', heading: /^Export$/, roles: ['admin', 'manager', 'staff', 'viewer'] },
  { url: '/orders', heading: /^Orders$/, roles: ['admin', 'manager', 'staff', 'viewer'] },
  { url: '/orders/new', heading: /^New order$/, roles: ['admin', 'manager', 'staff'] },
  { url: '/orders/suggestions', heading: /^Reorder suggestions$/, roles: ['admin', 'manager', 'staff', 'viewer'] },
  { url: '/orders/approvals', heading: /^Waiting for my approval$/, roles: ['admin', 'manager'] },
  { url: '/returns', heading: /^Returns$/, roles: ['admin', 'manager', 'staff', 'viewer'] },
  { url: '/returns/new', heading: /^Return goods to a supplier$/, roles: ['admin', 'manager'] },
  { url: '/credits', heading: /^Credits$/, roles: ['admin', 'manager', 'staff', 'viewer'] },
  { url: '/admin/practice', heading: /^Practice$/, roles: ['admin'] },
];

const env = useStockroom({
  async prepare(server) {
    for (const r of ROLES) {
      await server.createUser({ username: r.username, role: r.role, displayName: r.displayName, password: PASSWORD });
    }
  },
});

for (const r of ROLES) {
  e2e(env, `${r.role}: the navigation shows exactly ${r.nav.join(', ')}`, async (s) => {
    const page = await s.newPage();
    await login(page, r.username, PASSWORD);
    await expectDashboard(page, r.displayName);
    assert.equal((await page.getByTestId('current-user').innerText()).replace(/\s+/g, ' ').trim(), `${r.displayName} ${r.label}`);
    assert.deepEqual(await navLabels(page), r.nav);
    assert.equal(
      await page.getByRole('navigation', { name: 'Main' }).locator('[aria-current="page"]').innerText(),
      'Dashboard',
      'the current page is marked in the navigation',
    );
    const tiles = (await page.locator('main .tiles h2').allTextContents()).map((t) => t.trim());
    assert.deepEqual(tiles, r.tiles, 'the dashboard offers only what the role may open');

    // Every navigation link works for this role.
    for (const label of r.nav) {
      const link = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true });
      const href = await link.getAttribute('href');
      await Promise.all([page.waitForURL((u) => u.pathname === href), link.click()]);
      assert.equal(
        await page.getByRole('navigation', { name: 'Main' }).locator('[aria-current="page"]').innerText(),
        label,
        `${label} is marked as the current page`,
      );
      assert.deepEqual(await navLabels(page), r.nav, `the navigation is the same on ${href}`);
    }
  });

  e2e(env, `${r.role}: pages outside the role answer 403 "Not allowed", the others open`, async (s) => {
    const page = await s.newPage();
    await login(page, r.username, PASSWORD);
    for (const p of PAGES) {
      const res = await visit(page, p.url);
      assert.equal(path(page), p.url, `${p.url} does not redirect`);
      if (p.roles.includes(r.role)) {
        assert.equal(res.status(), 200, `${r.role} may open ${p.url}`);
        assert.match(await heading(page), p.heading);
      } else {
        assert.equal(res.status(), 403, `${r.role} may not open ${p.url}`);
        assert.equal(await heading(page), 'Not allowed');
        assert.match(await page.locator('main').innerText(), /You do not have permission to do that\./);
        // Still signed in, with the way back.
        assert.deepEqual(await navLabels(page), r.nav);
        assert.ok(await page.getByRole('link', { name: 'Back to the dashboard' }).isVisible());
      }
    }
  });
}
