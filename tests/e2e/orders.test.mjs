// Ordering end to end through the pages: a manager turns a reorder
// suggestion into a draft and submits it, another manager approves it and
// marks it sent, and the goods arrive in two deliveries received with a
// barcode scanner on the order's receive screen (one GS1 DataMatrix per lot).

import assert from 'node:assert/strict';

import { e2e, useStockroom } from './lib/harness.mjs';
import { andWaitForNewPage, flash, heading, login, logout, path, visit } from './lib/pages.mjs';
import { dataMatrix, withCheckDigit } from './lib/scan.mjs';

const PASSWORD = 'sterile-swab-lantern-42';
const ADMIN = { username: 'ada', role: 'admin', displayName: 'Ada Admin', password: PASSWORD };
const MANAGER_A = { username: 'mia', role: 'manager', displayName: 'Mia Manager', password: PASSWORD };
const MANAGER_B = { username: 'max', role: 'manager', displayName: 'Max Manager', password: PASSWORD };
// A box of 100 gloves; its GTIN with a valid check digit.
const GLOVES_GTIN = withCheckDigit('0950600013436');
const ISOLATED_GTIN = withCheckDigit('0950600013437');

const seeded = {};

const env = useStockroom({
  async prepare(server) {
    await server.createUser(ADMIN);
    await server.createUser(MANAGER_A);
    await server.createUser(MANAGER_B);
    const token = await server.createToken({ username: ADMIN.username });
    seeded.token = token;
    const api = (method, p, body) => server.api(token, method, p, body);
    const room = await api('POST', '/api/v1/locations', { name: 'Supply room', kind: 'room' });
    seeded.room = room.id;

    // The full flow: gloves below their reorder point, one preferred supplier.
    const gloves = await api('POST', '/api/v1/items', {
      code: 'GLV-M', name: 'Nitrile gloves M', unit: 'each', lot_tracked: true, expiry_tracked: true,
    });
    seeded.gloves = gloves.id;
    await api('POST', `/api/v1/items/${gloves.id}/packs`, { name: 'box', quantity: 100, gtin: GLOVES_GTIN });
    await api('PUT', `/api/v1/items/${gloves.id}/targets/${room.id}`, { reorder_point: 100, par_level: 300 });
    const supplier = await api('POST', '/api/v1/suppliers', { name: 'MedSupply', lead_time_days: 2 });
    await api('POST', '/api/v1/supplier-items', {
      supplier_id: supplier.id, item_id: gloves.id, supplier_code: 'NG-M-100', pack_size: 100, price_minor: 900, preferred: true,
    });
    await api('POST', '/api/v1/approval-rules', { kind: 'amount_over', amount_minor: 0, role: 'manager' });

    // The receive screen alone: an order already sent, seeded through the API.
    const swabs = await api('POST', '/api/v1/items', {
      code: 'SWB-1', name: 'Alcohol swabs', unit: 'each', lot_tracked: true, expiry_tracked: true,
    });
    seeded.swabs = swabs.id;
    await api('POST', `/api/v1/items/${swabs.id}/packs`, { name: 'box', quantity: 50, gtin: ISOLATED_GTIN });
    const other = await api('POST', '/api/v1/suppliers', { name: 'SwabCo', lead_time_days: 1 });
    const line = await api('POST', '/api/v1/supplier-items', {
      supplier_id: other.id, item_id: swabs.id, supplier_code: 'AS-50', pack_size: 50, price_minor: 300, preferred: true,
    });
    // Drafted and submitted by manager A; nobody approves their own order.
    const mia = await server.createToken({ username: MANAGER_A.username });
    const order = await server.api(mia, 'POST', '/api/v1/orders', {
      supplier_id: other.id, lines: [{ supplier_item_id: line.id, location_id: room.id, packs: 2 }],
    });
    seeded.sentOrder = order.order.id;
    await server.api(mia, 'POST', `/api/v1/orders/${order.order.id}/submit`, {});
    await api('POST', `/api/v1/orders/${order.order.id}/approve`, {});
    await api('POST', `/api/v1/orders/${order.order.id}/mark-sent`, {});
  },
});

/** The fieldset of the (first) row for `itemName` on the receive screen. */
function row(page, itemName) {
  return page.getByRole('group', { name: itemName, exact: true });
}

/** Types a scan into the focused scan box as a wedge scanner does, then Enter. */
async function scan(page, text) {
  const box = page.getByLabel('Scan a barcode');
  assert.ok(await box.evaluate((el) => el === document.activeElement), 'the scan box has the focus');
  await page.keyboard.type(text);
  await page.keyboard.press('Enter');
}

async function state(page) {
  return (await page.getByTestId('order-state').innerText()).trim();
}

async function levels(server, itemId) {
  const all = await server.api(seeded.token, 'GET', `/api/v1/stock-levels?item_id=${itemId}&per_page=200`);
  return all.items.filter((l) => l.quantity !== 0).map((l) => [l.lot, l.expiry, l.quantity]).sort();
}

e2e(env, 'the receive screen: a scan fills lot and expiry, a partial delivery is received', async (s) => {
  const page = await s.newPage();
  await login(page, MANAGER_B.username, MANAGER_B.password);
  await visit(page, `/orders/${seeded.sentOrder}/receive`);
  assert.match(await heading(page), /^Receive goods: PO-/);

  await scan(page, dataMatrix({ gtin: ISOLATED_GTIN, lot: 'S1', expiry: '2073-06-30' }));
  const swabs = row(page, 'Alcohol swabs');
  await page.waitForFunction(() => document.querySelector('[name="r0_lot"]').value === 'S1');
  assert.equal(await swabs.getByLabel('Lot').inputValue(), 'S1');
  assert.equal(await swabs.getByLabel('Expiry').inputValue(), '2073-06-30');
  assert.equal(await swabs.getByLabel(/^Quantity received/).inputValue(), '50', 'a box holds 50');
  assert.ok(await page.getByLabel('Scan a barcode').evaluate((el) => el === document.activeElement && el.value === ''),
    'the scan box is empty and ready for the next scan');

  // The same box scanned again adds another 50 to the same row.
  await scan(page, dataMatrix({ gtin: ISOLATED_GTIN, lot: 'S1', expiry: '2073-06-30' }));
  await page.waitForFunction(() => document.querySelector('[name="r0_quantity"]').value === '100');

  // Counted on the table, only 60 are really there.
  await swabs.getByLabel(/^Quantity received/).fill('60');
  await page.getByLabel('Delivery note number').fill('DN-100');
  await andWaitForNewPage(page, () => page.getByRole('button', { name: 'Receive goods' }).click());
  assert.equal(path(page), `/orders/${seeded.sentOrder}`);
  assert.equal(await flash(page), 'Received 60 each of Alcohol swabs, lot S1; order is now partially received.');
  assert.equal(await state(page), 'Partially received');
  assert.deepEqual(await levels(s.server, seeded.swabs), [['S1', '2073-06-30', 60]]);

  // Nothing filled in: said, and nothing is written.
  await visit(page, `/orders/${seeded.sentOrder}/receive`);
  await andWaitForNewPage(page, () => page.getByRole('button', { name: 'Receive goods' }).click());
  assert.match(await page.locator('main').innerText(), /Nothing to receive/);
  assert.deepEqual(await levels(s.server, seeded.swabs), [['S1', '2073-06-30', 60]]);
});

e2e(env, 'an order from suggestion to received, approved by a second manager, delivered in two lots', async (s) => {
  // Manager A drafts the suggested order and submits it.
  const a = await s.newPage();
  await login(a, MANAGER_A.username, MANAGER_A.password);
  await visit(a, '/orders/suggestions');
  await andWaitForNewPage(a, () => a.getByRole('button', { name: 'Create draft order' }).click());
  const orderPath = path(a);
  assert.match(orderPath, /^\/orders\/\d+$/);
  assert.equal(await state(a), 'Draft');
  await andWaitForNewPage(a, () => a.getByRole('button', { name: 'Submit for approval' }).click());
  assert.equal(await state(a), 'Waiting for approval');
  await logout(a);

  // Manager B approves it and records that it went out.
  const b = await s.newPage();
  await login(b, MANAGER_B.username, MANAGER_B.password);
  await visit(b, orderPath);
  await andWaitForNewPage(b, () => b.getByRole('button', { name: 'Approve' }).click());
  assert.equal(await state(b), 'Approved');
  await andWaitForNewPage(b, () => b.getByRole('button', { name: 'Mark as sent' }).click());
  assert.equal(await state(b), 'Sent');

  // First delivery: one box scanned, lot A1; 150 of the 300 counted in.
  await andWaitForNewPage(b, () => b.getByRole('link', { name: 'Receive goods' }).click());
  assert.equal(path(b), `${orderPath}/receive`);
  const gloves = row(b, 'Nitrile gloves M');
  assert.match(await gloves.innerText(), /outstanding 300 each/);
  await scan(b, dataMatrix({ gtin: GLOVES_GTIN, lot: 'A1', expiry: '2072-05-31' }));
  await b.waitForFunction(() => document.querySelector('[name="r0_lot"]').value === 'A1');
  assert.equal(await gloves.getByLabel('Lot').inputValue(), 'A1');
  assert.equal(await gloves.getByLabel('Expiry').inputValue(), '2072-05-31');
  assert.equal(await gloves.getByLabel(/^Quantity received/).inputValue(), '100');
  await gloves.getByLabel(/^Quantity received/).fill('150');
  await andWaitForNewPage(b, () => b.getByRole('button', { name: 'Receive goods' }).click());
  assert.equal(path(b), orderPath);
  assert.equal(await flash(b), 'Received 150 each of Nitrile gloves M, lot A1; order is now partially received.');
  assert.equal(await state(b), 'Partially received');

  // Second delivery: the rest, lot B2.
  await andWaitForNewPage(b, () => b.getByRole('link', { name: 'Receive goods' }).click());
  assert.match(await row(b, 'Nitrile gloves M').innerText(), /outstanding 150 each/);
  await scan(b, dataMatrix({ gtin: GLOVES_GTIN, lot: 'B2', expiry: '2072-08-31' }));
  await b.waitForFunction(() => document.querySelector('[name="r0_lot"]').value === 'B2');
  assert.equal(await row(b, 'Nitrile gloves M').getByLabel('Expiry').inputValue(), '2072-08-31');
  await row(b, 'Nitrile gloves M').getByLabel(/^Quantity received/).fill('150');
  await andWaitForNewPage(b, () => b.getByRole('button', { name: 'Receive goods' }).click());
  assert.equal(path(b), orderPath);
  assert.equal(await state(b), 'Received');

  // The stock is the sum of both deliveries, in both lots.
  assert.deepEqual(await levels(s.server, seeded.gloves), [
    ['A1', '2072-05-31', 150],
    ['B2', '2072-08-31', 150],
  ]);
});
