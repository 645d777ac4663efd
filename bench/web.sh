#!/usr/bin/env bash
# Page latency, start-up time and memory of the stockroom server.
#
#   bench/web.sh [seconds-per-run]        (default 10)
#
# Builds the release binary if needed, starts it on a fresh data directory on
# 127.0.0.1, signs in, then drives it with wrk (32 connections, 2 threads):
# /healthz (no database: the floor for this machine in this run), /login
# (an anonymous page), / (the dashboard: session lookup + page) and
# /api/v1/me (bearer token). Prints a Markdown table; the ratios against
# /healthz are what compare across runs on a noisy machine.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed: apt-get install curl" >&2; exit 1; }
[ -x target/release/stockroom ] || cargo build --release --bin stockroom
bin=$PWD/target/release/stockroom

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export STOCKROOM_DATA_DIR="$work/data" STOCKROOM_LOG_LEVEL=warn STOCKROOM_LOG_FORMAT=json
export STOCKROOM_SECURITY_AUTH_RATE_BURST=1000

# Create the database and an admin first, so start-up below is a normal start.
echo "gauze-and-syringes-42" | "$bin" create-user --username bench --role admin --password-stdin >/dev/null
token=$("$bin" create-token --username bench --name bench --scope read 2>/dev/null)

start_ns=$(date +%s%N)
"$bin" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
until curl -sf "$base/healthz" >/dev/null; do sleep 0.005; done
ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
rss_idle=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)

jar="$work/cookies"
csrf=$(curl -s -c "$jar" -b "$jar" "$base/login" | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p')
curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "csrf_token=$csrf" \
  --data-urlencode username=bench --data-urlencode password=gauze-and-syringes-42 "$base/login"
session=$(awk '$6 == "stockroom_session" {print $7}' "$jar")
[ -n "$session" ] || { echo "sign-in failed" >&2; exit 1; }

run() { # name path [header]
  local out
  if [ -n "${3:-}" ]; then
    out=$(wrk -t2 -c32 -d"${secs}s" --latency -H "$3" "$base$2")
  else
    out=$(wrk -t2 -c32 -d"${secs}s" --latency "$base$2")
  fi
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx or 3xx/ {print $5}' <<<"$out")
  printf '| %s | `%s` | %s | %s | %s | %s |\n' "$1" "$2" "$rps" "$p50" "$p99" "${errors:-0}"
}

echo "stockroom $("$bin" --version | awk '{print $2}'), $(nproc) cores, wrk -t2 -c32 -d${secs}s, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| what | path | req/s | p50 | p99 | non-2xx |"
echo "|---|---|---|---|---|---|"
run "liveness (floor)" /healthz
run "login page" /login
run "dashboard, signed in" / "Cookie: stockroom_session=$session"
run "API, bearer token" /api/v1/me "Authorization: Bearer $token"
rss_load=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
echo
echo "start-up to first /healthz answer: ${ready_ms} ms; RSS idle $((rss_idle / 1024)) MB, after load $((rss_load / 1024)) MB"
