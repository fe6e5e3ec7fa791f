#!/usr/bin/env bash
# What governing tool lists costs: tools/list of a server with 100 tools (about 60 KB of JSON), through a server
# with tool pinning and a deny list against the same upstream through a server with neither, and tools/call through
# both. Prints requests/s, p50, p99, the gateway's CPU and allocated bytes per request, and the added cost. One
# gateway process serves both servers, so each run's CPU and allocations are its path's. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-20s}
ROUNDS=${BENCH_ROUNDS:-3}
CONNECTIONS=${BENCH_CONNECTIONS:-"1 32"}
TOOLS=${BENCH_TOOLS:-100}

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

echo "building (Release)..."
dotnet build -c Release -v q -nologo Gateway.Proxy >/dev/null
dotnet build -c Release -v q -nologo bench/EchoUpstream >/dev/null

upstream_port=$(free_port); gateway_port=$(free_port)
# The echo tool and TOOLS-1 more.
dotnet bench/EchoUpstream/bin/Release/net10.0/EchoUpstream.dll --urls "http://127.0.0.1:$upstream_port" --tools "$((TOOLS - 1))" >"$work/upstream.log" 2>&1 &
pids+=($!); upstream_pid=$!

cat >"$work/routes.yaml" <<YAML
servers:
  plain:
    destinations: [{ url: 'http://127.0.0.1:$upstream_port/mcp' }]
    toolPinning: { mode: off }
  governed:
    destinations: [{ url: 'http://127.0.0.1:$upstream_port/mcp' }]
    tools: { deny: ['tool_00*'] }
gateway:
  dataProtection:
    keysDirectory: $work/keys
YAML
env Logging__LogLevel__Default=Warning dotnet Gateway.Proxy/bin/Release/net10.0/Gateway.Proxy.dll \
  --routes "$work/routes.yaml" --port "$gateway_port" --environment Production >"$work/gateway.log" 2>&1 &
pids+=($!); gateway_pid=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$gateway_port/health/ready" && break; sleep 0.2; done

base="http://127.0.0.1:$gateway_port/mcp"
list='{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
ask() { curl -s -X POST "$base/$1" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-06-18' -d "$2"; }
plain_tools=$(ask plain "$list" | grep -o '"name":"[a-z_0-9]*"' | grep -c . || true)
governed_tools=$(ask governed "$list" | grep -o '"name":"[a-z_0-9]*"' | grep -c . || true)
list_bytes=$(ask plain "$list" | wc -c)
if (( plain_tools != TOOLS || governed_tools != TOOLS - 10 )); then
  echo "expected $TOOLS tools through plain and $((TOOLS - 10)) through governed, got $plain_tools and $governed_tools" >&2; exit 1
fi

# The exporter answers a scrape from a cache for 300 ms: wait that out, so that each scrape is fresh.
allocated() { sleep 0.4; curl -s "http://127.0.0.1:$gateway_port/metrics" | awk '/^dotnet_gc_heap_total_allocated_bytes_total/ { print $2 }'; }

declare -A script=([plain-list]=bench/tools-list.lua [governed-list]=bench/tools-list.lua [plain-call]=bench/tools-call.lua [governed-call]=bench/tools-call.lua)
declare -A server=([plain-list]=plain [governed-list]=governed [plain-call]=plain [governed-call]=governed)
paths=(plain-list governed-list plain-call governed-call)

for path in "${paths[@]}"; do
  wrk -t2 -c32 -d"$WARMUP" -s "${script[$path]}" "$base/${server[$path]}" >/dev/null
done

declare -A rps p50 p99 cpu bytes
for c in $CONNECTIONS; do
  threads=$(( c < 2 ? c : 2 ))
  declare -A r_rps=() r_p50=() r_p99=() r_cpu=() r_bytes=()
  for round in $(seq 1 "$ROUNDS"); do
    for i in "${!paths[@]}"; do
      path=${paths[$(( (i + round) % ${#paths[@]} ))]}
      ticks_before=$(cpu_ticks "$gateway_pid"); bytes_before=$(allocated)
      wrk -t"$threads" -c"$c" -d"$DURATION" --latency -s "${script[$path]}" "$base/${server[$path]}" >"$work/wrk.txt"
      bytes_after=$(allocated); ticks=$(( $(cpu_ticks "$gateway_pid") - ticks_before ))
      read -r x50 x99 <<<"$(wrk_stats <"$work/wrk.txt" | awk '{ print $2, $3 }')"
      requests=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
      r_rps[$path]+="$(awk '/Requests\/sec/ { print $2 }' "$work/wrk.txt") "
      r_p50[$path]+="$x50 "; r_p99[$path]+="$x99 "
      r_cpu[$path]+="$(micros_per "$ticks" "$requests") "
      # The runtime's allocation counter (System.Runtime on /metrics); one scrape's own share is below 100 bytes a request.
      r_bytes[$path]+="$(awk -v a="$bytes_before" -v b="$bytes_after" -v n="$requests" 'BEGIN { printf "%.0f", (b - a) / n }') "
    done
  done
  for path in "${paths[@]}"; do
    rps[$path,$c]=$(median_of "${r_rps[$path]}")
    p50[$path,$c]=$(median_of "${r_p50[$path]}")
    p99[$path,$c]=$(median_of "${r_p99[$path]}")
    cpu[$path,$c]=$(median_of "${r_cpu[$path]}")
    bytes[$path,$c]=$(median_of "${r_bytes[$path]}")
  done
done

report="$results/lists-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "tools/list of $TOOLS tools ($list_bytes bytes) and tools/call echo, through a server with pinning and a deny list (governed) and one with neither (plain); wrk, median of $ROUNDS rounds of $DURATION after $WARMUP warm-up per path; $(nproc) cores; $(date -u +%Y-%m-%d)"
  echo
  echo "| path | connections | requests/s | p50 ms | p99 ms | gateway CPU µs/request | gateway allocated bytes/request |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for c in $CONNECTIONS; do
    for path in "${paths[@]}"; do
      echo "| $path | $c | ${rps[$path,$c]} | ${p50[$path,$c]} | ${p99[$path,$c]} | ${cpu[$path,$c]} | ${bytes[$path,$c]} |"
    done
  done
  echo
  echo "| connections | list: added CPU µs | list: added bytes | list: governed/plain p50 | call: governed/plain req/s | call: governed/plain CPU |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
  for c in $CONNECTIONS; do
    echo "| $c | $(awk -v a="${cpu[governed-list,$c]}" -v b="${cpu[plain-list,$c]}" 'BEGIN { printf "%.1f", a - b }') | $(( ${bytes[governed-list,$c]} - ${bytes[plain-list,$c]} )) | $(ratio "${p50[governed-list,$c]}" "${p50[plain-list,$c]}") | $(ratio "${rps[governed-call,$c]}" "${rps[plain-call,$c]}") | $(ratio "${cpu[governed-call,$c]}" "${cpu[plain-call,$c]}") |"
  done
} | tee "$report"
