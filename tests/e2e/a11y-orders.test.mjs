// Accessibility (axe-core), Content-Security-Policy and layout checks on the
// purchasing pages — orders in each state, the new-order form, reorder
// suggestions, approvals, receiving, printing, returns, credits and the
// practice details — as a practice manager (a second one for the approver's
// view, an administrator for the practice page), filled with realistic data,
// blank, and with form errors. Each page is checked at a desktop size and at a portrait
// tablet size (800 × 1280), where nothing may make the page scroll sideways:
// only wide tables scroll, inside their `.table-wrap`.

import assert from 'node:assert/strict';

import { checkPage, findings, formErrorProblems, horizontalOverflow, report } from './lib/a11y.mjs';
import { e2e, useStockroom } from './lib/harness.mjs';
import { andWaitForNewPage, heading, login, visit } from './lib/pages.mjs';
import { withCheckDigit } from './lib/scan.mjs';

const PASSWORD = 'gauze-roll-orchard-31';
const MANAGER = { username: 'meg', role: 'manager', displayName: 'Meg Manager', password: PASSWORD };
const APPROVER = { username: 'max', role: 'manager', displayName: 'Max Manager', password: PASSWORD };
const ADMIN = { username: 'ada', role: 'admin', displayName: 'Ada Admin', password: PASSWORD };

const DESKTOP = { width: 1280, height: 800 };
const TABLET = { width: 800, height: 1280 };

// Violations accepted for now, each matched narrowly (rule and element):
// `{ id, node: (n) => boolean, why }`. Empty: every serious or critical
// finding fails.
const KNOWN = [];

const GLOVES_GTIN = withCheckDigit('0950600013436');

/** An ISO date `days` from today (UTC). */
function inDays(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** Filled in by `prepare`. */
const ids = {};

const env = useStockroom({
  async prepare(server) {
    await server.createUser(MANAGER);
    await server.createUser(APPROVER);
    await server.createUser(ADMIN);
    const megToken = await server.createToken({ username: MANAGER.username });
    const maxToken = await server.createToken({ username: APPROVER.username });
    const adaToken = await server.createToken({ username: ADMIN.username });
    const meg = (method, url, body) => server.api(megToken, method, url, body);
    const max = (method, url, body) => server.api(maxToken, method, url, body);
    const ada = (method, url, body) => server.api(adaToken, method, url, body);

    const store = await meg('POST', '/api/v1/locations', { name: 'Store room', kind: 'room' });
    const room = await meg('POST', '/api/v1/locations', { name: 'Treatment room', kind: 'room' });
    const cabinet = await meg('POST', '/api/v1/locations', { parent_id: room.id, name: 'Cabinet A (dressings and injections)', kind: 'cabinet' });
    Object.assign(ids, { store: store.id, cabinet: cabinet.id });

    const gloves = await meg('POST', '/api/v1/items', {
      code: 'GLV-NIT-M', name: 'Nitrile examination gloves, powder-free, size M', unit: 'each', lot_tracked: true, expiry_tracked: true,
    });
    await meg('POST', `/api/v1/items/${gloves.id}/packs`, { name: 'box', quantity: 100, gtin: GLOVES_GTIN });
    const swabs = await meg('POST', '/api/v1/items', {
      code: 'SWB-NW-10', name: 'Non-woven swab 10 × 10 cm, pack of 100', unit: 'pack',
    });
    const lidocaine = await meg('POST', '/api/v1/items', {
      code: 'LID-1-5ML', name: 'Lidocaine hydrochloride 1% solution for injection, 5 ml ampoule', unit: 'ampoule', lot_tracked: true, expiry_tracked: true,
    });
    const sharps = await meg('POST', '/api/v1/items', { code: 'SHARPS-1L', name: 'Sharps container 1 l', unit: 'each' });
    Object.assign(ids, { gloves: gloves.id, swabs: swabs.id });

    // Below their reorder points: suggestions for one supplier, and one item nobody sells.
    await meg('PUT', `/api/v1/items/${gloves.id}/targets/${store.id}`, { reorder_point: 200, par_level: 600 });
    await meg('PUT', `/api/v1/items/${swabs.id}/targets/${cabinet.id}`, { reorder_point: 10, par_level: 60 });
    await meg('PUT', `/api/v1/items/${lidocaine.id}/targets/${cabinet.id}`, { reorder_point: 20, par_level: 50 });
    await meg('PUT', `/api/v1/items/${sharps.id}/targets/${room.id}`, { reorder_point: 2, par_level: 6 });
    await meg('POST', '/api/v1/movements', { kind: 'receipt', item_id: swabs.id, location_id: cabinet.id, quantity: 4 });

    const north = await meg('POST', '/api/v1/suppliers', {
      name: 'Northern Medical Supplies Ltd',
      contact_name: 'Priya Raman',
      email: 'orders.north-east@northern-medical-supplies.example',
      phone: '+44 191 496 0000',
      account_number: 'NMS-000481-PRACTICE',
      lead_time_days: 5,
    });
    const swabCo = await meg('POST', '/api/v1/suppliers', { name: 'SwabCo Wound Care', lead_time_days: 2 });
    ids.north = north.id;
    const line = (supplier, item, supplier_code, pack_size, price_minor) =>
      meg('POST', '/api/v1/supplier-items', { supplier_id: supplier.id, item_id: item.id, supplier_code, pack_size, price_minor, preferred: true });
    const glovesLine = await line(north, gloves, 'NMS-NG-M-100-PF', 100, 945);
    const lidoLine = await line(north, lidocaine, 'NMS-LID1-5ML-BX10', 10, 1250);
    const swabsLine = await line(swabCo, swabs, 'SC-NW10-100', 1, 385);

    // Older empty drafts, so that the list of orders has more than one page.
    for (let i = 0; i < 50; i += 1) await meg('POST', '/api/v1/orders', { supplier_id: i % 2 ? north.id : swabCo.id });

    // Every order waits for a practice manager's approval.
    await ada('POST', '/api/v1/approval-rules', { kind: 'amount_over', amount_minor: 0, role: 'manager' });

    // A draft with lines.
    const draft = await meg('POST', '/api/v1/orders', {
      supplier_id: north.id,
      note: 'Please deliver to the rear entrance before noon.',
      lines: [
        { supplier_item_id: glovesLine.id, location_id: store.id, packs: 4 },
        { supplier_item_id: lidoLine.id, location_id: cabinet.id, packs: 3 },
      ],
    });
    ids.draft = draft.order.id;

    // Submitted by Meg, waiting for approval.
    const waiting = await meg('POST', '/api/v1/orders', {
      supplier_id: swabCo.id, lines: [{ supplier_item_id: swabsLine.id, location_id: cabinet.id, packs: 20 }],
    });
    await meg('POST', `/api/v1/orders/${waiting.order.id}/submit`, {});
    ids.waiting = waiting.order.id;

    // Submitted by Max: waits for Meg's approval.
    const maxs = await max('POST', '/api/v1/orders', {
      supplier_id: north.id, lines: [{ supplier_item_id: lidoLine.id, location_id: cabinet.id, packs: 2 }],
    });
    await max('POST', `/api/v1/orders/${maxs.order.id}/submit`, {});

    // Approved, not sent yet.
    const approved = await meg('POST', '/api/v1/orders', {
      supplier_id: swabCo.id, lines: [{ supplier_item_id: swabsLine.id, location_id: cabinet.id, packs: 6 }],
    });
    await meg('POST', `/api/v1/orders/${approved.order.id}/submit`, {});
    await max('POST', `/api/v1/orders/${approved.order.id}/approve`, {});
    ids.approved = approved.order.id;

    // Sent, confirmed by the supplier, and partly delivered in two deliveries.
    const sent = await meg('POST', '/api/v1/orders', {
      supplier_id: north.id,
      lines: [
        { supplier_item_id: glovesLine.id, location_id: store.id, packs: 5 },
        { supplier_item_id: lidoLine.id, location_id: cabinet.id, packs: 2 },
      ],
    });
    const sentId = sent.order.id;
    ids.sent = sentId;
    await meg('POST', `/api/v1/orders/${sentId}/submit`, {});
    await max('POST', `/api/v1/orders/${sentId}/approve`, {});
    await max('POST', `/api/v1/orders/${sentId}/mark-sent`, {});
    await max('POST', `/api/v1/orders/${sentId}/acknowledge`, { expected_on: inDays(-2), supplier_reference: 'NMS-SO-2026-0004471' });
    const [glovesOrdered, lidoOrdered] = sent.lines;
    await meg('POST', `/api/v1/orders/${sentId}/receipts`, {
      delivery_note: 'DN-88213',
      lines: [{ order_line_id: glovesOrdered.id, quantity: 200, lot: 'NG2291A', expiry: inDays(700) }],
    });
    await meg('POST', `/api/v1/orders/${sentId}/receipts`, {
      delivery_note: 'DN-88307',
      note: 'One box crushed in transit.',
      lines: [
        { order_line_id: glovesOrdered.id, quantity: 100, damaged: 100, lot: 'NG2291B', expiry: inDays(760) },
        { order_line_id: lidoOrdered.id, quantity: 10, lot: 'L7781', expiry: inDays(400) },
      ],
    });

    // A cancelled draft, for the list.
    const cancelled = await meg('POST', '/api/v1/orders', { supplier_id: swabCo.id });
    await meg('POST', `/api/v1/orders/${cancelled.order.id}/cancel`, { reason: 'Duplicate of another order' });

    // A return with a credit expected, and a credit owed without a return.
    const ret = await meg('POST', '/api/v1/returns', {
      supplier_id: north.id,
      order_id: sentId,
      reason: 'Wrong size delivered (L instead of M)',
      note: 'Collected by the courier on Tuesday.',
      lines: [{ item_id: gloves.id, location_id: store.id, lot: 'NG2291A', expiry: inDays(700), quantity: 100 }],
      expected_credit_minor: 945,
    });
    ids.return = ret.id;
    await meg('POST', '/api/v1/credits', { supplier_id: swabCo.id, expected_minor: 1540, note: 'Price charged above the agreed list price' });
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
 * Visits each page — `{ url, heading, status?, fill?, submit?, nth?, answer?, expect?, label? }`;
 * `fill(page)` fills in fields, `submit` names a button to press then (the
 * `nth` of that name when there are several), to see the form again with its
 * errors (answered `answer`, 422 unless said), and `expect(page)` makes
 * further assertions on what is shown — and checks it at both sizes, and
 * that its error summary and messages lead to the fields. Fails at the end
 * with every problem found.
 */
async function checkPages(s, t, user, pages) {
  const page = await s.newPage();
  await login(page, user.username, user.password);
  const found = findings(KNOWN);
  const layout = [];
  const forms = [];
  for (const p of pages) {
    await page.setViewportSize(DESKTOP);
    const res = await visit(page, p.url);
    assert.equal(res.status(), p.status ?? 200, `${p.url} opens`);
    let label = p.label ?? p.url;
    if (p.fill) await p.fill(page);
    if (p.submit) {
      const answer = page.waitForResponse((r) => r.request().method() === 'POST');
      const button = page.getByRole('button', { name: p.submit, exact: true });
      await andWaitForNewPage(page, () => (p.nth === undefined ? button : button.nth(p.nth)).click());
      const expected = p.answer ?? 422;
      assert.equal((await answer).status(), expected, `${label}: "${p.submit}" with the form as it is: answered ${expected}`);
      if (expected === 422) assert.ok(await page.locator('.error-summary').first().isVisible(), `${label}: the error summary shows`);
      label = p.label ?? `${p.url} after "${p.submit}" (errors)`;
    }
    const h = await heading(page);
    if (p.heading instanceof RegExp) assert.match(h, p.heading, label);
    else assert.equal(h, p.heading, label);
    if (p.expect) await p.expect(page, label);
    await checkBothSizes(s, t, page, label, found, layout);
    for (const problem of await formErrorProblems(page)) forms.push(`${label}: ${problem}`);
  }
  report(t, found);
  assert.deepEqual(layout, [], `pages that scroll sideways at ${TABLET.width} px:\n${layout.join('\n')}`);
  assert.deepEqual(forms, [], `forms whose errors a keyboard or screen-reader user cannot follow:\n${forms.join('\n')}`);
}

const ORDER = /^Order PO-/;

e2e(env, 'order list, new order, orders in each state and their print view: no serious accessibility violation, no CSP violation, no sideways scrolling on a tablet', async (s, t) => {
  await checkPages(s, t, MANAGER, [
    {
      url: '/orders',
      heading: 'Orders',
      expect: async (page, label) => {
        const states = await page.getByTestId('orders').locator('tbody tr td:nth-child(3)').allInnerTexts();
        for (const state of ['Draft', 'Waiting for approval', 'Approved', 'Partially received', 'Cancelled']) {
          assert.ok(states.includes(state), `${label}: an order in the state ${state} is listed (${states.join(', ')})`);
        }
      },
    },
    {
      url: `/orders?number=PO&state=submitted&supplier=${ids.north}`,
      heading: 'Orders',
      label: 'order list, filtered',
      expect: async (page, label) => assert.match(await page.getByTestId('result-count').innerText(), /^1 order\b/, label),
    },
    {
      url: '/orders?page=2',
      heading: 'Orders',
      label: 'order list, second page',
      expect: async (page, label) => assert.ok(await page.getByRole('navigation', { name: 'Pages' }).isVisible(), `${label}: the pager shows`),
    },
    { url: '/orders?overdue=1', heading: 'Orders', label: 'order list, overdue only' },
    { url: '/orders?state=nonsense', heading: 'Orders', label: 'order list, filter not understood', status: 422 },
    { url: '/orders/new', heading: 'New order' },
    { url: '/orders/new', submit: 'Create draft', heading: 'New order', label: 'new order without a supplier (errors)' },
    { url: `/orders/${ids.draft}`, heading: ORDER, label: 'draft order with lines' },
    {
      url: `/orders/${ids.draft}`,
      label: 'draft order, a line added with a bad number of packs (errors)',
      fill: async (page) => {
        const form = page.getByTestId('add-line');
        await form.getByLabel('Product').selectOption({ index: 1 });
        await form.getByLabel('For location').selectOption({ index: 1 });
        await form.getByLabel('Packs').fill('0');
      },
      submit: 'Add line',
      heading: ORDER,
      expect: async (page, label) => {
        assert.equal(await page.locator('#line_packs').getAttribute('aria-invalid'), 'true', `${label}: the packs field is marked`);
      },
    },
    {
      url: `/orders/${ids.draft}`,
      label: 'draft order, a line changed to no packs (errors)',
      fill: (page) => page.getByTestId('order-lines').getByLabel(/^Packs/).first().fill('0'),
      // Each line's button is named after its line ("Change Swabs for Store").
      submit: /^Change /,
      nth: 0,
      heading: ORDER,
    },
    {
      url: `/orders/${ids.waiting}`,
      heading: ORDER,
      label: 'order waiting for approval, as the manager who submitted it',
      expect: async (page, label) => assert.equal(await page.getByTestId('order-state').innerText(), 'Waiting for approval', label),
    },
    {
      url: `/orders/${ids.approved}`,
      heading: ORDER,
      label: 'approved order, not sent yet',
      expect: async (page, label) => assert.ok(await page.getByRole('button', { name: 'Mark as sent', exact: true }).isVisible(), label),
    },
    {
      url: `/orders/${ids.sent}`,
      heading: ORDER,
      label: 'order sent and partly received, with its deliveries and history',
      expect: async (page, label) => {
        assert.equal(await page.getByTestId('order-state').innerText(), 'Partially received', label);
        assert.ok(await page.getByRole('heading', { name: 'Deliveries' }).isVisible(), `${label}: the deliveries show`);
        assert.ok(await page.getByTestId('order-timeline').isVisible(), `${label}: the history shows`);
      },
    },
    { url: `/orders/${ids.sent}/print`, heading: /^Purchase order PO-/, label: 'printed order' },
    { url: `/orders/${ids.draft}/print`, heading: /^Purchase order PO-/, label: 'printed draft' },
  ]);
});

e2e(env, 'an order waiting for approval, as the manager who may approve it: no serious accessibility violation, no sideways scrolling', async (s, t) => {
  await checkPages(s, t, APPROVER, [
    {
      url: `/orders/${ids.waiting}`,
      heading: ORDER,
      label: 'order waiting for approval, as its approver',
      expect: async (page, label) => assert.ok(await page.getByRole('button', { name: 'Approve', exact: true }).isVisible(), label),
    },
    {
      url: `/orders/${ids.waiting}`,
      label: 'rejecting with a blank reason (refused on the field)',
      fill: (page) => page.getByLabel('Reason for rejecting').fill('   '),
      submit: 'Reject',
      heading: ORDER,
      expect: async (page, label) => assert.match(await page.locator('#reject_reason-error').innerText(), /a reason is required to reject/, label),
    },
    { url: '/orders/approvals', heading: 'Waiting for my approval', label: 'approvals, as its approver' },
  ]);
});

e2e(env, 'reorder suggestions, approvals and receiving: no serious accessibility violation, no CSP violation, no sideways scrolling on a tablet', async (s, t) => {
  await checkPages(s, t, MANAGER, [
    {
      url: '/orders/suggestions',
      heading: 'Reorder suggestions',
      expect: async (page, label) => {
        assert.ok((await page.getByTestId('suggestion-group').count()) >= 2, `${label}: suggestions for a supplier and for no supplier`);
        assert.ok(await page.getByRole('heading', { name: 'No supplier' }).isVisible(), `${label}: the items nobody sells`);
      },
    },
    {
      url: '/orders/approvals',
      heading: 'Waiting for my approval',
      expect: async (page, label) => assert.equal(await page.getByTestId('approvals').locator('tbody tr').count(), 1, label),
    },
    { url: `/orders/${ids.sent}/receive`, heading: /^Receive goods: PO-/, label: 'receive, blank' },
    {
      url: `/orders/${ids.sent}/receive`,
      label: 'receive, an over-delivery not confirmed (errors)',
      fill: async (page) => {
        const row = page.getByRole('group', { name: 'Nitrile examination gloves, powder-free, size M', exact: true });
        await row.getByLabel(/^Quantity received/).fill('5000');
        await row.getByLabel('Lot').fill('NG2291C');
        await row.getByLabel('Expiry').fill(inDays(800));
      },
      submit: 'Receive goods',
      heading: /^Receive goods: PO-/,
      expect: async (page, label) => {
        assert.match(await page.getByTestId('over-delivery').innerText(), /over-delivery/, `${label}: the message shows`);
        assert.ok(await page.getByLabel('Confirm over-delivery').isVisible(), `${label}: the confirmation shows`);
        assert.equal(await page.getByLabel('Confirm over-delivery').isChecked(), false, label);
      },
    },
    {
      url: `/orders/${ids.sent}/receive`,
      label: 'receive, a second lot row added',
      submit: 'Add another lot of Nitrile examination gloves, powder-free, size M',
      answer: 200,
      heading: /^Receive goods: PO-/,
      expect: async (page, label) => assert.ok(await page.getByRole('group', { name: /another lot$/ }).isVisible(), label),
    },
    {
      url: `/orders/${ids.sent}/receive`,
      label: 'receive, an unknown barcode scanned (errors)',
      fill: (page) => page.getByLabel('Scan a barcode').fill('4006381333931'),
      submit: 'Look up',
      heading: /^Receive goods: PO-/,
    },
    { url: `/orders/${ids.waiting}/receive`, heading: /^Receive goods: PO-/, label: 'receive, an order that cannot take goods' },
  ]);
});

e2e(env, 'returns and credits: no serious accessibility violation, no CSP violation, no sideways scrolling on a tablet', async (s, t) => {
  await checkPages(s, t, MANAGER, [
    { url: '/returns', heading: 'Returns' },
    { url: `/returns?supplier_id=${ids.north}`, heading: 'Returns', label: 'returns, one supplier' },
    { url: '/returns/new', heading: 'Return goods to a supplier' },
    { url: '/returns/new', submit: 'Return these goods', heading: 'Return goods to a supplier', label: 'new return, nothing filled in (errors)' },
    {
      url: '/returns/new',
      label: 'new return, a line with errors',
      fill: async (page) => {
        await page.getByLabel('Supplier').selectOption({ label: 'Northern Medical Supplies Ltd' });
        await page.getByLabel('Reason').fill('Damaged packaging');
        await page.getByLabel('Line 1 item code').fill('NO-SUCH-ITEM');
        await page.getByLabel('Line 1 quantity').fill('3');
        await page.getByLabel('Expected credit', { exact: false }).fill('twelve');
      },
      submit: 'Return these goods',
      heading: 'Return goods to a supplier',
    },
    { url: `/returns/${ids.return}`, heading: /^Return / },
    { url: '/credits', heading: 'Credits' },
    { url: '/credits?open=1', heading: 'Credits', label: 'credits, open only' },
    { url: '/credits', submit: 'Record credit', heading: 'Credits', label: 'credit without a return, nothing filled in (errors)' },
    { url: '/credits', submit: 'Mark received', nth: 0, heading: 'Credits', label: 'credit marked received without a credit note (errors)' },
  ]);
});

e2e(env, 'practice details (administrators): no serious accessibility violation, no CSP violation, no sideways scrolling on a tablet', async (s, t) => {
  await checkPages(s, t, ADMIN, [
    { url: '/admin/practice', heading: 'Practice', label: 'practice details, blank' },
    {
      url: '/admin/practice',
      label: 'practice details, a bad e-mail address (errors)',
      fill: (page) => page.getByLabel('E-mail').fill('reception at example'),
      submit: 'Save details',
      heading: 'Practice',
    },
    { url: '/admin/practice', submit: 'Add rule', heading: 'Practice', label: 'approval rule without an amount (errors)', fill: (page) => page.getByLabel(/^Amount/).fill('') },
  ]);
});
