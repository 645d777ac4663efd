// Accessibility (axe-core), Content-Security-Policy and layout checks on the
// pages of sending orders: a supplier's page with its sending form refused
// for each channel (email, webhook, CSV file into a folder, EDI), with
// channels saved and a failed test shown, as a practice manager; and the
// page a supplier opens from an order's confirmation link, without an
// account — the form, the form with errors, the order confirmed, and the
// refusal of an altered or an expired link. Each page is checked at a
// desktop size and at a portrait tablet size (800 × 1280), where nothing
// may make the page scroll sideways: only wide tables scroll, inside their
// `.table-wrap`.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import nodePath from 'node:path';

import { checkPage, diagnose, findings, formErrorProblems, horizontalOverflow, report } from './lib/a11y.mjs';
import { e2e, useStockroom } from './lib/harness.mjs';
import { andWaitForNewPage, heading, login, visit } from './lib/pages.mjs';

const PASSWORD = 'lint-free-gauze-harbour-64';
// Where orders go is an administrator's to set, so the sending form is
// looked at as one.
const ADMIN = { username: 'meg', role: 'admin', displayName: 'Meg Admin', password: PASSWORD };

const DESKTOP = { width: 1280, height: 800 };
const TABLET = { width: 800, height: 1280 };

// Violations accepted for now, each matched narrowly (rule and element):
// `{ id, node: (n) => boolean, why }`. Empty: every serious or critical
// finding fails.
const KNOWN = [];

// Form problems (see `formErrorProblems`) accepted for now, each matched
// narrowly on its text.
// Every form's summary must lead to its fields; nothing is excused.
const KNOWN_FORM = [];

/** An ISO date `days` from today (UTC). */
function inDays(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

function sql(dataDir, statements) {
  assert.equal(spawnSync('sqlite3', ['--version']).status, 0, 'the sqlite3 command is needed (apt-get install sqlite3)');
  const out = spawnSync('sqlite3', ['-cmd', '.timeout 5000', nodePath.join(dataDir, 'stockroom.db'), statements], { encoding: 'utf8' });
  assert.equal(out.status, 0, `sqlite3 failed: ${out.stderr}`);
  return out.stdout.trim();
}

/** A confirmation link's token, signed as stockroom signs it (src/dispatch/confirm.rs). */
function confirmToken(key, orderId, expires) {
  const sig = crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(`confirm-order:${orderId}:${expires}`).digest('base64url');
  return `${orderId}.${expires}.${sig}`;
}

/** Filled in by `prepare`. */
const ids = {};

const env = useStockroom({
  async prepare(server) {
    await server.createUser(ADMIN);
    const token = await server.createToken({ username: ADMIN.username });
    const api = (method, url, body) => server.api(token, method, url, body);

    const north = await api('POST', '/api/v1/suppliers', {
      name: 'Northern Medical Supplies Ltd',
      contact_name: 'Priya Raman',
      email: 'orders.north-east@northern-medical-supplies.example',
      phone: '+44 191 496 0000',
      account_number: 'NMS-000481-PRACTICE',
      lead_time_days: 5,
    });
    ids.north = north.id;
    // Saved channels, each as its page shows it.
    const channel = async (name, settings) => {
      const s = await api('POST', '/api/v1/suppliers', { name, lead_time_days: 2 });
      await api('PUT', `/api/v1/suppliers/${s.id}/dispatch`, settings);
      return s.id;
    };
    ids.email = await channel('Email Dressings', {
      channel: 'email',
      to: ['orders.north-east@northern-medical-supplies.example', 'backorders@northern-medical-supplies.example'],
      cc: ['purchasing@practice.example'],
    });
    ids.webhook = await channel('Webhook Wound Care', {
      channel: 'webhook', url: 'https://orders.webhook-wound-care.example/stockroom/v1/purchase-orders', secret: 'a'.repeat(40),
    });
    ids.edi = await channel('EDI Surgical', {
      channel: 'edi_x12', sender_qualifier: 'ZZ', sender_id: 'PRACTICE01', receiver_qualifier: '01', receiver_id: '123456789',
      folder: 'edi-surgical-out', inbox: 'edi-surgical-in', test: true,
    });

    // The email supplier's last test failed (a dead test job, as the worker
    // leaves it, with the subject enqueueing gives it).
    const at = new Date(Date.now() - 600_000).toISOString();
    sql(server.dataDir, `
      INSERT INTO jobs (kind, payload, subject_type, subject_id, state, attempts, max_attempts, run_at, last_error, created_at, finished_at)
        VALUES ('supplier.dispatch_test', '{"supplier_id": ${ids.email}}', 'supplier', ${ids.email}, 'dead', 1, 1, '${at}',
                'email is not set up: the administrator sets smtp.host and smtp.from in the configuration', '${at}', '${at}');`);

    // An order sent to the supplier (no approval rule: submitting approves it).
    const room = await api('POST', '/api/v1/locations', { name: 'Treatment room', kind: 'room' });
    const gloves = await api('POST', '/api/v1/items', {
      code: 'GLV-NIT-M', name: 'Nitrile examination gloves, powder-free, size M', unit: 'each',
    });
    const lido = await api('POST', '/api/v1/items', {
      code: 'LID-1-5ML', name: 'Lidocaine hydrochloride 1% solution for injection, 5 ml ampoule', unit: 'ampoule',
    });
    const line = (item, supplier_code, pack_size, price_minor) =>
      api('POST', '/api/v1/supplier-items', { supplier_id: north.id, item_id: item.id, supplier_code, pack_size, price_minor, preferred: true });
    const glovesLine = await line(gloves, 'NMS-NG-M-100-PF', 100, 945);
    const lidoLine = await line(lido, 'NMS-LID1-5ML-BX10', 10, 1250);
    const order = await api('POST', '/api/v1/orders', {
      supplier_id: north.id,
      note: 'Please deliver to the rear entrance before noon.',
      lines: [
        { supplier_item_id: glovesLine.id, location_id: room.id, packs: 4 },
        { supplier_item_id: lidoLine.id, location_id: room.id, packs: 3 },
      ],
    });
    await api('POST', `/api/v1/orders/${order.order.id}/submit`, {});
    await api('POST', `/api/v1/orders/${order.order.id}/mark-sent`, {});
    ids.order = order.order.id;

    // The link signing key, as stockroom makes it when it first sends a link.
    const key = crypto.randomBytes(32).toString('base64url');
    ids.key = sql(server.dataDir, `
      INSERT OR IGNORE INTO settings (key, value, updated_at) VALUES ('links.signing_key', '${key}', '2026-01-01T00:00:00.000Z');
      SELECT value FROM settings WHERE key = 'links.signing_key';`);
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
 * Visits each page — `{ url, heading, status?, fill?, submit?, answer?, expect?, label? }`,
 * as in a11y-orders.test.mjs — signed in as `user` (or nobody, for `null`),
 * and checks it at both sizes, and that its error summary and messages lead
 * to the fields. Fails at the end with every problem found.
 */
async function checkPages(s, t, user, pages) {
  const page = await s.newPage();
  if (user) await login(page, user.username, user.password);
  const found = findings(KNOWN);
  const layout = [];
  const forms = [];
  const knownForms = [];
  for (const p of pages) {
    await page.setViewportSize(DESKTOP);
    const res = await visit(page, p.url);
    assert.equal(res.status(), p.status ?? 200, `${p.url} opens`);
    let label = p.label ?? p.url;
    if (p.fill) await p.fill(page);
    if (p.submit) {
      const answer = page.waitForResponse((r) => r.request().method() === 'POST');
      await andWaitForNewPage(page, () => page.getByRole('button', { name: p.submit, exact: true }).click());
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
    for (const problem of await formErrorProblems(page)) {
      const known = KNOWN_FORM.find((k) => k.match(problem));
      if (known) knownForms.push(`KNOWN ISSUE on ${label}: ${problem}: ${known.why}`);
      else forms.push(`${label}: ${problem}`);
    }
  }
  if (knownForms.length) diagnose(t, knownForms.join('\n'));
  report(t, found);
  assert.deepEqual(layout, [], `pages that scroll sideways at ${TABLET.width} px:\n${layout.join('\n')}`);
  assert.deepEqual(forms, [], `forms whose errors a keyboard or screen-reader user cannot follow:\n${forms.join('\n')}`);
}

/** Chooses a channel and fills the sending form's fields, found by their labels. */
function sending(channel, fields) {
  return async (page) => {
    const form = page.getByTestId('dispatch-form');
    await form.getByLabel('Sending channel').selectOption(channel);
    for (const [name, value] of Object.entries(fields)) await form.getByLabel(name).fill(value);
  };
}

/** Asserts that exactly these fields are marked invalid (by id). */
function invalid(...fieldIds) {
  return async (page, label) => {
    const marked = await page.locator('[aria-invalid="true"]').evaluateAll((els) => els.map((e) => e.id));
    assert.deepEqual(marked.sort(), [...fieldIds].sort(), `${label}: the fields marked invalid`);
    assert.equal(await page.getByTestId('dispatch-channel').innerText(), 'Placed by phone or portal, marked as sent by hand', `${label}: nothing saved`);
  };
}

const SAVE = 'Save how orders are sent';

e2e(env, 'a supplier\'s sending form, refused for each channel and saved: no serious accessibility violation, no CSP violation, no sideways scrolling on a tablet', async (s, t) => {
  const supplier = `/suppliers/${ids.north}`;
  await checkPages(s, t, ADMIN, [
    { url: supplier, heading: 'Northern Medical Supplies Ltd', label: 'supplier page, orders placed by hand' },
    {
      url: supplier,
      label: 'sending form, email with bad addresses (errors)',
      fill: sending('email', { 'Send to (the supplier\'s order desk; up to 5 addresses, separated by commas)': 'orders at northern, desk@', 'Copy to (optional, e.g. your own purchasing mailbox)': 'me@' }),
      submit: SAVE,
      heading: 'Northern Medical Supplies Ltd',
      expect: invalid('email_to', 'email_cc'),
    },
    {
      url: supplier,
      label: 'sending form, webhook with a plain http address and a short secret (errors)',
      fill: sending('webhook', { 'Address (https://…)': 'http://orders.northern-medical-supplies.example/stockroom', 'Signing secret (32 to 256 characters, agreed with the supplier)': 'short' }),
      submit: SAVE,
      heading: 'Northern Medical Supplies Ltd',
      expect: async (page, label) => {
        await invalid('url', 'secret')(page, label);
        assert.equal(await page.locator('#secret').inputValue(), '', `${label}: the secret is not sent back`);
      },
    },
    {
      url: supplier,
      label: 'sending form, CSV with a bad folder and column (errors)',
      fill: sending('csv_folder', {
        'Folder (for CSV files: a folder name inside the configured folder root)': '../northern medical',
        'Columns (for CSV files, separated by commas)': 'order_number, colour, line_total',
      }),
      submit: SAVE,
      heading: 'Northern Medical Supplies Ltd',
      expect: invalid('folder', 'columns'),
    },
    {
      url: supplier,
      label: 'sending form, EDI with a bad qualifier, no ids and the inbox equal to the folder (errors)',
      fill: sending('edi_x12', {
        'Our id qualifier': 'Q',
        'Folder (for CSV files: a folder name inside the configured folder root)': 'edi-north',
        'Inbox folder (where they leave 855 acknowledgments and 856 ship notices; optional)': 'edi-north',
      }),
      submit: SAVE,
      heading: 'Northern Medical Supplies Ltd',
      expect: invalid('sender_qualifier', 'sender_id', 'receiver_id', 'inbox'),
    },
    {
      url: `/suppliers/${ids.email}`,
      heading: 'Email Dressings',
      label: 'email saved, its last test failed',
      expect: async (page, label) => {
        assert.match(await page.getByTestId('dispatch-test').innerText(), /^Last test failed .*: email is not set up/, label);
        assert.ok(await page.getByRole('button', { name: 'Send a test through this channel' }).isVisible(), label);
      },
    },
    {
      url: `/suppliers/${ids.webhook}`,
      heading: 'Webhook Wound Care',
      label: 'webhook saved, its secret stored',
      expect: async (page, label) =>
        assert.match(await page.locator('label[for="secret"]').innerText(), /one is stored and never shown/, label),
    },
    {
      url: `/suppliers/${ids.edi}`,
      heading: 'EDI Surgical',
      label: 'EDI saved, in test mode',
      expect: async (page, label) => assert.ok(await page.getByLabel('Mark files as test data').isChecked(), label),
    },
  ]);
});

e2e(env, 'the supplier\'s confirmation page — the form, its errors, the order confirmed — and a refused link: no serious accessibility violation, no CSP violation, no sideways scrolling on a tablet', async (s, t) => {
  const now = Math.floor(Date.now() / 1000);
  const link = `/supplier/confirm/${confirmToken(ids.key, ids.order, now + 30 * 86_400)}`;
  const [, expires, sig] = link.split('/').pop().split('.');
  const PO = /^Purchase order PO-/;
  // No one signed in: the supplier has no account.
  await checkPages(s, t, null, [
    {
      url: link,
      heading: PO,
      label: 'confirmation page, the form',
      expect: async (page, label) => assert.ok(await page.getByTestId('confirm-form').isVisible(), label),
    },
    {
      url: link,
      label: 'confirmation page, no date (errors)',
      fill: (page) => page.getByLabel(/^Note to the practice/).fill('Back-ordered until next week.'),
      submit: 'Confirm the order',
      heading: PO,
      expect: async (page, label) => {
        assert.equal(await page.locator('#expected_on').getAttribute('aria-invalid'), 'true', label);
        assert.equal(await page.getByLabel(/^Note to the practice/).inputValue(), 'Back-ordered until next week.', `${label}: the note is kept`);
      },
    },
    {
      url: link,
      label: 'confirmation page, a date in the past (errors)',
      fill: (page) => page.getByLabel('Expected delivery date').fill(inDays(-3)),
      submit: 'Confirm the order',
      heading: PO,
      expect: async (page, label) =>
        assert.equal(await page.locator('#expected_on-error').innerText(), 'Expected delivery date: must not be in the past', label),
    },
    {
      url: link,
      label: 'confirmation page, the order confirmed',
      fill: async (page) => {
        await page.getByLabel('Expected delivery date').fill(inDays(6));
        await page.getByLabel(/^Your order reference/).fill('NMS-SO-2026-0004471');
        await page.getByLabel(/^Note to the practice/).fill('The lidocaine comes in a separate cool box.');
      },
      submit: 'Confirm the order',
      answer: 200,
      heading: PO,
      expect: async (page, label) => {
        assert.match(await page.getByTestId('confirm-notice').innerText(), /is confirmed, delivery expected on /, label);
        assert.equal(await page.getByTestId('confirm-form').count(), 0, label);
      },
    },
    {
      url: `/supplier/confirm/${ids.order + 1}.${expires}.${sig}`,
      status: 403,
      heading: 'Order confirmation',
      label: 'link refused, altered',
      expect: async (page, label) => assert.match(await page.getByTestId('link-refused').innerText(), /^This link is not valid/, label),
    },
    {
      url: `/supplier/confirm/${confirmToken(ids.key, ids.order, now - 86_400)}`,
      status: 410,
      heading: 'Order confirmation',
      label: 'link refused, expired',
      expect: async (page, label) => assert.match(await page.getByTestId('link-refused').innerText(), /^This link has expired/, label),
    },
  ]);
});
