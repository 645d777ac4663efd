#!/usr/bin/env bash
# Recovery after a mail outage: the time from the mail server's return to
# the last queued order delivered (see bench/recovery.py).
#
#   bench/recovery.sh [orders] [outage seconds]      (defaults 40 and 180)
#
# Builds the release binary if needed. Prints Markdown for docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x target/release/stockroom ] || cargo build --release --bin stockroom
exec python3 bench/recovery.py "$PWD/target/release/stockroom" "${1:-40}" "${2:-180}"
