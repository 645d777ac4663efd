// The item list and item pages: finding an item by scanning its box,
// turning an unknown barcode into a catalog item, paging through a long
// catalog, and a stock form that explains what is missing.

import assert from 'node:assert/strict';

import { e2e, useStockroom } from './lib/harness.mjs';
import { andWaitForNewPage, flash, heading, isFocused, login, path, visit } from './lib/pages.mjs';
import { dataMatrix, withCheckDigit } from './lib/scan.mjs';

const PASSWORD = 'saline-flush-meadow-77';
const MANAGER = { username: 'max', role: 'manager', displayName: 'Max Manager', password: PASSWORD };
const NURSE = { username: 'nora', role: 'staff', displayName: 'Nora Nurse', password: PASSWORD };

// A box of saline ampoules the catalog knows, and a box of gloves it does not.
const SALINE_GTIN = withCheckDigit('0540000000001'); // GTIN-14
const GLOVES_EAN = withCheckDigit('400638133393'); // EAN-13, as printed on the box
const SWABS = 55;

/** Filled in by `prepare`. */
const fixture = { salineId: 0, categoryId: 0 };

const env = useStockroom({
  async prepare(server) {
    await server.createUser(MANAGER);
    await server.createUser(NURSE);
    const token = await server.createToken({ username: MANAGER.username });
    const room = await server.api(token, 'POST', '/api/v1/locations', { name: 'Treatment room', kind: 'room' });
    const saline = await server.api(token, 'POST', '/api/v1/items', {
      code: 'NACL-10', name: 'Sodium chloride 0.9% 10 ml', unit: 'ampoule', lot_tracked: false, expiry_tracked: false,
    });
    fixture.salineId = saline.id;
    await server.api(token, 'POST', `/api/v1/items/${saline.id}/packs`, { name: 'box', quantity: 20, gtin: SALINE_GTIN });
    await server.api(token, 'POST', '/api/v1/movements', { kind: 'receipt', item_id: saline.id, location_id: room.id, quantity: 40 });
    // A catalog longer than one page (50 items) in one category.
    const dressings = await server.api(token, 'POST', '/api/v1/categories', { name: 'Dressings' });
    fixture.categoryId = dressings.id;
    for (let i = 1; i <= SWABS; i += 1) {
      const n = String(i).padStart(2, '0');
      await server.api(token, 'POST', '/api/v1/items', { code: `SW-${n}`, name: `Swab pad ${n}`, unit: 'each', category_id: dressings.id });
    }
  },
});

/** Types a scan into the focused search box of /items and presses Enter; resolves once the answer is loaded. */
async function scanIntoSearch(page, code, expectPath) {
  await visit(page, '/items');
  assert.ok(await isFocused(page.getByLabel('Search or scan')), 'the search box has the focus');
  await page.keyboard.type(code);
  await Promise.all([page.waitForURL((u) => expectPath(u.pathname)), page.keyboard.press('Enter')]);
}

/** The item names in the list, in order. */
async function listedNames(page) {
  return (await page.getByTestId('items').locator('tbody tr td:first-child a').allTextContents()).map((t) => t.trim());
}

e2e(env, 'scanning a known box into the item search opens its item page', async (s) => {
  const page = await s.newPage();
  await login(page, NURSE.username, NURSE.password);

  // The DataMatrix on the box (GTIN, lot and expiry) …
  await scanIntoSearch(page, dataMatrix({ gtin: SALINE_GTIN, lot: 'B77', expiry: '2030-01-31' }), (p) => p !== '/items');
  assert.equal(path(page), `/items/${fixture.salineId}`);
  assert.equal(await heading(page), 'Sodium chloride 0.9% 10 ml');

  // … and the linear barcode beside it (the GTIN alone, without leading zero).
  await scanIntoSearch(page, SALINE_GTIN.slice(1), (p) => p !== '/items');
  assert.equal(path(page), `/items/${fixture.salineId}`);
});

e2e(env, 'an unknown barcode: a nurse is told to ask a manager; a manager creates the item from it and the barcode then finds it', async (s) => {
  // The nurse scans a box nobody has catalogued.
  const nurse = await s.newPage();
  await login(nurse, NURSE.username, NURSE.password);
  await scanIntoSearch(nurse, GLOVES_EAN, (p) => p === '/items');
  const nurseCard = nurse.getByTestId('unknown-gtin');
  assert.equal((await nurseCard.getByRole('heading').innerText()).trim(), `No item has the barcode ${GLOVES_EAN}`);
  assert.equal((await nurseCard.innerText()).replace(/\s+/g, ' ').trim(), `No item has the barcode ${GLOVES_EAN} Ask a practice manager to add it to the catalog.`);
  assert.equal(await nurseCard.getByRole('link').count(), 0, 'a nurse is offered no catalog links');
  assert.equal((await visit(nurse, `/items/new?gtin=0${GLOVES_EAN}`)).status(), 403, 'nor may a nurse open the new-item form');

  // The manager scans the same box.
  const page = await s.newPage();
  await login(page, MANAGER.username, MANAGER.password);
  await scanIntoSearch(page, GLOVES_EAN, (p) => p === '/items');
  const card = page.getByTestId('unknown-gtin');
  assert.equal((await card.getByRole('heading').innerText()).trim(), `No item has the barcode ${GLOVES_EAN}`);
  assert.equal(
    await card.getByRole('link', { name: 'Add it to an existing item' }).getAttribute('href'),
    `/items/attach?gtin=0${GLOVES_EAN}`,
  );
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/items/new'),
    card.getByRole('link', { name: 'Create an item with this barcode' }).click(),
  ]);
  assert.equal(await heading(page), 'New item');
  assert.equal(await page.getByLabel(/^Barcode \(GTIN or HIBCC\)/).inputValue(), `0${GLOVES_EAN}`, 'the barcode is filled in');
  assert.ok(await isFocused(page.getByLabel('Name')), 'the cursor waits on the name');
  await page.getByLabel('Name').fill('Nitrile gloves, size M');
  await page.getByLabel(/^Code/).fill('GLV-M');
  await page.getByLabel(/^Counted in/).fill('pair');
  await page.getByLabel('The barcode is on a pack of').fill('50');
  await Promise.all([
    page.waitForURL((u) => /^\/items\/\d+$/.test(u.pathname)),
    page.getByRole('button', { name: 'Save' }).click(),
  ]);
  const created = path(page);
  assert.equal(await flash(page), 'Created Nitrile gloves, size M.');
  assert.equal(await heading(page), 'Nitrile gloves, size M');
  assert.match(await page.getByTestId('packs').innerText(), new RegExp(`50 pair\\s+0${GLOVES_EAN}`));

  // Now the barcode finds the new item, for the nurse too.
  await scanIntoSearch(nurse, GLOVES_EAN, (p) => p !== '/items');
  assert.equal(path(nurse), created);
  assert.equal(await heading(nurse), 'Nitrile gloves, size M');
});

e2e(env, 'the item list shows 50 items a page and its Next and Previous links keep the filter', async (s) => {
  const page = await s.newPage();
  await login(page, NURSE.username, NURSE.password);
  await visit(page, '/items');
  await page.getByLabel('Category').selectOption({ label: 'Dressings' });
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/items' && u.searchParams.get('category') === String(fixture.categoryId)),
    page.getByRole('button', { name: 'Search' }).click(),
  ]);
  assert.equal((await page.getByTestId('result-count').innerText()).trim(), `${SWABS} items, page 1 of 2`);
  const first = await listedNames(page);
  assert.equal(first.length, 50);
  assert.equal(first[0], 'Swab pad 01');
  assert.equal(first[49], 'Swab pad 50');

  const pager = page.getByRole('navigation', { name: 'Pages' });
  assert.equal(await pager.getByRole('link', { name: 'Previous' }).count(), 0, 'no Previous link on page 1');
  await Promise.all([
    page.waitForURL((u) => u.searchParams.get('page') === '2'),
    pager.getByRole('link', { name: 'Next' }).click(),
  ]);
  assert.equal(new URL(page.url()).searchParams.get('category'), String(fixture.categoryId), 'the filter is kept');
  assert.equal((await page.getByTestId('result-count').innerText()).trim(), `${SWABS} items, page 2 of 2`);
  assert.deepEqual(await listedNames(page), ['Swab pad 51', 'Swab pad 52', 'Swab pad 53', 'Swab pad 54', 'Swab pad 55']);
  assert.equal(await page.getByLabel('Category').locator('option:checked').innerText(), 'Dressings');
  assert.equal(await pager.getByRole('link', { name: 'Next' }).count(), 0, 'no Next link on the last page');
  await Promise.all([
    page.waitForURL((u) => !u.searchParams.has('page')),
    pager.getByRole('link', { name: 'Previous' }).click(),
  ]);
  assert.deepEqual((await listedNames(page)).slice(0, 2), ['Swab pad 01', 'Swab pad 02']);
});

e2e(env, 'the adjust form refuses a missing reason, says so beside the field, and moves the focus to the problem', async (s) => {
  const page = await s.newPage();
  await login(page, NURSE.username, NURSE.password);
  await visit(page, `/items/${fixture.salineId}`);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/stock/adjust'),
    page.getByRole('link', { name: 'Adjust', exact: true }).click(),
  ]);
  assert.equal(await heading(page), 'Adjust stock');
  assert.equal(await page.getByLabel('Item code').inputValue(), 'NACL-10');
  await page.getByLabel('Where').selectOption({ label: 'Treatment room' });
  await page.getByLabel(/^Change/).fill('-2');
  const res = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/stock/adjust');
  await andWaitForNewPage(page, () => page.getByRole('button', { name: 'Adjust', exact: true }).click());
  assert.equal((await res).status(), 422);
  assert.equal(await page.locator('main .flash-success').count(), 0, 'nothing was recorded');

  // The summary has the focus (screen readers announce it) and links to the field.
  const summary = page.getByRole('alert');
  assert.ok(await isFocused(summary), 'the error summary has the focus');
  assert.equal((await summary.innerText()).replace(/\s+/g, ' ').trim(), 'Please correct the problem: Reason is required for an adjustment');
  const link = summary.getByRole('link', { name: 'Reason is required for an adjustment' });
  assert.equal(await link.getAttribute('href'), '#reason');

  // Beside the field, tied to it, and what was typed is kept.
  const reason = page.getByLabel('Reason');
  assert.equal(await reason.getAttribute('aria-invalid'), 'true');
  const describedBy = await reason.getAttribute('aria-describedby');
  assert.equal((await page.locator(`#${describedBy}`).innerText()).trim(), 'Reason is required for an adjustment');
  assert.ok(
    await page.locator(`#${describedBy}`).evaluate((el) => el.previousElementSibling?.id === 'reason'),
    'the message is right after the field',
  );
  assert.equal(await page.getByLabel(/^Change/).inputValue(), '-2');
  assert.equal(await page.getByLabel('Where').locator('option:checked').innerText(), 'Treatment room');

  // From the summary, the keyboard reaches the field: Tab to the link, Enter.
  await page.keyboard.press('Tab');
  assert.ok(await isFocused(link), 'Tab from the summary goes to its link');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.id === 'reason');
  await page.keyboard.type('counted again: two were broken');
  await andWaitForNewPage(page, () => page.keyboard.press('Enter'));
  assert.equal(await flash(page), 'Took 2 ampoules of Sodium chloride 0.9% 10 ml off at Treatment room.');
});
