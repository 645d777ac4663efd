// Some outcomes a test provokes on purpose are logged by stockroom at ERROR
// level: a "send test" of a supplier's channel that fails is a job that
// dies, and the worker reports every dead job as an error. `e2e(...)` fails
// on any ERROR line; `expectingErrors(env, isExpected)` gives it a view of
// the same server in which only the lines `isExpected` accepts (matched
// narrowly, on their JSON fields) no longer count as errors. Every other
// ERROR line still fails the test, and the test itself can count the
// accepted lines with `expectedErrors(server, isExpected)` to prove they
// happened.

/** The server's log lines, with the expected ERROR lines marked as such. */
function marked(lines, isExpected) {
  return lines.map((l) =>
    l.json && String(l.json.level).toUpperCase() === 'ERROR' && isExpected(l.json)
      ? { ...l, json: { ...l.json, level: 'ERROR (expected by the test)' } }
      : l,
  );
}

/** An `env` for `e2e(...)`: the same server and browser, expecting these errors. */
export function expectingErrors(env, isExpected) {
  return {
    get browser() {
      return env.browser;
    },
    get server() {
      const server = env.server;
      if (!server) return server;
      return { ...server, logs: () => marked(server.logs(), isExpected) };
    },
  };
}

/** The ERROR lines `isExpected` accepts, logged so far. */
export function expectedErrors(server, isExpected) {
  return server
    .logs()
    .filter((l) => l.json && String(l.json.level).toUpperCase().startsWith('ERROR') && isExpected(l.json))
    .map((l) => l.json);
}

/** A "send test" of a supplier's channel that failed because of `reason`. */
export function failedChannelTest(reason) {
  return (json) =>
    json.kind === 'supplier.dispatch_test' &&
    json.message === 'job failed for the last time: dead' &&
    String(json.error).includes(reason);
}
