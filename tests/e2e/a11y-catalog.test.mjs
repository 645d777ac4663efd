// Accessibility (axe-core), Content-Security-Policy and layout checks on the
// stock pages — dashboard, items, stock forms, recall, suppliers, locations,
// categories — as a practice manager (who sees every form), filled with
// realistic data, blank, and with form errors. Each page is checked at a
// desktop size and at a portrait tablet size (800 × 1280), where nothing may
// make the page scroll sideways: only wide tables scroll, inside their
// `.table-wrap`.

import assert from 'node:assert/strict';

import { checkPage, findings, formErrorProblems, horizontalOverflow, report } from './lib/a11y.mjs';
import { e2e, useStockroom } from './lib/harness.mjs';
import { andWaitForNewPage, heading, login, visit } from './lib/pages.mjs';
import { dataMatrix } from './lib/scan.mjs';

const PASSWORD = 'gauze-roll-orchard-31';
const MANAGER = { username: 'meg', role: 'manager', displayName: 'Meg Manager', password: PASSWORD };
const ADMIN = { username: 'ada', role: 'admin', displayName: 'Ada Admin', password: PASSWORD };

const DESKTOP = { width: 1280, height: 800 };
const TABLET = { width: 800, height: 1280 };

// Violations accepted for now, each matched narrowly (rule and element):
// `{ id, node: (n) => boolean, why }`. Empty: every serious or critical
// finding fails.
const KNOWN = [];

const GTIN = '09506000134352';
const UNKNOWN_GTIN = '4006381333931';

/** An ISO date `days` from today (UTC). */
function inDays(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}
const LOTS = {
  fresh: { lot: 'R2291', expiry: inDays(900) },
  soon: { lot: 'Q7', expiry: inDays(10) },
  expired: { lot: 'OLD1', expiry: inDays(-30) },
};

/** Filled in by `prepare`. */
const ids = {};

const env = useStockroom({
  async prepare(server) {
    await server.createUser(MANAGER);
    await server.createUser(ADMIN);
    const token = await server.createToken({ username: MANAGER.username });
    const api = (method, url, body) => server.api(token, method, url, body);

    const room = await api('POST', '/api/v1/locations', { name: 'Treatment room', kind: 'room' });
    const cabinet = await api('POST', '/api/v1/locations', { parent_id: room.id, name: 'Cabinet A', kind: 'cabinet' });
    const drawer = await api('POST', '/api/v1/locations', { parent_id: cabinet.id, name: 'Top drawer (injections)', kind: 'drawer' });
    const store = await api('POST', '/api/v1/locations', { name: 'Store room', kind: 'room' });
    const fridge = await api('POST', '/api/v1/locations', { parent_id: store.id, name: 'Vaccine fridge', kind: 'fridge' });
    await api('POST', `/api/v1/locations/${fridge.id}/active`, { active: false });
    Object.assign(ids, { cabinet: cabinet.id, drawer: drawer.id });

    const drugs = await api('POST', '/api/v1/categories', { name: 'Local anaesthetics' });
    const dressings = await api('POST', '/api/v1/categories', { name: 'Dressings' });
    await api('POST', '/api/v1/categories', { name: 'Discontinued', active: false });
    ids.dressings = dressings.id;

    const item = await api('POST', '/api/v1/items', {
      code: 'LID-1-5ML',
      name: 'Lidocaine hydrochloride 1% solution for injection, 5 ml ampoule',
      category_id: drugs.id,
      unit: 'ampoule',
      lot_tracked: true,
      expiry_tracked: true,
      notes: 'Keep below 25 °C. Check the recall notices from the wholesaler every Monday.',
    });
    ids.item = item.id;
    await api('POST', `/api/v1/items/${item.id}/packs`, { name: 'box', quantity: 10, gtin: GTIN });
    const receive = (location, quantity, { lot, expiry }) =>
      api('POST', '/api/v1/movements', { kind: 'receipt', item_id: item.id, location_id: location.id, quantity, lot, expiry });
    await receive(drawer, 20, LOTS.fresh);
    await receive(store, 30, LOTS.fresh);
    await receive(cabinet, 8, LOTS.soon);
    await receive(store, 5, LOTS.expired);
    await api('POST', '/api/v1/movements', { kind: 'consumption', item_id: item.id, location_id: drawer.id, quantity: -3, ...LOTS.fresh });
    await api('POST', '/api/v1/recalls/quarantine', { gtin: GTIN, lots: [LOTS.soon.lot] });
    await api('PUT', `/api/v1/items/${item.id}/targets/${drawer.id}`, { reorder_point: 30, par_level: 60 });

    const supplier = await api('POST', '/api/v1/suppliers', {
      name: 'Northern Medical Supplies Ltd',
      contact_name: 'Priya Raman',
      email: 'orders.north-east@northern-medical-supplies.example',
      phone: '+44 191 496 0000',
      account_number: 'NMS-000481-PRACTICE',
      lead_time_days: 5,
      notes: 'Orders before 2 pm arrive the next working day.',
    });
    ids.supplier = supplier.id;
    await api('POST', '/api/v1/supplier-items', {
      supplier_id: supplier.id, item_id: item.id, supplier_code: 'NMS-LID1-5ML-BX10', pack_size: 10, price_minor: 1250, preferred: true,
    });
    const old = await api('POST', '/api/v1/suppliers', { name: 'Corner Pharmacy (closed)' });
    await api('POST', `/api/v1/suppliers/${old.id}/active`, { active: false });

    // More than one page of items, so the list shows its pager.
    for (let i = 1; i <= 51; i += 1) {
      const n = String(i).padStart(2, '0');
      await api('POST', '/api/v1/items', { code: `SW-${n}`, name: `Non-woven swab 10 × 10 cm, pack of 100 (${n})`, unit: 'pack', category_id: dressings.id });
    }
    const gone = await api('POST', '/api/v1/items', { code: 'OLD-GAUZE', name: 'Gauze (old supplier)', unit: 'pack', category_id: dressings.id });
    await api('POST', `/api/v1/items/${gone.id}/active`, { active: false });
  },
});

/**
 * Checks the page as it is now at both sizes: axe and CSP at desktop and
 * tablet size; at tablet size also that nothing scrolls sideways.
 */
async function checkBothSizes(s, t, page, label, found, layout) {
  await page.setViewportSize(DESKTOP);
  await checkPage(s, t, page, `${label} (desktop)`, found);
  await page.setViewportSize(TABLET);
  await checkPage(s, t, page, `${label} (tablet)`, found);
  const overflow = await horizontalOverflow(page);
  if (overflow) layout.push(`${label} (${page.url()}) at ${TABLET.width} px:\n${overflow}`);
}

/**
 * Visits each page — `{ url, heading, status?, fill?, submit?, label? }`;
 * `fill(page)` fills in fields, `submit` names a button to press then, to see
 * the form again with its errors (answered 422) — and checks it at both
 * sizes, and that its error summary and messages lead to the fields. Fails at the end with every problem
 * found.
 */
async function checkPages(s, t, user, pages) {
  const page = await s.newPage();
  await login(page, user.username, user.password);
  const found = findings(KNOWN);
  const layout = [];
  const forms = [];
  for (const p of pages) {
    const res = await visit(page, p.url);
    assert.equal(res.status(), p.status ?? 200, `${p.url} opens`);
    let label = p.label ?? p.url;
    if (p.fill) await p.fill(page);
    if (p.submit) {
      const answer = page.waitForResponse((r) => r.request().method() === 'POST');
      await andWaitForNewPage(page, () => page.getByRole('button', { name: p.submit, exact: true }).click());
      assert.equal((await answer).status(), 422, `${label}: "${p.submit}" with the form as it is shows the errors`);
      assert.ok(await page.locator('.error-summary').isVisible(), `${label}: the error summary shows`);
      label = p.label ?? `${p.url} after "${p.submit}" (errors)`;
    }
    const h = await heading(page);
    if (p.heading instanceof RegExp) assert.match(h, p.heading, label);
    else assert.equal(h, p.heading, label);
    await checkBothSizes(s, t, page, label, found, layout);
    for (const problem of await formErrorProblems(page)) forms.push(`${label}: ${problem}`);
  }
  report(t, found);
  assert.deepEqual(layout, [], `pages that scroll sideways at ${TABLET.width} px:\n${layout.join('\n')}`);
  assert.deepEqual(forms, [], `forms whose errors a keyboard or screen-reader user cannot follow:\n${forms.join('\n')}`);
}

e2e(env, 'dashboard and item pages: no serious accessibility violation, no CSP violation, no sideways scrolling on a tablet', async (s, t) => {
  await checkPages(s, t, MANAGER, [
    { url: '/', heading: 'Hello, Meg Manager' },
    { url: '/items', heading: 'Items' },
    { url: `/items?category=${ids.dressings}&inactive=1&sort=code`, heading: 'Items', label: 'item list, filtered, with pager' },
    { url: '/items?expiring=30&sort=expiry', heading: 'Items', label: 'item list, expiring' },
    { url: '/items?low=1', heading: 'Items', label: 'item list, low stock' },
    { url: `/items?q=${UNKNOWN_GTIN}`, heading: 'Items', label: 'item list, unknown barcode' },
    { url: '/items?q=no+such+thing', heading: 'Items', label: 'item list, nothing found' },
    { url: '/items?category=x&location=y&expiring=soon&sort=price', heading: 'Items', label: 'item list, filters not understood', status: 422 },
    { url: `/items/${ids.item}`, heading: /^Lidocaine hydrochloride/ },
    { url: `/items/${ids.item}`, submit: 'Add pack', heading: /^Lidocaine hydrochloride/, label: 'item page, pack form with errors' },
    { url: `/items/${ids.item}`, submit: 'Set', heading: /^Lidocaine hydrochloride/, label: 'item page, reorder form with errors' },
    { url: `/items/${ids.item}/edit`, heading: /^Edit Lidocaine hydrochloride/ },
    { url: '/items/new', heading: 'New item' },
    { url: `/items/new?gtin=0${UNKNOWN_GTIN}`, heading: 'New item', label: 'new item from an unknown barcode' },
    { url: `/items/new?gtin=0${UNKNOWN_GTIN}`, submit: 'Save', heading: 'New item' },
    { url: `/items/attach?gtin=0${UNKNOWN_GTIN}`, heading: `Add the barcode ${UNKNOWN_GTIN} to an item` },
    { url: `/items/attach?gtin=0${UNKNOWN_GTIN}`, submit: 'Add barcode', heading: `Add the barcode ${UNKNOWN_GTIN} to an item` },
  ]);
});

e2e(env, 'stock forms: no serious accessibility violation, no CSP violation, no sideways scrolling on a tablet', async (s, t) => {
  const scan = (lot) => encodeURIComponent(dataMatrix({ gtin: GTIN, ...LOTS[lot] }));
  await checkPages(s, t, MANAGER, [
    { url: '/stock/use', heading: 'Use stock' },
    { url: `/stock/use?code=${scan('fresh')}`, heading: 'Use stock', label: 'use, scanned' },
    { url: `/stock/use?code=${scan('expired')}`, heading: 'Use stock', label: 'use, scanned an expired lot' },
    { url: `/stock/use?code=${UNKNOWN_GTIN}`, heading: 'Use stock', label: 'use, unknown barcode', status: 422 },
    { url: '/stock/use', submit: 'Use', heading: 'Use stock' },
    {
      url: `/stock/use?code=${scan('fresh')}`,
      label: 'use, an expired lot typed in without a reason',
      fill: async (page) => {
        await page.getByLabel('Lot').fill(LOTS.expired.lot);
        await page.getByLabel('Expiry').fill(LOTS.expired.expiry);
      },
      submit: 'Use',
      heading: 'Use stock',
    },
    { url: '/stock/receive', heading: 'Receive stock' },
    { url: `/stock/receive?code=${scan('fresh')}`, heading: 'Receive stock', label: 'receive, scanned' },
    { url: '/stock/receive', submit: 'Receive', heading: 'Receive stock' },
    { url: '/stock/adjust', heading: 'Adjust stock' },
    { url: '/stock/adjust?item=LID-1-5ML', heading: 'Adjust stock', label: 'adjust, item chosen' },
    { url: '/stock/adjust?item=LID-1-5ML', submit: 'Adjust', heading: 'Adjust stock' },
    { url: '/stock/dispose', heading: 'Dispose of stock' },
    { url: `/stock/dispose?code=${scan('expired')}`, heading: 'Dispose of stock', label: 'dispose, scanned' },
    { url: '/stock/dispose?item=LID-1-5ML', submit: 'Dispose', heading: 'Dispose of stock' },
    {
      // (A scanned expired lot comes with its reason chosen: a fresh one does not.)
      url: `/stock/dispose?code=${scan('fresh')}`,
      label: 'dispose, without a reason',
      fill: (page) => page.getByLabel(/^Quantity/).fill('1'),
      submit: 'Dispose',
      heading: 'Dispose of stock',
    },
    { url: '/stock/transfer', heading: 'Move stock' },
    { url: `/stock/transfer?code=${scan('fresh')}`, heading: 'Move stock', label: 'move, scanned' },
    { url: '/stock/transfer', submit: 'Move', heading: 'Move stock' },
  ]);
});

e2e(env, 'recall, supplier, location and category pages: no serious accessibility violation, no CSP violation, no sideways scrolling on a tablet', async (s, t) => {
  await checkPages(s, t, MANAGER, [
    { url: '/recall', heading: 'Recall' },
    { url: `/recall?gtin=${GTIN}&lots=${LOTS.fresh.lot}%2C+${LOTS.soon.lot}`, heading: 'Recall', label: 'recall, found' },
    { url: `/recall?gtin=${UNKNOWN_GTIN}&lots=X1`, heading: 'Recall', label: 'recall, unknown product', status: 422 },
    { url: '/suppliers', heading: 'Suppliers' },
    { url: `/suppliers/${ids.supplier}`, heading: 'Northern Medical Supplies Ltd' },
    { url: `/suppliers/${ids.supplier}`, submit: 'Add', heading: 'Northern Medical Supplies Ltd', label: 'supplier, new line with errors' },
    { url: `/suppliers/${ids.supplier}/edit`, heading: /Northern Medical Supplies Ltd/ },
    { url: '/suppliers/new', heading: 'New supplier' },
    { url: '/suppliers/new', submit: 'Save', heading: 'New supplier' },
    { url: '/locations', heading: 'Locations' },
    { url: '/locations', submit: 'Create', heading: 'Locations' },
    { url: `/locations/${ids.drawer}`, heading: /Top drawer \(injections\)$/ },
    { url: `/locations/${ids.cabinet}`, heading: /Cabinet A$/ },
    { url: `/locations/${ids.drawer}`, submit: 'Close this location', heading: /Top drawer \(injections\)$/, label: 'closing a location that holds stock' },
    { url: '/categories', heading: 'Categories' },
    { url: '/categories', submit: 'Create', heading: 'Categories' },
  ]);
});

e2e(env, 'a location page with its access list (administrators): no serious accessibility violation, no sideways scrolling', async (s, t) => {
  await checkPages(s, t, ADMIN, [{ url: `/locations/${ids.drawer}`, heading: /Top drawer \(injections\)$/, label: 'location page, as administrator' }]);
});
