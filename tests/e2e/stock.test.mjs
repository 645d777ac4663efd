// Using stock with a barcode scanner: the scanner types a GS1 DataMatrix
// element string (FNC1 sent as the group separator) and Enter into the scan
// box; the form comes back with item, pack quantity, lot and expiry filled.

import assert from 'node:assert/strict';

import { e2e, useStockroom } from './lib/harness.mjs';
import { flash, heading, login, visit } from './lib/pages.mjs';

const PASSWORD = 'sterile-swab-lantern-42';
const MANAGER = { username: 'mia', role: 'manager', displayName: 'Mia Manager', password: PASSWORD };
const NURSE = { username: 'nina', role: 'staff', displayName: 'Nina Nurse', password: PASSWORD };
const GS = '\u001d';
let managerToken;

const env = useStockroom({
  async prepare(server) {
    await server.createUser(MANAGER);
    await server.createUser(NURSE);
    const token = await server.createToken({ username: MANAGER.username });
    managerToken = token;
    const room = await server.api(token, 'POST', '/api/v1/locations', { name: 'Treatment room', kind: 'room' });
    const cabinet = await server.api(token, 'POST', '/api/v1/locations', { parent_id: room.id, name: 'Cabinet A', kind: 'cabinet' });
    const item = await server.api(token, 'POST', '/api/v1/items', {
      code: 'LID-1', name: 'Lidocaine 1%', unit: 'ampoule', lot_tracked: true, expiry_tracked: true,
    });
    await server.api(token, 'POST', `/api/v1/items/${item.id}/packs`, { name: 'box', quantity: 10, gtin: '09506000134352' });
    await server.api(token, 'POST', '/api/v1/movements', {
      kind: 'receipt', item_id: item.id, location_id: cabinet.id, quantity: 20, lot: 'L42', expiry: '2071-03-31',
    });
  },
});

e2e(env, 'scanning a GS1 DataMatrix into the consume form fills lot and expiry, and using stock works', async (s) => {
  const page = await s.newPage();
  await login(page, NURSE.username, NURSE.password);
  await visit(page, '/stock/use');
  assert.equal(await heading(page), 'Use stock');

  // The scan box has the focus: a keyboard-wedge scanner just types.
  const box = page.getByLabel('Scan a barcode');
  assert.ok(await box.evaluate((el) => el === document.activeElement), 'the scan box has the focus');
  await page.keyboard.type(`]d2010950600013435210L42${GS}17710331`);
  await Promise.all([page.waitForURL((u) => u.pathname === '/stock/use' && u.searchParams.has('code')), page.keyboard.press('Enter')]);

  assert.equal(await page.getByTestId('item-found').locator('strong').innerText(), 'Lidocaine 1%');
  assert.equal(await page.getByLabel('Lot').inputValue(), 'L42');
  assert.equal(await page.getByLabel('Expiry').inputValue(), '2071-03-31');
  assert.equal(await page.getByLabel(/^Quantity/).inputValue(), '1', 'one Enter uses one ampoule, not the box of 10');
  assert.match(await page.getByTestId('scan-hint').innerText(), /enter 10 to use the whole pack/);
  assert.equal(await page.getByLabel('From').locator('option:checked').innerText(), 'Treatment room › Cabinet A');
  assert.ok(await page.getByLabel(/^Quantity/).evaluate((el) => el === document.activeElement), 'the cursor waits on the quantity');

  await page.getByLabel(/^Quantity/).fill('2');
  await Promise.all([page.waitForURL((u) => u.pathname === '/stock/use' && !u.searchParams.has('code')), page.getByRole('button', { name: 'Use', exact: true }).click()]);
  assert.equal(await flash(page), 'Used 2 ampoules of Lidocaine 1%, lot L42 from Treatment room › Cabinet A.');

  // Asking for more than is there is refused on the form, with what is left.
  await page.keyboard.type(`]d2010950600013435210L42${GS}17710331`);
  await Promise.all([page.waitForURL((u) => u.searchParams.has('code')), page.keyboard.press('Enter')]);
  await page.getByLabel(/^Quantity/).fill('50');
  await page.getByRole('button', { name: 'Use', exact: true }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('main').innerText(), /has 18 ampoules available/);
});

e2e(env, 'a double-tapped "Use" books the stock once and shows the confirmation', async (s) => {
  const level = async () => {
    const levels = await env.server.api(managerToken, 'GET', '/api/v1/stock-levels?per_page=200');
    return levels.items.reduce((sum, l) => sum + l.quantity, 0);
  };
  const before = await level();
  const page = await s.newPage();
  await login(page, NURSE.username, NURSE.password);
  await visit(page, '/stock/use');
  await page.keyboard.type(`]d2010950600013435210L42${GS}17710331`);
  await Promise.all([page.waitForURL((u) => u.searchParams.has('code')), page.keyboard.press('Enter')]);
  await page.getByLabel(/^Quantity/).fill('1');
  // A slow network: each answer is held back 300 ms after the server gave
  // it, so a second tap comes while the first is still on its way.
  let posts = 0;
  await page.route('**/stock/use', async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    posts += 1;
    const response = await route.fetch({ maxRedirects: 0 });
    await new Promise((r) => setTimeout(r, 300));
    await route.fulfill({ response }).catch(() => {});
  });
  await page.evaluate(() => {
    const form = document.querySelector('form[method=post][action="/stock/use"]');
    form.requestSubmit();
    setTimeout(() => form.requestSubmit(), 100);
  });
  // The first navigation is abandoned for the second; wait for where the
  // second one lands.
  await page.locator('main .flash').waitFor({ timeout: 10_000 });
  await page.waitForLoadState('load');
  assert.equal(new URL(page.url()).pathname, '/stock/use');
  assert.ok(posts >= 2, `the browser sent the form ${posts} time(s)`);
  assert.equal(await flash(page), 'Used 1 ampoule of Lidocaine 1%, lot L42 from Treatment room › Cabinet A.');
  assert.equal(await level(), before - 1, 'booked once');
});
