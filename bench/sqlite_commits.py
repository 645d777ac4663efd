#!/usr/bin/env python3
"""Raw SQLite single-row commit rate on a given directory's disk.

    bench/sqlite_commits.py DIR SECONDS

Opens a fresh database in DIR with the settings stockroom's writer uses
(WAL, synchronous=FULL, foreign keys on, no automatic checkpoints), then
commits one small INSERT per transaction for SECONDS and prints the rate
as commits/s. This is the ceiling a durable write path can reach on this
disk; stockroom's consumption POST is measured against it.
"""
import os
import sqlite3
import sys
import time

directory, seconds = sys.argv[1], float(sys.argv[2])
path = os.path.join(directory, "raw-commits.db")
for suffix in ("", "-wal", "-shm"):
    try:
        os.remove(path + suffix)
    except FileNotFoundError:
        pass
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = FULL")
db.execute("PRAGMA foreign_keys = ON")
db.execute("PRAGMA wal_autocheckpoint = 0")
db.execute(
    "CREATE TABLE t (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL, quantity INTEGER NOT NULL, at TEXT NOT NULL)"
)
n = 0
end = time.monotonic() + seconds
while time.monotonic() < end:
    db.execute("BEGIN IMMEDIATE")
    db.execute(
        "INSERT INTO t (item_id, quantity, at) VALUES (?, ?, ?)",
        (n % 100, -1, "2026-01-01T00:00:00.000Z"),
    )
    db.execute("COMMIT")
    n += 1
db.close()
for suffix in ("", "-wal", "-shm"):
    try:
        os.remove(path + suffix)
    except FileNotFoundError:
        pass
print(f"{n / seconds:.0f}")
