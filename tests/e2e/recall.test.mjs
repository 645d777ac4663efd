// A recall, done the way a practice manager does it at the stock-room
// tablet: keyboard and barcode scanner only. The manufacturer names a
// product and a lot; stockroom shows where that lot is and who used some,
// quarantines the rest so nobody can use it, then disposes of it.

import assert from 'node:assert/strict';

import { e2e, useStockroom } from './lib/harness.mjs';
import { andWaitForNewPage, flash, heading, isFocused, login, path, tabTo } from './lib/pages.mjs';
import { dataMatrix } from './lib/scan.mjs';

const PASSWORD = 'sterile-swab-lantern-42';
const MANAGER = { username: 'mia', role: 'manager', displayName: 'Mia Manager', password: PASSWORD };
const NURSE = { username: 'nina', role: 'staff', displayName: 'Nina Nurse', password: PASSWORD };

const GTIN = '09506000134352';
const RECALLED = { gtin: GTIN, lot: 'R2291', expiry: '2073-06-30' };
const SCAN = dataMatrix(RECALLED);

/** Filled in by `prepare`. */
const fixture = { itemId: 0, usedFrom: '', usedTo: '' };

/** A moment as the pages show it: UTC, to the minute ("2026-11-22 03:15"). */
function minute(date) {
  return date.toISOString().slice(0, 16).replace('T', ' ');
}

const env = useStockroom({
  async prepare(server) {
    await server.createUser(MANAGER);
    await server.createUser(NURSE);
    const manager = await server.createToken({ username: MANAGER.username });
    const nurse = await server.createToken({ username: NURSE.username });
    const room = await server.api(manager, 'POST', '/api/v1/locations', { name: 'Treatment room', kind: 'room' });
    const cabinet = await server.api(manager, 'POST', '/api/v1/locations', { parent_id: room.id, name: 'Cabinet A', kind: 'cabinet' });
    const store = await server.api(manager, 'POST', '/api/v1/locations', { name: 'Store room', kind: 'room' });
    const item = await server.api(manager, 'POST', '/api/v1/items', {
      code: 'LID-1', name: 'Lidocaine 1%', unit: 'ampoule', lot_tracked: true, expiry_tracked: true,
    });
    fixture.itemId = item.id;
    await server.api(manager, 'POST', `/api/v1/items/${item.id}/packs`, { name: 'box', quantity: 10, gtin: GTIN });
    const receive = (location, quantity, lot, expiry) =>
      server.api(manager, 'POST', '/api/v1/movements', { kind: 'receipt', item_id: item.id, location_id: location.id, quantity, lot, expiry });
    // The recalled lot in two places, and another lot the recall must not touch.
    await receive(cabinet, 20, RECALLED.lot, RECALLED.expiry);
    await receive(store, 30, RECALLED.lot, RECALLED.expiry);
    await receive(cabinet, 10, 'S100', '2073-09-30');
    // The nurse used 3 of the recalled lot before the recall came.
    fixture.usedFrom = minute(new Date());
    await server.api(nurse, 'POST', '/api/v1/movements', {
      kind: 'consumption', item_id: item.id, location_id: cabinet.id, quantity: -3, lot: RECALLED.lot, expiry: RECALLED.expiry,
    });
    fixture.usedTo = minute(new Date());
  },
});

/** The text of every body row of a table, cell by cell. */
async function rows(table) {
  return table.locator('tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.cells].map((td) => td.innerText.replace(/\s+/g, ' ').trim())),
  );
}

e2e(env, 'recall by scanner and keyboard: find the lot, quarantine it (a nurse can no longer use it), dispose of it', async (s) => {
  const page = await s.newPage();
  await login(page, MANAGER.username, MANAGER.password);
  assert.equal(path(page), '/');

  // Open Recall from the main navigation with the keyboard.
  const nav = page.getByRole('navigation', { name: 'Main' });
  await tabTo(page, nav.getByRole('link', { name: 'Recall', exact: true }));
  await Promise.all([page.waitForURL((u) => u.pathname === '/recall'), page.keyboard.press('Enter')]);
  assert.equal(await heading(page), 'Recall');

  // The barcode box waits for the scanner; it types the DataMatrix from a
  // recalled box, and Enter.
  const gtinBox = page.getByLabel('Product barcode (GTIN)');
  assert.ok(await isFocused(gtinBox), 'the barcode box has the focus');
  await page.keyboard.type(SCAN);
  await Promise.all([page.waitForURL((u) => u.pathname === '/recall' && u.searchParams.has('gtin')), page.keyboard.press('Enter')]);

  // The scan was split: the GTIN stays in its box, the lot is filled in.
  assert.equal(await gtinBox.inputValue(), GTIN);
  assert.equal(await page.getByLabel(/^Lot numbers/).inputValue(), RECALLED.lot);
  assert.equal((await page.getByTestId('recall-item').innerText()).trim(), 'Lidocaine 1%');

  // Where it is now: both locations, with quantities.
  assert.deepEqual(await rows(page.getByTestId('recall-here')), [
    ['Treatment room › Cabinet A', 'R2291', '2073-06-30', '17 ampoules', '0'],
    ['Store room', 'R2291', '2073-06-30', '30 ampoules', '0'],
  ]);
  // Where it went: the nurse's use, with who and when.
  const went = await rows(page.getByTestId('recall-went'));
  assert.equal(went.length, 1, `one use of the lot: ${JSON.stringify(went)}`);
  const [when, what, from, lot, quantity, who] = went[0];
  assert.deepEqual([what, from, lot, quantity], ['consumption', 'Treatment room › Cabinet A', 'R2291', '3 ampoules']);
  assert.equal(who, 'Nina Nurse (nina)', 'the nurse who used it, by name');
  assert.ok(
    when >= fixture.usedFrom && when <= fixture.usedTo,
    `used at ${when}, between ${fixture.usedFrom} and ${fixture.usedTo} (UTC)`,
  );

  // Quarantine everything that is left, with the keyboard.
  const quarantine = page.getByRole('button', { name: 'Quarantine 47 ampoules' });
  await tabTo(page, quarantine);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/recall' && u.searchParams.get('lots') === RECALLED.lot),
    page.keyboard.press('Enter'),
  ]);
  assert.equal(await flash(page), 'Quarantined 47 ampoules: they can no longer be used.');
  assert.deepEqual(
    (await rows(page.getByTestId('recall-here'))).map((r) => r[4]),
    ['17', '30'],
    'every unit of the lot is quarantined, in both places',
  );
  assert.equal(await quarantine.count(), 0, 'nothing is left to quarantine');

  // The nurse scans a box of that lot to use it: the page says it is
  // quarantined and fills in a lot that may be used instead.
  const nursePage = await s.newPage();
  await login(nursePage, NURSE.username, NURSE.password);
  await nursePage.goto('/stock/use');
  await nursePage.keyboard.type(SCAN);
  await Promise.all([nursePage.waitForURL((u) => u.searchParams.has('code')), nursePage.keyboard.press('Enter')]);
  assert.match(
    await nursePage.getByTestId('expiry-warning').innerText(),
    /^Lot R2291 is quarantined after a recall \(47 ampoules at Treatment room › Cabinet A, Store room\)\. Do not use it/
  );
  assert.equal(await nursePage.getByLabel('Lot').inputValue(), 'S100', 'the recalled lot is not filled in');
  assert.deepEqual(
    (await rows(nursePage.getByTestId('lots'))).map((r) => r[0]),
    ['S100'],
    'the quarantined lot is not offered among the lots in stock',
  );
  // Typed in by hand, it is refused.
  await nursePage.getByLabel('Lot').fill(RECALLED.lot);
  await nursePage.getByLabel('Expiry').fill(RECALLED.expiry);
  await nursePage.getByLabel('From').selectOption({ label: 'Treatment room › Cabinet A' });
  await nursePage.getByLabel(/^Quantity/).fill('1');
  const refused = nursePage.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/stock/use');
  await andWaitForNewPage(nursePage, () => nursePage.getByRole('button', { name: 'Use', exact: true }).click());
  assert.equal((await refused).status(), 422, 'using the quarantined lot is refused');
  assert.equal(path(nursePage), '/stock/use');
  assert.match(
    await nursePage.locator('#quantity-error').innerText(),
    /not enough stock: Lidocaine 1% at Treatment room › Cabinet A \(lot R2291\) has 0 ampoules available \(17 more quarantined after a recall, not to be used\)/,
  );
  assert.ok(await isFocused(nursePage.locator('.error-summary')), 'the refusal is announced: its summary has the focus');

  // Back at the recall page: dispose of the quarantined units as recalled.
  const dispose = page.getByRole('button', { name: 'Dispose of 47 ampoules as recalled' });
  await tabTo(page, dispose);
  await andWaitForNewPage(page, () => page.keyboard.press('Enter'));
  assert.equal(path(page), '/recall');
  assert.equal(await flash(page), 'Disposed of 47 ampoules as recalled.');
  assert.equal((await page.getByTestId('recall-none-here').innerText()).trim(), 'None of these lots is in stock.');
  const after = (await rows(page.getByTestId('recall-went'))).map(([, what, where, , units, by]) => [what, where, units, by]);
  assert.deepEqual(
    after.map((r) => r.slice(0, 3)),
    [
      ['consumption', 'Treatment room › Cabinet A', '3 ampoules'],
      ['disposal', 'Treatment room › Cabinet A', '17 ampoules'],
      ['disposal', 'Store room', '30 ampoules'],
    ],
  );
  assert.equal(after[1][3], 'Mia Manager (mia)', 'the manager disposed of it, by name');
  assert.equal(after[2][3], 'Mia Manager (mia)', 'the manager disposed of it, by name');

  // The item page, opened by scanning the box into the item search: no
  // stock of the lot anywhere, the other lot untouched, the disposals listed.
  await tabTo(page, nav.getByRole('link', { name: 'Items', exact: true }));
  await Promise.all([page.waitForURL((u) => u.pathname === '/items'), page.keyboard.press('Enter')]);
  assert.ok(await isFocused(page.getByLabel('Search or scan')), 'the search box has the focus');
  await page.keyboard.type(SCAN);
  await Promise.all([page.waitForURL((u) => u.pathname === `/items/${fixture.itemId}`), page.keyboard.press('Enter')]);
  assert.equal(await heading(page), 'Lidocaine 1%');
  assert.deepEqual(await rows(page.getByTestId('stock')), [['Treatment room › Cabinet A', 'S100', '2073-09-30', '10']]);
  const disposals = (await rows(page.getByTestId('movements')))
    .filter(([, what]) => what.startsWith('disposal'))
    .map(([, what, where, lotNo, change, by]) => [what, where, lotNo, change, by]);
  assert.deepEqual(disposals.sort(), [
    ['disposal (recalled)', 'Store room', 'R2291', '-30', 'Mia Manager'],
    ['disposal (recalled)', 'Treatment room › Cabinet A', 'R2291', '-17', 'Mia Manager'],
  ]);
});
