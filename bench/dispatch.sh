#!/usr/bin/env bash
# Sending orders by email through a local SMTP sink: enqueue cost,
# enqueue-to-delivered latency and emails per second (see bench/dispatch.py).
#
#   bench/dispatch.sh [orders] [jobs.concurrency]      (defaults 500 and 2)
#
# Builds the release binary if needed. Prints Markdown for docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x target/release/stockroom ] || cargo build --release --bin stockroom
exec python3 bench/dispatch.py "$PWD/target/release/stockroom" "${1:-500}" "${2:-2}"
