#!/usr/bin/env bash
# The WAL under sustained writes: its largest size and the write latency
# while the writer folds it (see bench/wal.py).
#
#   bench/wal.sh [seconds] [writers]      (defaults 60 and 8)
#
# Builds the release binary if needed. Prints Markdown for docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x target/release/stockroom ] || cargo build --release --bin stockroom
exec python3 bench/wal.py "$PWD/target/release/stockroom" "${1:-60}" "${2:-8}"
