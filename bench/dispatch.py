#!/usr/bin/env python3
"""Sending orders by email: latency, throughput and what enqueuing costs.

    bench/dispatch.py BINARY [orders] [concurrency]     (defaults 500 and 2)

Starts a local SMTP sink (bench/benchlib.py: asyncio, accepts everything,
notes when each message arrived), a fresh `stockroom demo --scale 1` practice with
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

import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from benchlib import EmailingPractice, Sink

BIN = sys.argv[1]
ORDERS = int(sys.argv[2]) if len(sys.argv) > 2 else 500
CONCURRENCY = int(sys.argv[3]) if len(sys.argv) > 3 else 2


def main():
    sink = Sink()
    work = tempfile.mkdtemp(prefix="dispatch-bench-", dir=os.environ.get("BENCH_DIR"))
    practice = EmailingPractice(BIN, os.path.join(work, "data"), sink.port,
                                {"STOCKROOM_JOBS_CONCURRENCY": str(CONCURRENCY)})
    with practice:
        api, approved = practice.api, practice.approved

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


if __name__ == "__main__":
    main()
