#!/usr/bin/env bash
# What a virtual server costs: tools/call of one member's echo tool through the virtual server (in a session, as
# 2025 clients call it) against the same call through the member's own route, in one run; and the start of a
# session, initialize to the first tools/list, of a virtual server of 3 members against one member's. One gateway
# process serves both; the members are one echo upstream behind three routes. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-20s}
ROUNDS=${BENCH_ROUNDS:-3}
CONNECTIONS=${BENCH_CONNECTIONS:-"1 32"}
STARTS=${BENCH_STARTS:-30}

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

echo "building (Release)..."
dotnet build -c Release -v q -nologo Gateway.Proxy >/dev/null
dotnet build -c Release -v q -nologo bench/EchoUpstream >/dev/null

upstream_port=$(free_port); gateway_port=$(free_port)
dotnet bench/EchoUpstream/bin/Release/net10.0/EchoUpstream.dll --urls "http://127.0.0.1:$upstream_port" >"$work/upstream.log" 2>&1 &
pids+=($!)

cat >"$work/routes.yaml" <<YAML
servers:
  m1: { destinations: [{ url: 'http://127.0.0.1:$upstream_port/mcp' }] }
  m2: { destinations: [{ url: 'http://127.0.0.1:$upstream_port/mcp' }] }
  m3: { destinations: [{ url: 'http://127.0.0.1:$upstream_port/mcp' }] }
  work: { transport: virtual, members: [ m1, m2, m3 ] }
gateway:
  dataProtection:
    keysDirectory: $work/keys
YAML
env Logging__LogLevel__Default=Warning dotnet Gateway.Proxy/bin/Release/net10.0/Gateway.Proxy.dll \
  --routes "$work/routes.yaml" --port "$gateway_port" --environment Production >"$work/gateway.log" 2>&1 &
pids+=($!); gateway_pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$gateway_port/health/ready" && break; sleep 0.2; done

base="http://127.0.0.1:$gateway_port/mcp"
post() { curl -s -D "$work/headers" -X POST "$base/$1" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
  -H 'MCP-Protocol-Version: 2025-11-25' ${3:+-H "Mcp-Session-Id: $3"} -d "$2"; }
initialize='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}'
initialized='{"jsonrpc":"2.0","method":"notifications/initialized"}'
list='{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}'
# A session: initialize, initialized, and its id.
session() {
  post "$1" "$initialize" >/dev/null
  local id; id=$(awk -F': ' 'tolower($1) == "mcp-session-id" { print $2 }' "$work/headers" | tr -d '\r')
  post "$1" "$initialized" "$id" >/dev/null
  echo "$id"
}

virtual_session=$(session work)
tools=$(post work "$list" "$virtual_session")
for t in m1__echo m2__echo m3__echo; do
  grep -q "\"$t\"" <<<"$tools" || { echo "the virtual server does not list $t: $tools" >&2; exit 1; }
done

declare -A script=([member]=bench/tools-call.lua [virtual]=bench/tools-call-session.lua)
declare -A server=([member]=m1 [virtual]=work)
paths=(member virtual)
export BENCH_SESSION=$virtual_session BENCH_TOOL=m1__echo

for path in "${paths[@]}"; do
  wrk -t2 -c32 -d"$WARMUP" -s "${script[$path]}" "$base/${server[$path]}" >/dev/null
done

declare -A rps p50 p99 cpu
for c in $CONNECTIONS; do
  threads=$(( c < 2 ? c : 2 ))
  declare -A r_rps=() r_p50=() r_p99=() r_cpu=()
  for round in $(seq 1 "$ROUNDS"); do
    for i in "${!paths[@]}"; do
      path=${paths[$(( (i + round) % ${#paths[@]} ))]}
      ticks_before=$(cpu_ticks "$gateway_pid")
      wrk -t"$threads" -c"$c" -d"$DURATION" --latency -s "${script[$path]}" "$base/${server[$path]}" >"$work/wrk.txt"
      ticks=$(( $(cpu_ticks "$gateway_pid") - ticks_before ))
      if grep -q "Non-2xx" "$work/wrk.txt"; then echo "$path: errors" >&2; cat "$work/wrk.txt" >&2; exit 1; fi
      read -r x50 x99 <<<"$(wrk_stats <"$work/wrk.txt" | awk '{ print $2, $3 }')"
      requests=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
      r_rps[$path]+="$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.txt") "
      r_p50[$path]+="$x50 "; r_p99[$path]+="$x99 "
      r_cpu[$path]+="$(micros_per "$ticks" "$requests") "
    done
  done
  for path in "${paths[@]}"; do
    rps[$path,$c]=$(median_of "${r_rps[$path]}")
    p50[$path,$c]=$(median_of "${r_p50[$path]}")
    p99[$path,$c]=$(median_of "${r_p99[$path]}")
    cpu[$path,$c]=$(median_of "${r_cpu[$path]}")
  done
done

# Session start, initialize to the first tools/list: the virtual server's opens its three member sessions then.
start_ms() {
  local t0 t1
  t0=$(date +%s%N)
  local id; id=$(session "$1")
  post "$1" "$list" "$id" >/dev/null
  t1=$(date +%s%N)
  curl -s -o /dev/null -X DELETE "$base/$1" -H "Mcp-Session-Id: $id" -H 'MCP-Protocol-Version: 2025-11-25'
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e6 }'
}
declare -A starts=()
for path in "${paths[@]}"; do
  for _ in $(seq 1 5); do start_ms "${server[$path]}" >/dev/null; done
  for _ in $(seq 1 "$STARTS"); do starts[$path]+="$(start_ms "${server[$path]}") "; done
done

report="$results/virtual-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "tools/call echo through a virtual server of 3 members (in one session) and through the member's own route; wrk, median of $ROUNDS rounds of $DURATION after $WARMUP warm-up per path; $(nproc) cores; $(date -u +%Y-%m-%d)"
  echo
  echo "| path | connections | requests/s | p50 ms | p99 ms | gateway CPU µs/request |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  for c in $CONNECTIONS; do
    for path in "${paths[@]}"; do
      echo "| $path | $c | ${rps[$path,$c]} | ${p50[$path,$c]} | ${p99[$path,$c]} | ${cpu[$path,$c]} |"
    done
  done
  echo
  echo "| connections | virtual/member req/s | virtual/member p50 | virtual/member CPU |"
  echo "| ---: | ---: | ---: | ---: |"
  for c in $CONNECTIONS; do
    echo "| $c | $(ratio "${rps[virtual,$c]}" "${rps[member,$c]}") | $(ratio "${p50[virtual,$c]}" "${p50[member,$c]}") | $(ratio "${cpu[virtual,$c]}" "${cpu[member,$c]}") |"
  done
  echo
  echo "Session start (initialize, initialized, first tools/list; median of $STARTS, curl one request at a time): member $(median_of "${starts[member]}") ms, virtual of 3 members $(median_of "${starts[virtual]}") ms."
} | tee "$report"
