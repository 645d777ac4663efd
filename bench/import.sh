#!/usr/bin/env bash
# How long a 50,000-row import holds the single writer: small writes and
# /readyz during the import against small writes alone (see bench/import.py).
#
#   bench/import.sh [rows]      (default 50000)
#
# Builds the release binary if needed. Prints Markdown for docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x target/release/stockroom ] || cargo build --release --bin stockroom
exec python3 bench/import.py "$PWD/target/release/stockroom" "${1:-50000}"
