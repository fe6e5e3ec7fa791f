#!/usr/bin/env bash
# The stdio bridge vs supergateway (npm, streamable-HTTP output, stateful) on the same stdio server
# (@modelcontextprotocol/server-everything): session start latency (bridge warm pool, bridge cold, supergateway) and
# tools/call echo throughput within a session (wrk; the Node.js client is too slow to tell the two apart).
# Results also go to bench/results/. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

SECONDS_PER_RUN=${BENCH_SECONDS:-10}
WARM_SESSIONS=${BENCH_WARM_SESSIONS:-100}
COLD_SESSIONS=${BENCH_COLD_SESSIONS:-20}
PAUSE_MS=${BENCH_PAUSE_MS:-500}

wait_for() { # url, what
  for _ in $(seq 1 150); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$1" -H 'Content-Type: application/json' -d '{}' || true)
    [ "$code" != "000" ] && return 0
    sleep 0.2
  done
  echo "$2 did not come up at $1" >&2; exit 1
}

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

echo "building (Release) and installing the npm parts..."
dotnet build -c Release -v q -nologo Gateway.StdioBridge >/dev/null
npm ci --prefix Gateway.Tests/Fixtures/server-everything --no-audit --no-fund --loglevel=error
npm ci --prefix bench/bridge --no-audit --no-fund --loglevel=error
server=$(pwd)/Gateway.Tests/Fixtures/server-everything/node_modules/@modelcontextprotocol/server-everything/dist/index.js

bridge() { # name, warmPool -> starts a bridge, prints its endpoint
  local port; port=$(free_port)
  cat >"$work/$1.yaml" <<YAML
servers:
  everything:
    command: node
    args: ['$server', 'stdio']
    warmPool: $2
    maxProcesses: 64
YAML
  dotnet Gateway.StdioBridge/bin/Release/net10.0/Gateway.StdioBridge.dll --port "$port" --config "$work/$1.yaml" >"$work/$1.log" 2>&1 &
  echo $! >"$work/$1.pid" # called in $(…), a subshell: the pid file is what lets cleanup find it
  echo "http://127.0.0.1:$port/everything/mcp"
}

warm=$(bridge warm 4)
cold=$(bridge cold 0)
sg_port=$(free_port)
node bench/bridge/node_modules/supergateway/dist/index.js --stdio "node $server stdio" --outputTransport streamableHttp \
  --stateful --port "$sg_port" --logLevel none >"$work/supergateway.log" 2>&1 &
pids+=($!)
supergateway="http://127.0.0.1:$sg_port/mcp"
wait_for "$warm" "bridge (warm)"; wait_for "$cold" "bridge (cold)"; wait_for "$supergateway" supergateway
sleep 3 # let the warm pool fill

load() { node bench/bridge/load.mjs "$@"; }
field() { node -e "console.log(JSON.parse(process.argv[1]).$2)" "$1"; }

echo "measuring..."
floor=$(load stdio 10 node "$server" stdio)
prestarted=$(load prestarted 10 node "$server" stdio)
start_warm=$(load start "$warm" "$WARM_SESSIONS" "$PAUSE_MS")
start_cold=$(load start "$cold" "$COLD_SESSIONS" 0)
start_sg=$(load start "$supergateway" "$COLD_SESSIONS" 0)
open_session() { # url -> the session id, after initialize and notifications/initialized
  local sid
  sid=$(curl -s -D - -o /dev/null -X POST "$1" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H 'MCP-Protocol-Version: 2025-06-18' \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' \
    | awk 'tolower($1) == "mcp-session-id:" { print $2 }' | tr -d '\r')
  curl -s -o /dev/null -X POST "$1" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H 'MCP-Protocol-Version: 2025-06-18' -H "Mcp-Session-Id: $sid" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  echo "$sid"
}
declare -A calls_result
for path in bridge supergateway; do
  [ "$path" = bridge ] && endpoint=$warm || endpoint=$supergateway
  sid=$(open_session "$endpoint")
  wrk -t2 -c8 -d3s -s bench/bridge/calls.lua -H "Mcp-Session-Id: $sid" "$endpoint" >/dev/null # warm-up
  for c in 1 8; do
    wrk -t"$(( c < 2 ? c : 2 ))" -c"$c" -d"${SECONDS_PER_RUN}s" --latency -s bench/bridge/calls.lua -H "Mcp-Session-Id: $sid" "$endpoint" \
      | tee "$results/bridge-wrk-$path-c$c.txt" >"$work/wrk.txt"
    calls_result[$path,$c]=$(wrk_stats <"$work/wrk.txt")
  done
done
wrk_field() { cut -d' ' -f"$2" <<<"$1"; }

report="$results/bridge-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "stdio bridge vs supergateway $(node bench/bridge/node_modules/supergateway/dist/index.js --version) on server-everything; $(nproc) cores; $(date -u +%Y-%m-%d)"
  echo
  echo "| session start (initialize answered) | sessions | p50 ms | p99 ms |"
  echo "| --- | ---: | ---: | ---: |"
  echo "| node server started and initialized over a pipe (cold floor, no HTTP) | 10 | $(field "$floor" p50) | $(field "$floor" p99) |"
  echo "| node server started 2 s before, initialized over a pipe (warm floor, no HTTP) | 10 | $(field "$prestarted" p50) | $(field "$prestarted" p99) |"
  echo "| bridge, warm pool 4, ${PAUSE_MS} ms between sessions | $WARM_SESSIONS | $(field "$start_warm" p50) | $(field "$start_warm" p99) |"
  echo "| bridge, cold | $COLD_SESSIONS | $(field "$start_cold" p50) | $(field "$start_cold" p99) |"
  echo "| supergateway --stateful | $COLD_SESSIONS | $(field "$start_sg" p50) | $(field "$start_sg" p99) |"
  echo
  echo "| tools/call echo in one session, wrk ${SECONDS_PER_RUN} s | connections | requests/s | p50 ms | p99 ms |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for c in 1 8; do
    for path in bridge supergateway; do
      r=${calls_result[$path,$c]}
      echo "| $path | $c | $(wrk_field "$r" 1) | $(wrk_field "$r" 2) | $(wrk_field "$r" 3) |"
    done
  done
  echo
  echo "| ratio | 1 client | 8 clients |"
  echo "| --- | ---: | ---: |"
  echo "| bridge/supergateway requests/s | $(ratio "$(wrk_field "${calls_result[bridge,1]}" 1)" "$(wrk_field "${calls_result[supergateway,1]}" 1)") | $(ratio "$(wrk_field "${calls_result[bridge,8]}" 1)" "$(wrk_field "${calls_result[supergateway,8]}" 1)") |"
  echo
  echo "session start p50: bridge warm $(field "$start_warm" p50) ms (target 5 ms), cold $(field "$start_cold" p50) ms, supergateway $(field "$start_sg" p50) ms"
} | tee "$report"
