#!/usr/bin/env bash
# Two stockroom binaries side by side on copies of the same practice.
#
#   bench/versus.sh BASE_BIN NEW_BIN [scale] [seconds-per-run] [rounds]
#                                           (defaults 50, 5 and 3)
#
# Generates one demo practice (`demo --scale N`) with the new binary, copies
# its data directory for the base, starts both servers on 127.0.0.1 and, for
# each endpoint, alternates wrk runs (base, new, base, new …) so that the
# machine's noise falls on both alike. Reads as the admin and as the demo's
# nurse (staff: a user whose requests also read the locations they may use),
# the item search and item pages as the admin;
# consumption POSTs as both. Prints the median req/s and p99 of each and the
# ratio new/base: the ratio is what compares across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
base_bin=$(realpath "$1")
new_bin=$(realpath "$2")
scale=${3:-50}
secs=${4:-5}
rounds=${5:-3}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

work=$(mktemp -d -p "${BENCH_DIR:-$PWD/target}")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"' EXIT
export STOCKROOM_LOG_LEVEL=warn STOCKROOM_LOG_FORMAT=json STOCKROOM_SECURITY_AUTH_RATE_BURST=1000

STOCKROOM_DATA_DIR="$work/new" "$new_bin" demo --scale "$scale" >/dev/null
for who in bench; do
  echo "gauze-and-syringes-42" | STOCKROOM_DATA_DIR="$work/new" "$new_bin" create-user --username "$who" --role admin --password-stdin >/dev/null
done
admin=$(STOCKROOM_DATA_DIR="$work/new" "$new_bin" create-token --username bench --name bench --scope write 2>/dev/null)
nurse=$(STOCKROOM_DATA_DIR="$work/new" "$new_bin" create-token --username nurse --name bench --scope write 2>/dev/null)
cp -a "$work/new" "$work/base"

declare -A url
start() { # name bin dir
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  STOCKROOM_DATA_DIR="$3" "$2" serve --listen "127.0.0.1:$port" >"$work/$1.log" 2>&1 &
  pids+=($!)
  url[$1]="http://127.0.0.1:$port"
  until curl -sf "${url[$1]}/healthz" >/dev/null; do sleep 0.01; done
}
start base "$base_bin" "$work/base"
start new "$new_bin" "$work/new"

api() { curl -sf -H "Authorization: Bearer $2" -H 'content-type: application/json' ${4:+--data "$4"} -X "$3" "${url[$1]}$5"; }
# A bench item with stock where the nurse may work, in both copies.
for side in base new; do
  item=$(api $side "$admin" POST '{"code":"BENCH-1","name":"Bench swab","unit":"each"}' /api/v1/items | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  place=$(api $side "$nurse" GET "" "/api/v1/locations?per_page=200" | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d["items"] if isinstance(d, dict) else d; print([l for l in d if l["active"]][-1]["id"])')
  for _ in 1 2 3; do
    api $side "$admin" POST "{\"kind\":\"receipt\",\"item_id\":$item,\"location_id\":$place,\"quantity\":1000000}" /api/v1/movements >/dev/null
  done
  for who in admin nurse; do
    cat >"$work/consume-$side-$who.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${!who}"
wrk.body = '{"kind":"consumption","item_id":$item,"location_id":$place,"quantity":-1}'
LUA
  done
done

# A signed-in session on each side, for the pages.
declare -A cookie
for side in base new; do
  jar="$work/jar-$side"
  csrf=$(curl -s -c "$jar" -b "$jar" "${url[$side]}/login" | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p')
  curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "csrf_token=$csrf" \
    --data-urlencode username=bench --data-urlencode password=gauze-and-syringes-42 "${url[$side]}/login"
  cookie[$side]="Cookie: stockroom_session=$(awk '$6 == "stockroom_session" {print $7}' "$jar")"
done

# run side name path credential connections [script]; the credential is a
# token, or "page" for the side's session cookie.
run() {
  local out header="Authorization: Bearer $4"
  [ "$4" = page ] && header=${cookie[$1]}
  if [ -n "${6:-}" ]; then
    out=$(wrk -t2 -c"$5" -d"${secs}s" --latency -s "$6" "${url[$1]}$3")
  else
    out=$(wrk -t2 -c"$5" -d"${secs}s" --latency -H "$header" "${url[$1]}$3")
  fi
  printf '%s %s %s\n' "$2" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" >>"$work/$1.txt"
}
measure() { # name path credential connections [lua-suffix]
  for side in base new; do
    local header="Authorization: Bearer $3"
    [ "$3" = page ] && header=${cookie[$side]}
    wrk -t2 -c"$4" -d1s -H "$header" "${url[$side]}$2" >/dev/null
  done
  for _ in $(seq "$rounds"); do
    for side in base new; do
      run "$side" "$1" "$2" "$3" "$4" ${5:+"$work/consume-$side-$5.lua"}
    done
  done
}

measure "search-page-admin" "/items?q=glove" page 32
measure "search-API-admin" "/api/v1/items?q=glove" "$admin" 32
measure "search-API-nurse" "/api/v1/items?q=glove" "$nurse" 32
measure "order-API-admin" "/api/v1/orders/3" "$admin" 32
measure "order-API-nurse" "/api/v1/orders/3" "$nurse" 32
measure "item-API-nurse" "/api/v1/items/1" "$nurse" 32
measure "item-page-admin" "/items/1" page 32
measure "consumption-admin" "/api/v1/movements" "$admin" 8 admin
measure "consumption-nurse" "/api/v1/movements" "$nurse" 8 nurse

echo "$(basename "$base_bin") vs $(basename "$new_bin"), $(nproc) cores, demo --scale $scale, ${rounds}×${secs} s each, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
python3 - "$work/base.txt" "$work/new.txt" <<'PY'
import sys, statistics
def load(path):
    out = {}
    for line in open(path):
        name, rps, p99 = line.split()
        ms = float(p99[:-2]) if p99.endswith("ms") else float(p99[:-2]) / 1000 if p99.endswith("us") else float(p99[:-1]) * 1000
        out.setdefault(name, []).append((float(rps), ms))
    return out
base, new = load(sys.argv[1]), load(sys.argv[2])
print("| what | base req/s | new req/s | new/base | base p99 | new p99 |")
print("|---|---|---|---|---|---|")
for name in base:
    b_rps = statistics.median(r for r, _ in base[name]); n_rps = statistics.median(r for r, _ in new[name])
    b_p99 = statistics.median(p for _, p in base[name]); n_p99 = statistics.median(p for _, p in new[name])
    print(f"| {name} | {b_rps:.0f} | {n_rps:.0f} | {n_rps / b_rps:.2f} | {b_p99:.2f} ms | {n_p99:.2f} ms |")
PY
