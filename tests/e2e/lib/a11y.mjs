// axe-core run inside the page. The engine is injected through the DevTools
// protocol (page.evaluate), which the page's Content-Security-Policy does not
// govern, so the page's own CSP stays exactly as served.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const BLOCKING_IMPACTS = ['serious', 'critical'];

/** Runs axe on the page as it is now; returns all violations. */
export async function runAxe(page) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      resultTypes: ['violations'],
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary })),
    }));
  });
}

export function describeViolations(violations) {
  return violations
    .map(
      (v) =>
        `- [${v.impact}] ${v.id}: ${v.help}\n` +
        v.nodes.map((n) => `    at ${n.target}: ${n.html}\n      ${String(n.summary).replace(/\n/g, '\n      ')}`).join('\n'),
    )
    .join('\n');
}

/** TAP diagnostics are one line each. */
export function diagnose(t, text) {
  for (const line of text.split('\n')) t.diagnostic(line);
}

/**
 * Collects a file's findings. `known` lists violations accepted for now,
 * each `{ id, node: (node) => boolean, why }`, matched narrowly (rule and
 * element) so that anything else still fails.
 */
export function findings(known = []) {
  return { known, blocking: [], accepted: [] };
}

function isKnown(found, violation, node) {
  return found.known.some((k) => k.id === violation.id && k.node(node));
}

/**
 * Checks the page as it is now: no CSP violation reported so far by the
 * browser, no page errors, and axe's serious and critical violations —
 * collected in `found` (not thrown) so that one run reports every page.
 * Lesser axe findings are printed as diagnostics.
 */
export async function checkPage(s, t, page, label, found) {
  // Wait for the deferred scripts to have run, so their CSP reports are in.
  await page.waitForLoadState('load');
  const csp = s.seen('csp', 'pageerror');
  assert.deepEqual(csp, [], `${label}: CSP violations or page errors:\n${JSON.stringify(csp, null, 2)}`);

  const violations = await runAxe(page);
  const other = violations.filter((v) => !BLOCKING_IMPACTS.includes(v.impact));
  if (other.length) diagnose(t, `${label}: non-blocking axe findings:\n${describeViolations(other)}`);
  for (const v of violations.filter((v) => BLOCKING_IMPACTS.includes(v.impact))) {
    const unknown = v.nodes.filter((n) => !isKnown(found, v, n));
    const known = v.nodes.filter((n) => isKnown(found, v, n));
    if (known.length) found.accepted.push({ label, url: page.url(), violation: { ...v, nodes: known } });
    if (unknown.length) found.blocking.push({ label, url: page.url(), violation: { ...v, nodes: unknown } });
  }
}

/** Fails on every blocking finding collected; prints the accepted ones. */
export function report(t, found) {
  for (const k of found.known) {
    const where = found.accepted.filter((f) => f.violation.id === k.id && f.violation.nodes.some(k.node));
    if (where.length) diagnose(t, `KNOWN ISSUE ${k.id} on ${where.map((w) => w.label).join(', ')}: ${k.why}`);
  }
  assert.equal(
    found.blocking.length,
    0,
    'serious/critical accessibility violations:\n' +
      found.blocking.map((b) => `${b.label} (${b.url}):\n${describeViolations([b.violation])}`).join('\n'),
  );
}

/**
 * What makes the page scroll sideways: `null` when nothing does, else a
 * description. Only `.table-wrap` boxes may scroll horizontally (wide tables
 * scroll inside them); the page itself and any other box must fit.
 */
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const describe = (el) => {
      const r = el.getBoundingClientRect();
      const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      const id = el.id ? `#${el.id}` : '';
      return `<${el.tagName.toLowerCase()}${id}${cls}> from x=${Math.round(r.left)} to x=${Math.round(r.right)}: ${el.outerHTML.slice(0, 100)}`;
    };
    const problems = [];
    const root = document.documentElement;
    const width = root.clientWidth;
    if (root.scrollWidth > width) {
      // The outermost elements reaching past the right edge, outside a table-wrap.
      const over = [...document.body.querySelectorAll('*')].filter(
        (el) => !el.closest('.table-wrap') && el.getBoundingClientRect().right > width + 0.5,
      );
      const outermost = over.filter((el) => !over.includes(el.parentElement));
      problems.push(
        `the page is ${root.scrollWidth} px wide in a ${width} px window; too wide:\n` +
          outermost.map((el) => `  ${describe(el)}`).join('\n'),
      );
    }
    for (const el of document.body.querySelectorAll('*')) {
      if (el.classList.contains('table-wrap')) continue;
      const ox = getComputedStyle(el).overflowX;
      if ((ox === 'auto' || ox === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
        problems.push(`a box scrolls sideways: ${describe(el)}`);
      }
    }
    return problems.length ? problems.join('\n') : null;
  });
}

/**
 * How a form shown again with errors fails keyboard and screen-reader users,
 * as a list of problems (empty when none): every link of the error summary
 * must lead to a field that takes the focus, and every field marked
 * `aria-invalid` must be described by its message (`aria-describedby`), so
 * that the message is read with the field and shown beside it.
 */
export async function formErrorProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const focusable = (el) =>
      el.matches('input:not([type="hidden"]), select, textarea, button, [tabindex]') && !el.disabled;
    for (const a of document.querySelectorAll('.error-summary a')) {
      const href = a.getAttribute('href') || '';
      const target = href.startsWith('#') ? document.getElementById(href.slice(1)) : null;
      if (!target) problems.push(`the summary link "${a.textContent.trim()}" leads nowhere (${href})`);
      else if (!focusable(target)) {
        problems.push(`the summary link "${a.textContent.trim()}" leads to <${target.tagName.toLowerCase()}>, which cannot take the focus`);
      }
    }
    for (const field of document.querySelectorAll('[aria-invalid="true"]')) {
      const name = field.id || field.getAttribute('name');
      const ids = (field.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
      const text = ids.map((id) => document.getElementById(id)?.textContent.trim() || '').join(' ');
      if (!text) problems.push(`the invalid field ${name} is not described by a message`);
    }
    return problems;
  });
}
