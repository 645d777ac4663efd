#!/usr/bin/env python3
"""Recovery after a mail outage: how soon queued orders go out once the
mail server is back.

    bench/recovery.py BINARY [orders] [outage seconds]     (defaults 40 and 180)

A fresh `demo --scale 1` practice with one supplier on email, its mail
server down (nothing listens on the port). `orders` orders are sent; each
fails and waits out its back-off (default settings: 30 s, doubling). After
`outage seconds` the SMTP sink (bench/benchlib.py) starts on that port.
Reports the time from the server's return to the last order's message
arriving, how many messages arrived and how many distinct orders they
were (each exactly once), and how many attempts the outage cost.

Prints Markdown for docs/performance.md. Standard library only.
"""

import os
import sqlite3
import statistics
import sys
import tempfile
import time

from benchlib import EmailingPractice, Sink, free_port

BIN = sys.argv[1]
ORDERS = int(sys.argv[2]) if len(sys.argv) > 2 else 40
OUTAGE = float(sys.argv[3]) if len(sys.argv) > 3 else 180.0


def main():
    smtp_port = free_port()
    work = tempfile.mkdtemp(prefix="recovery-bench-", dir=os.environ.get("BENCH_DIR"))
    practice = EmailingPractice(BIN, os.path.join(work, "data"), smtp_port)
    with practice:
        db = sqlite3.connect(practice.db_path)
        orders = [practice.approved() for _ in range(ORDERS)]
        t_down = time.time()
        for oid, _ in orders:
            practice.api("POST", f"/api/v1/orders/{oid}/send", {})
        # Every order has failed at least once before the outage ends.
        while db.execute(
            "SELECT count(DISTINCT job_id) FROM job_attempts WHERE outcome = 'failed'"
        ).fetchone()[0] < ORDERS:
            time.sleep(0.1)
        time.sleep(max(0.0, OUTAGE - (time.time() - t_down)))
        attempts = db.execute("SELECT count(*) FROM job_attempts").fetchone()[0]

        sink = Sink(smtp_port)
        t_up = time.time()
        numbers = [n for _, n in orders]
        while time.time() - t_up < 600:
            got = [n for n in numbers if any(n in s for s in list(sink.arrived))]
            if len(got) == ORDERS:
                break
            time.sleep(0.02)
        arrivals = sorted(
            v - t_up for s, v in list(sink.arrived.items()) if any(n in s for n in numbers))
        distinct = len({n for n in numbers if any(n in s for s in list(sink.arrived))})
        sent = db.execute(
            "SELECT count(*) FROM purchase_orders WHERE id IN (%s) AND state = 'sent'"
            % ",".join(str(o) for o, _ in orders)).fetchone()[0]

    version = practice.run("--version").stdout.split()[-1]
    print(f"stockroom {version}, {os.cpu_count()} cores, {ORDERS} orders, mail server down "
          f"for {OUTAGE:.0f} s, {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}\n")
    print("| measure | value |\n|---|---|")
    print(f"| attempts made during the outage | {attempts} |")
    print(f"| server back → first order delivered | {arrivals[0]:.2f} s |")
    print(f"| server back → median order delivered | {statistics.median(arrivals):.2f} s |")
    print(f"| server back → last order delivered | {arrivals[-1]:.2f} s |")
    print(f"| messages at the server / distinct orders / orders `sent` | "
          f"{sink.count} / {distinct} / {sent} |")


if __name__ == "__main__":
    main()
