#!/usr/bin/env bash
# Item search and stock-movement throughput on a large practice.
#
#   bench/catalog.sh [scale] [seconds-per-run]      (defaults 50 and 15)
#
# Builds the release binary if needed, fills a fresh data directory with
# `stockroom demo --scale N` (50: about 15,000 items and over a million
# movements), starts the server on 127.0.0.1 and drives it with wrk:
#
# - the item search page /items?q=… (signed-in session) and the API
#   /api/v1/items?q=… (bearer token), 32 connections: req/s, p50, p99;
# - the order list, an order page, its API and receive screen (32
#   connections) and the reorder suggestions page (4 connections);
# - consumption POSTs to /api/v1/movements (one unit each, 8 connections)
#   against the single-row commit rate raw SQLite reaches on the same disk
#   with the same durability settings (bench/sqlite_commits.py), measured in
#   the same run: the ratio is what compares across machines.
#
# Prints Markdown for docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-50}
secs=${2:-15}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed: apt-get install curl" >&2; exit 1; }
[ -x target/release/stockroom ] || cargo build --release --bin stockroom
bin=$PWD/target/release/stockroom

work=$(mktemp -d -p "${BENCH_DIR:-$PWD/target}")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export STOCKROOM_DATA_DIR="$work/data" STOCKROOM_LOG_LEVEL=warn STOCKROOM_LOG_FORMAT=json
export STOCKROOM_SECURITY_AUTH_RATE_BURST=1000
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

gen_start=$(date +%s%N)
"$bin" demo --scale "$scale" >"$work/demo.txt"
gen_ms=$(( ($(date +%s%N) - gen_start) / 1000000 ))
echo "gauze-and-syringes-42" | "$bin" create-user --username bench --role admin --password-stdin >/dev/null
token=$("$bin" create-token --username bench --name bench --scope write 2>/dev/null)
# The demo's nurse: staff, so each request also reads the locations they may
# use (an admin may use every one without a read).
nurse=$("$bin" create-token --username nurse --name bench --scope write 2>/dev/null)

"$bin" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
until curl -sf "$base/healthz" >/dev/null; do sleep 0.01; done

jar="$work/cookies"
csrf=$(curl -s -c "$jar" -b "$jar" "$base/login" | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p')
curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "csrf_token=$csrf" \
  --data-urlencode username=bench --data-urlencode password=gauze-and-syringes-42 "$base/login"
session=$(awk '$6 == "stockroom_session" {print $7}' "$jar")
[ -n "$session" ] || { echo "sign-in failed" >&2; exit 1; }

api() { # method path [json]
  curl -sf -X "$1" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
    ${3:+--data "$3"} "$base$2"
}
counts=$(python3 - "$STOCKROOM_DATA_DIR/stockroom.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
one = lambda q: c.execute(q).fetchone()[0]
print(one("SELECT count(*) FROM items"), one("SELECT count(*) FROM stock_movements"))
PY
)
read -r n_items n_movements <<<"$counts"

# A bench item with plenty of stock, so consumption never runs out.
item=$(api POST /api/v1/items '{"code":"BENCH-1","name":"Bench swab","unit":"each"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
location=$(api GET "/api/v1/locations?per_page=200" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
for _ in 1 2 3 4 5; do
  api POST /api/v1/movements "{\"kind\":\"receipt\",\"item_id\":$item,\"location_id\":$location,\"quantity\":1000000}" >/dev/null
done
# The nurse consumes where they may.
nurse_location=$(curl -sf -H "Authorization: Bearer $nurse" "$base/api/v1/locations?per_page=200" | python3 -c 'import json,sys; print([l for l in json.load(sys.stdin)["items"] if l["active"]][-1]["id"])')
for _ in 1 2 3 4 5; do
  api POST /api/v1/movements "{\"kind\":\"receipt\",\"item_id\":$item,\"location_id\":$nurse_location,\"quantity\":1000000}" >/dev/null
done
consume_lua() { # file token location
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $2"
wrk.body = '{"kind":"consumption","item_id":$item,"location_id":$3,"quantity":-1}'
LUA
}
consume_lua "$work/consume.lua" "$token" "$location"
consume_lua "$work/consume-nurse.lua" "$nurse" "$nurse_location"

row() { # name path connections out
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$4")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$4")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$4")
  errors=$(awk '/Non-2xx or 3xx/ {print $5}' <<<"$4")
  printf '| %s | `%s` | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$rps" "$p50" "$p99" "${errors:-0}"
  last_rps=$rps
}
get() { # name path header [connections]
  # Two seconds first, not counted: the first search after start-up builds
  # the in-memory index, and the figures are for a server in use.
  local c=${4:-32}
  wrk -t2 -c"$c" -d2s -H "$3" "$base$2" >/dev/null
  row "$1" "$2" "$c" "$(wrk -t2 -c"$c" -d"${secs}s" --latency -H "$3" "$base$2")"
}

echo "stockroom $("$bin" --version | awk '{print $2}'), $(nproc) cores, demo --scale $scale: $n_items items, $n_movements movements (generated in $((gen_ms / 1000)).$(( (gen_ms % 1000) / 100 )) s), $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| what | path | connections | req/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|---|"
row "liveness (floor)" /healthz 32 "$(wrk -t2 -c32 -d"${secs}s" --latency "$base/healthz")"
get "item search page" "/items?q=glove" "Cookie: stockroom_session=$session"
get "item search page, narrow" "/items?q=syringe%205" "Cookie: stockroom_session=$session"
get "item search API" "/api/v1/items?q=glove" "Authorization: Bearer $token"
get "item search API, as the nurse" "/api/v1/items?q=glove" "Authorization: Bearer $nurse"
get "item search API, GTIN" "/api/v1/items?q=$(api GET '/api/v1/items/1' | python3 -c 'import json,sys; print(next(p["gtin"] for p in json.load(sys.stdin)["packs"] if p["gtin"]) )')" "Authorization: Bearer $token"
# Purchasing: the demo's partly delivered order (PO 3), the order list and
# the reorder suggestions (every item and location at or below its reorder
# point: a planning page, measured with 4 connections).
get "order list page" "/orders" "Cookie: stockroom_session=$session"
get "order page" "/orders/3" "Cookie: stockroom_session=$session"
get "order API" "/api/v1/orders/3" "Authorization: Bearer $token"
get "receive screen" "/orders/3/receive" "Cookie: stockroom_session=$session"
get "reorder suggestions page" "/orders/suggestions" "Cookie: stockroom_session=$session" 4
raw=$(python3 bench/sqlite_commits.py "$work" "$secs")
row "consumption POST" /api/v1/movements 8 "$(wrk -t2 -c8 -d"${secs}s" --latency -s "$work/consume.lua" "$base/api/v1/movements")"
consume=$last_rps
row "consumption POST, as the nurse" /api/v1/movements 8 "$(wrk -t2 -c8 -d"${secs}s" --latency -s "$work/consume-nurse.lua" "$base/api/v1/movements")"
consume_nurse=$last_rps
echo
python3 - "$consume" "$consume_nurse" "$raw" <<'PY'
import sys
consume, nurse, raw = (float(a) for a in sys.argv[1:])
print(f"Raw SQLite single-row commits on the same disk (WAL, synchronous=FULL): {raw:.0f}/s; "
      f"consumption POST: {consume:.0f}/s = {consume / raw:.2f} of raw, as the nurse "
      f"{nurse:.0f}/s = {nurse / raw:.2f} of raw (target: at least 0.50).")
PY
drift=$("$bin" check >/dev/null 2>&1 && echo "none" || echo "FOUND")
echo "Ledger check after the run: drift $drift."
