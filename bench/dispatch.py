#!/usr/bin/env python3
"""Sending orders by email: latency, throughput and what enqueuing costs.

    bench/dispatch.py BINARY [orders] [concurrency]     (defaults 500 and 2)

Starts a local SMTP sink (below: asyncio, accepts everything, notes when
each message arrived), a fresh `stockroom demo --scale 1` practice with
approval rules removed and one supplier set to email, then:

1. enqueue cost: 200 approved orders, alternately "send" (the order becomes
   queued and its dispatch job is inserted, one transaction) and
   "mark sent" (the order becomes sent, one transaction, no job), while the
   sink holds every connection so no sending competes: p50/p90 of each and
   the ratio;
2. enqueue-to-delivered latency on an idle queue: 50 orders one at a time,
   from the moment the "send" request starts to the moment the sink has the
   whole message (PDF and CSV attached): p50/p90/max;
3. throughput: `orders` orders sent by 8 client threads at once; messages
   per second from the first request to the last message at the sink, with
   `jobs.concurrency` = `concurrency`.

Prints Markdown for docs/performance.md. Standard library only.
"""

import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

BIN = sys.argv[1]
ORDERS = int(sys.argv[2]) if len(sys.argv) > 2 else 500
CONCURRENCY = int(sys.argv[3]) if len(sys.argv) > 3 else 2


class Sink:
    """An SMTP server on 127.0.0.1 that takes every message."""

    def __init__(self):
        self.arrived = {}  # subject -> time.time() when the 250 was sent
        self.count = 0
        self.hold = threading.Event()  # set: greet; clear: hold connections
        self.hold.set()
        self.loop = asyncio.new_event_loop()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.sock = sock
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._session, sock=self.sock, limit=1 << 20)
        )
        self.loop.run_until_complete(server.serve_forever())

    async def _session(self, reader, writer):
        while not self.hold.is_set():
            await asyncio.sleep(0.01)
        writer.write(b"220 sink ESMTP\r\n")
        subject = ""
        while True:
            line = await reader.readline()
            if not line:
                break
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                writer.write(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif cmd == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                while True:
                    data = await reader.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    if data.startswith(b"Subject:"):
                        subject = data[8:].strip().decode("utf-8", "replace")
                self.arrived[subject] = time.time()
                self.count += 1
                writer.write(b"250 OK\r\n")
            elif cmd.startswith(b"QUIT"):
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def main():
    sink = Sink()
    work = tempfile.mkdtemp(prefix="dispatch-bench-", dir=os.environ.get("BENCH_DIR"))
    data = os.path.join(work, "data")
    env = dict(
        os.environ,
        STOCKROOM_DATA_DIR=data,
        STOCKROOM_LOG_LEVEL="warn",
        STOCKROOM_LOG_FORMAT="json",
        STOCKROOM_SMTP_HOST="127.0.0.1",
        STOCKROOM_SMTP_PORT=str(sink.port),
        STOCKROOM_SMTP_SECURITY="none",
        STOCKROOM_SMTP_FROM="Practice Supplies <supplies@practice.test>",
        STOCKROOM_JOBS_CONCURRENCY=str(CONCURRENCY),
    )
    run = lambda *a, **kw: subprocess.run([BIN, *a], env=env, check=True, capture_output=True, text=True, **kw)
    run("demo", "--scale", "1")
    run("create-user", "--username", "bench", "--role", "admin", "--password-stdin",
        input="gauze-and-syringes-42\n")
    token = run("create-token", "--username", "bench", "--name", "bench", "--scope", "write").stdout.strip()
    db = sqlite3.connect(os.path.join(data, "stockroom.db"))
    db.execute("DELETE FROM approval_rules")
    supplier, supplier_item, location = db.execute(
        """SELECT si.supplier_id, si.id, (SELECT id FROM locations ORDER BY id LIMIT 1)
           FROM supplier_items si WHERE si.active = 1 ORDER BY si.id LIMIT 1"""
    ).fetchone()
    db.commit()
    db.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            try:
                urllib.request.urlopen(base + "/healthz")
                break
            except OSError:
                time.sleep(0.01)

        def api(method, path, body=None):
            req = urllib.request.Request(
                base + path, method=method,
                data=None if body is None else json.dumps(body).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(req) as res:
                return json.load(res)

        api("PUT", f"/api/v1/suppliers/{supplier}/dispatch",
            {"channel": "email", "to": ["orders@supplier.test"]})

        def approved():
            d = api("POST", "/api/v1/orders", {"supplier_id": supplier, "lines": [
                {"supplier_item_id": supplier_item, "location_id": location, "packs": 1}]})
            oid = d["order"]["id"]
            assert api("POST", f"/api/v1/orders/{oid}/submit", {})["state"] == "approved"
            return oid, d["order"]["number"]

        def timed(path):
            t = time.perf_counter()
            api("POST", path, {})
            return (time.perf_counter() - t) * 1000

        # 1. Enqueue cost, with sending held back.
        orders = [approved() for _ in range(200)]
        sink.hold.clear()
        send_ms, mark_ms = [], []
        for i, (oid, _) in enumerate(orders):
            if i % 2:
                send_ms.append(timed(f"/api/v1/orders/{oid}/send"))
            else:
                mark_ms.append(timed(f"/api/v1/orders/{oid}/mark-sent"))
        sink.hold.set()
        while sink.count < len(send_ms):
            time.sleep(0.05)

        # 2. Latency on an idle queue.
        latencies = []
        for oid, number in [approved() for _ in range(50)]:
            t = time.time()
            api("POST", f"/api/v1/orders/{oid}/send", {})
            while not any(number in s for s in list(sink.arrived)):
                time.sleep(0.001)
            got = next(v for s, v in list(sink.arrived.items()) if number in s)
            latencies.append((got - t) * 1000)

        # 3. Throughput.
        batch = [approved() for _ in range(ORDERS)]
        before = sink.count
        t0 = time.time()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda o: api("POST", f"/api/v1/orders/{o[0]}/send", {}), batch))
        enqueued = time.time() - t0
        while sink.count < before + ORDERS and time.time() - t0 < 300:
            time.sleep(0.01)
        last = max(sink.arrived[s] for s in list(sink.arrived) if any(n in s for _, n in batch[-50:]))
        elapsed = max(last, max(sink.arrived.values())) - t0
        delivered = sink.count - before

        version = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.split()[-1]
        q = lambda xs, p: statistics.quantiles(xs, n=100)[p - 1]
        print(f"stockroom {version}, {os.cpu_count()} cores, jobs.concurrency = {CONCURRENCY}, "
              f"{time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}")
        print()
        print("| measure | p50 | p90 | max |")
        print("|---|---|---|---|")
        print(f"| \"send\" request (order queued + job inserted) | {statistics.median(send_ms):.2f} ms | {q(send_ms, 90):.2f} ms | {max(send_ms):.2f} ms |")
        print(f"| \"mark sent\" request (order sent, no job) | {statistics.median(mark_ms):.2f} ms | {q(mark_ms, 90):.2f} ms | {max(mark_ms):.2f} ms |")
        print(f"| enqueue to delivered at the SMTP server, idle queue (50 orders) | {statistics.median(latencies):.0f} ms | {q(latencies, 90):.0f} ms | {max(latencies):.0f} ms |")
        print()
        print(f"Enqueue cost: \"send\" p50 is {statistics.median(send_ms) / statistics.median(mark_ms):.2f}× "
              f"\"mark sent\" p50 (target: one small insert more).")
        print(f"Throughput: {delivered} order emails (PDF + CSV attached) in {elapsed:.2f} s = "
              f"{delivered / elapsed:.0f} emails/s (target: at least 100/s); the {ORDERS} \"send\" requests "
              f"took {enqueued:.2f} s.")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
