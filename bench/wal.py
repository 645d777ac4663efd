#!/usr/bin/env python3
"""The WAL under sustained writes: does it stay bounded, and what do the
folds cost the writes?

    bench/wal.py BINARY [seconds] [writers]        (defaults 60 and 8)

A fresh practice with one item; `writers` client threads post one-unit
receipts as fast as they can for `seconds`, while two readers ask for the
stock levels and the WAL file's size is sampled every 20 ms. Reports
writes per second, the largest WAL seen, its size at the end and write
latency (p50 / p99 / max): a fold that stalled the writer shows in the
maximum.

Prints Markdown for docs/performance.md. Standard library only.
"""

import os
import statistics
import sys
import tempfile
import threading
import time

from benchlib import Practice

BIN = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 60.0
WRITERS = int(sys.argv[3]) if len(sys.argv) > 3 else 8


def main():
    work = tempfile.mkdtemp(prefix="wal-bench-", dir=os.environ.get("BENCH_DIR"))
    data = os.path.join(work, "data")
    wal = os.path.join(data, "stockroom.db-wal")
    with Practice(BIN, data) as practice:
        receipt = practice.stocked_item()
        stop = threading.Event()
        latencies = [[] for _ in range(WRITERS)]
        sizes = []

        def writer(out):
            while not stop.is_set():
                t = time.perf_counter()
                status, body = practice.call("POST", "/api/v1/movements", receipt)
                assert status == 201, body
                out.append((time.perf_counter() - t) * 1000)

        def reader():
            while not stop.is_set():
                status, _ = practice.call("GET", "/api/v1/stock-levels?per_page=200")
                assert status == 200

        def sampler():
            while not stop.is_set():
                try:
                    sizes.append(os.path.getsize(wal))
                except OSError:
                    pass
                time.sleep(0.02)

        threads = [threading.Thread(target=writer, args=(out,)) for out in latencies]
        threads += [threading.Thread(target=reader) for _ in range(2)]
        threads.append(threading.Thread(target=sampler))
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        end = os.path.getsize(wal)

    all_ms = sorted(x for out in latencies for x in out)
    q = lambda p: all_ms[min(len(all_ms) - 1, int(len(all_ms) * p))]
    version = practice.run("--version").stdout.split()[-1]
    print(f"stockroom {version}, {WRITERS} writers and 2 readers for {SECONDS:.0f} s, "
          f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}\n")
    print("| measure | value |\n|---|---|")
    print(f"| acknowledged writes | {len(all_ms)} ({len(all_ms) / elapsed:.0f}/s) |")
    print(f"| largest WAL seen / at the end | {max(sizes) / 2**20:.1f} / {end / 2**20:.1f} MiB |")
    print(f"| write latency p50 / p99 / max | {statistics.median(all_ms):.1f} / {q(0.99):.1f} / "
          f"{all_ms[-1]:.1f} ms |")


if __name__ == "__main__":
    main()
