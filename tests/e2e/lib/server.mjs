// Starts the real stockroom binary for one test file: a fresh data directory,
// a free port on 127.0.0.1, JSON logs. Also runs the binary's CLI against the
// same data directory (create-user), which is safe while the server runs.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const STOCKROOM_BIN =
  process.env.STOCKROOM_BIN || path.join(REPO_ROOT, 'target', 'debug', 'stockroom');

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const CLI_TIMEOUT_MS = 30_000;

// Every server started by this process, so that none outlives it even when a
// test file crashes before its `after` hook runs.
const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The environment for the binary: ours, minus any STOCKROOM_* of the caller's. */
function baseEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('STOCKROOM_')) env[k] = v;
  }
  return { ...env, ...extra };
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function healthy(baseURL) {
  try {
    const res = await fetch(`${baseURL}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

const SETUP_URL_RE = /(http:\/\/127\.0\.0\.1:\d+\/setup\?token=[A-Za-z0-9_-]+)/;

/**
 * Starts a server on a fresh data directory and waits until `/healthz` answers 200.
 * Returns { baseURL, setupURL, dataDir, logs(), errorLogs(), createUser(), stop() }.
 */
export async function startServer({ env = {} } = {}) {
  if (!fs.existsSync(STOCKROOM_BIN)) {
    throw new Error(
      `stockroom binary not found at ${STOCKROOM_BIN}; run \`cargo build --bin stockroom\` or set STOCKROOM_BIN`,
    );
  }
  let lastError;
  // The free port can be taken between our probe and the server's bind: retry.
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(env);
    } catch (e) {
      lastError = e;
      if (!/while binding|Address already in use/i.test(String(e.message))) break;
    }
  }
  throw lastError;
}

async function startOnce(extraEnv) {
  const dataDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stockroom-e2e-'));
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const child = spawn(STOCKROOM_BIN, ['serve'], {
    env: baseEnv({
      STOCKROOM_DATA_DIR: dataDir,
      STOCKROOM_LISTEN: `127.0.0.1:${port}`,
      STOCKROOM_LOG_FORMAT: 'json',
      // Browsers are closed before the server stops; nothing needs 30 s.
      STOCKROOM_HTTP_SHUTDOWN_TIMEOUT_SECS: '2',
      ...extraEnv,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);

  const lines = []; // { stream, text, json? }
  let setupURL = null;
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      resolve(exited);
    });
  });
  child.on('error', (e) => {
    exited = exited || { code: null, signal: null, error: e };
  });
  const collect = (stream, name) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let json;
        if (text.startsWith('{')) {
          try {
            json = JSON.parse(text);
          } catch {
            // not a log line
          }
        }
        lines.push({ stream: name, text, json });
        const m = !setupURL && !json ? SETUP_URL_RE.exec(text) : null;
        if (m) setupURL = m[1];
      }
    });
  };
  collect(child.stdout, 'stdout');
  collect(child.stderr, 'stderr');

  const dump = () => lines.map((l) => `[${l.stream}] ${l.text}`).join('\n');
  const deadline = Date.now() + START_TIMEOUT_MS;
  // On a fresh data directory the setup link is printed before the server
  // listens; wait for both.
  while (!(setupURL && (await healthy(baseURL)))) {
    if (exited) {
      throw new Error(
        `stockroom exited during start-up (${JSON.stringify(exited)}):\n${dump()}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `stockroom did not become healthy within ${START_TIMEOUT_MS} ms ` +
          `(setup URL ${setupURL ? 'seen' : 'not seen'}):\n${dump()}`,
      );
    }
    await sleep(50);
  }

  const server = {
    baseURL,
    setupURL,
    dataDir,
    port,
    /** Every line the server printed so far. */
    logs: () => lines.slice(),
    dump,
    /** JSON log lines at ERROR level (a server-side failure the page may hide). */
    errorLogs: () => lines.filter((l) => l.json && String(l.json.level).toUpperCase() === 'ERROR'),
    /** Runs `stockroom create-user` against this server's data directory. */
    createUser: (opts) => createUser(dataDir, opts),
    /** Runs `stockroom create-token`; resolves to the token. */
    createToken: (opts) => createToken(dataDir, opts),
    /** Calls the JSON API with a bearer token; resolves to the parsed body. */
    async api(token, method, apiPath, body) {
      const res = await fetch(`${baseURL}${apiPath}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CLI_TIMEOUT_MS),
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${apiPath} answered ${res.status}: ${JSON.stringify(json)}`);
      return json;
    },
    /** SIGTERM, then waits; SIGKILL if it hangs. Resolves to the exit status. */
    async stop({ keepData = false } = {}) {
      if (!exited) {
        child.kill('SIGTERM');
        let timer;
        const timeout = new Promise((r) => {
          timer = setTimeout(() => r('timeout'), STOP_TIMEOUT_MS);
        });
        const outcome = await Promise.race([exitPromise, timeout]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          child.kill('SIGKILL');
          await exitPromise;
          exited.timedOut = true;
        }
      }
      if (!keepData) await fsp.rm(dataDir, { recursive: true, force: true });
      return exited;
    },
  };
  return server;
}

/** Runs the stockroom CLI against `dataDir`; resolves to its stdout. */
function runCli(dataDir, args, stdin = '') {
  return new Promise((resolve, reject) => {
    const child = spawn(STOCKROOM_BIN, ['--data-dir', dataDir, ...args], {
      env: baseEnv({ STOCKROOM_LOG_FORMAT: 'json' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`stockroom ${args.join(' ')} timed out after ${CLI_TIMEOUT_MS} ms\n${err}`));
    }, CLI_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim());
      else reject(new Error(`stockroom ${args.join(' ')} exited ${code}:\n${out}${err}`));
    });
    child.stdin.end(stdin);
  });
}

/** `stockroom create-token`: resolves to the token text. */
export function createToken(dataDir, { username, name = 'e2e', scope = 'write' }) {
  return runCli(dataDir, ['create-token', '--username', username, '--name', name, '--scope', scope]);
}

/**
 * `echo PASSWORD | stockroom --data-dir DIR create-user ...`.
 * role: admin | manager | staff | viewer.
 */
export function createUser(dataDir, { username, role, password, displayName = '' }) {
  const args = ['create-user', '--username', username, '--role', role];
  if (displayName) args.push('--display-name', displayName);
  args.push('--password-stdin');
  return runCli(dataDir, args, `${password}\n`);
}
