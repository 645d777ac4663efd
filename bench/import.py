#!/usr/bin/env python3
"""How long a big import holds the single writer.

    bench/import.py BINARY [rows]          (default 50000, the most a file may have)

Starts a fresh practice with one location and one item, then:

1. baseline: 100 small writes (a one-unit receipt through the API), one
   every 20 ms, and their latency with nothing else going on;
2. the import: an items CSV of `rows` rows sent with `?commit=true`, while
   the same small writes go on every 20 ms and `/readyz` is asked every
   100 ms. Reports the import's own time, the latency of the small writes
   during it (the longest one is how long a write waited behind the import)
   and every `/readyz` status seen.

Prints Markdown for docs/performance.md. Standard library only.
"""

import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from benchlib import Practice

BIN = sys.argv[1]
ROWS = int(sys.argv[2]) if len(sys.argv) > 2 else 50000


def gtin(body):
    """`body` with its GS1 check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def items_csv(rows):
    """A full catalog: category, tracking, the unit's GTIN, a box with its
    own GTIN, and a reorder point at the store, on every row."""
    head = ("code,name,category,unit,lot_tracked,expiry_tracked,gtin,"
            "pack_name,pack_quantity,pack_gtin,reorder_location,reorder_point,par_level\n")
    lines = []
    for n in range(rows):
        unit_gtin = gtin(f"400{n:09d}")
        box_gtin = gtin(f"1400{n:09d}")
        lines.append(f"IMP-{n:06d},Imported item {n},Category {n % 30},piece,"
                     f"{'yes' if n % 3 == 0 else 'no'},{'yes' if n % 3 == 0 else 'no'},{unit_gtin},"
                     f"box,10,{box_gtin},Store,5,20\n")
    return head + "".join(lines)


def main():
    work = tempfile.mkdtemp(prefix="import-bench-", dir=os.environ.get("BENCH_DIR"))
    with Practice(BIN, os.path.join(work, "data")) as practice:
        receipt = practice.stocked_item()

        def small_writes(stop, out, every=0.02, most=None):
            while not stop.is_set() and (most is None or len(out) < most):
                t = time.perf_counter()
                status, body = practice.call("POST", "/api/v1/movements", receipt)
                assert status == 201, body
                out.append((time.perf_counter() - t) * 1000)
                time.sleep(every)

        def readiness(stop, out):
            while not stop.is_set():
                try:
                    with urllib.request.urlopen(practice.base + "/readyz", timeout=30) as r:
                        out.append(r.status)
                except urllib.error.HTTPError as e:
                    out.append(e.code)
                time.sleep(0.1)

        baseline = []
        small_writes(threading.Event(), baseline, most=100)

        csv = items_csv(ROWS)
        stop = threading.Event()
        during, ready = [], []
        threads = [threading.Thread(target=small_writes, args=(stop, during)),
                   threading.Thread(target=readiness, args=(stop, ready))]
        for t in threads:
            t.start()
        time.sleep(0.3)
        t = time.perf_counter()
        status, body = practice.call("POST", "/api/v1/imports/items?commit=true",
                                     csv.encode(), "text/csv")
        took = time.perf_counter() - t
        time.sleep(0.3)
        stop.set()
        for t_ in threads:
            t_.join()
        assert status == 201, body[:500]

    version = practice.run("--version").stdout.split()[-1]
    print(f"stockroom {version}, {ROWS} rows ({len(csv) / 1e6:.1f} MB), {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}\n")
    print("| measure | value |\n|---|---|")
    print(f"| import request, upload to answer | {took:.2f} s |")
    print(f"| small write, nothing else going on: p50 / max ({len(baseline)} writes) | "
          f"{statistics.median(baseline):.1f} / {max(baseline):.1f} ms |")
    print(f"| small write during the import: p50 / max ({len(during)} writes) | "
          f"{statistics.median(during):.1f} / {max(during):.1f} ms |")
    print(f"| longest wait ÷ baseline p50 | {max(during) / statistics.median(baseline):.0f}× |")
    not_ready = sum(1 for s in ready if s != 200)
    print(f"| `/readyz` answers during the import | {len(ready)}, of which {not_ready} not 200 |")


if __name__ == "__main__":
    main()
