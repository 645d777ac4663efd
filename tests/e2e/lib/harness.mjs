// The shape of every e2e test file: one server and one browser per file
// (started in `before`, stopped in `after`), and `e2e(...)` tests that each
// open their own isolated browser contexts, are watched for page problems
// (CSP violations, uncaught errors, failed loads) and server errors, and
// leave a screenshot and the server log in test-results/ when they fail.

import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { launchBrowser, watchedContext } from './browser.mjs';
import { startServer } from './server.mjs';

export const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results');

/**
 * Registers the per-file server and browser; returns an object filled in
 * `before`. `prepare(server)` runs once the server is up (e.g. to create users
 * with the CLI): a separate top-level `before` is not guaranteed to run after
 * this one.
 */
export function useStockroom({ serverEnv = {}, prepare = null } = {}) {
  const env = { server: null, browser: null };
  before(
    async () => {
      env.server = await startServer({
        env: {
          // Every request comes from 127.0.0.1: the per-IP limit on login,
          // setup and password requests (burst 10) would otherwise decide
          // how many sign-ins one file may do. The limiter has its own tests.
          STOCKROOM_SECURITY_AUTH_RATE_BURST: '100',
          STOCKROOM_SECURITY_AUTH_RATE_PER_MINUTE: '600',
          // Most files sign administrators in with a password alone; the
          // second factor's own file (second-factor.test.mjs) runs with the
          // default, administrators.
          STOCKROOM_SECURITY_SECOND_FACTOR_REQUIRED_FOR: 'nobody',
          ...serverEnv,
        },
      });
      if (prepare) await prepare(env.server);
      env.browser = await launchBrowser();
    },
    { timeout: 60_000 },
  );
  after(
    async () => {
      await env.browser?.close().catch(() => {});
      if (env.server) {
        const status = await env.server.stop();
        // A clean stop is part of the contract: SIGTERM → exit 0.
        if (status.timedOut || status.code !== 0) {
          throw new Error(`stockroom did not stop cleanly: ${JSON.stringify(status)}\n${env.server.dump()}`);
        }
      }
    },
    { timeout: 30_000 },
  );
  return env;
}

class Session {
  constructor(env, name) {
    this.env = env;
    this.name = name;
    this.contexts = [];
    this.problems = [];
  }

  get server() {
    return this.env.server;
  }

  /** A fresh, isolated browser context (its own cookies) and a page in it. */
  async newPage() {
    const context = await watchedContext(this.env.browser, this.env.server.baseURL, this.problems);
    this.contexts.push(context);
    return context.newPage();
  }

  /** Problems of the given kinds seen so far in this test's pages. */
  seen(...kinds) {
    return this.problems.filter((p) => kinds.length === 0 || kinds.includes(p.kind));
  }

  async saveArtifacts(error) {
    const slug = this.name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80);
    const dir = path.join(RESULTS_DIR, slug);
    await fsp.mkdir(dir, { recursive: true });
    let n = 0;
    for (const context of this.contexts) {
      for (const page of context.pages()) {
        n += 1;
        await page.screenshot({ path: path.join(dir, `page-${n}.png`), fullPage: true, timeout: 5_000 }).catch(() => {});
        const html = await page.content().catch(() => '');
        await fsp.writeFile(path.join(dir, `page-${n}.html`), `<!-- ${page.url()} -->\n${html}`).catch(() => {});
      }
    }
    await fsp.writeFile(path.join(dir, 'server.log'), this.env.server?.dump() ?? '').catch(() => {});
    await fsp
      .writeFile(
        path.join(dir, 'failure.txt'),
        `${error && error.stack ? error.stack : error}\n\nPage problems:\n${JSON.stringify(this.problems, null, 2)}\n`,
      )
      .catch(() => {});
    return dir;
  }

  async close() {
    for (const context of this.contexts) await context.close().catch(() => {});
  }
}

function formatProblems(problems) {
  return problems.map((p) => `- ${p.kind} on ${p.url}: ${p.text}`).join('\n');
}

/**
 * An end-to-end test. `fn(session, t)` gets `session.newPage()` for fresh
 * browser contexts and `session.server`. After `fn`, the test also fails on
 * any page problem or server ERROR log line that happened during it.
 *
 * `knownBug: 'description'` marks a test that checks for an app bug which was
 * reported but is not fixed yet (a strict expected failure): the test passes
 * while its assertion fails, with the description printed, and fails once the
 * app is fixed, asking for the marker to be removed so the test guards the fix.
 * Only assertion failures count as the bug; timeouts and crashes still fail.
 */
export function e2e(env, name, fn, { timeout = 90_000, knownBug = null } = {}) {
  return test(name, { timeout }, async (t) => {
    assert.ok(env.server && env.browser, 'the server and browser started');
    const session = new Session(env, name);
    const logMark = env.server.logs().length;
    try {
      if (knownBug) {
        let bug = null;
        try {
          await fn(session, t);
        } catch (error) {
          if (!(error instanceof assert.AssertionError)) throw error;
          bug = error;
        }
        if (!bug) {
          assert.fail(
            `this known bug looks fixed: ${knownBug}\n` +
              'Remove the `knownBug` marker from this test (and any allowance made for it) so that it guards the fix.',
          );
        }
        t.diagnostic(`KNOWN BUG, reported, still present: ${knownBug}`);
        t.diagnostic(`  observed: ${String(bug.message).split('\n')[0]}`);
      } else {
        await fn(session, t);
      }
      assert.deepEqual(
        session.problems,
        [],
        `the browser saw problems on the pages of this test:\n${formatProblems(session.problems)}`,
      );
      const serverErrors = env.server
        .logs()
        .slice(logMark)
        .filter((l) => l.json && String(l.json.level).toUpperCase() === 'ERROR');
      assert.deepEqual(
        serverErrors.map((l) => l.text),
        [],
        'the server logged errors during this test',
      );
    } catch (error) {
      const dir = await session.saveArtifacts(error).catch(() => null);
      if (dir) t.diagnostic(`artifacts: ${path.relative(process.cwd(), dir)}`);
      throw error;
    } finally {
      await session.close();
    }
  });
}
