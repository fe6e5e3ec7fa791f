#!/usr/bin/env bash
# Gateway vs direct vs plain YARP vs nginx on the same MCP upstream, in one run, on loopback.
# Measures tools/call of an echo tool with wrk at 1 and 32 connections and prints requests/s, p50, p99 and the
# ratios gateway/direct, gateway/nginx, gateway/YARP and YARP/nginx. Results also go to bench/results/. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-20s}
ROUNDS=${BENCH_ROUNDS:-3}
CONNECTIONS=${BENCH_CONNECTIONS:-"1 32"}
GATEWAY_ENV=${BENCH_GATEWAY_ENV:-}   # e.g. "DOTNET_gcServer=0", to try runtime settings on the gateway alone

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx)
if ((${#need[@]})); then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

wait_for() { # url, what
  for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done
  echo "$2 did not come up at $1" >&2; exit 1
}

echo "building (Release)..."
dotnet build -c Release -v q -nologo Gateway.Proxy >/dev/null
dotnet build -c Release -v q -nologo bench/EchoUpstream >/dev/null
dotnet build -c Release -v q -nologo bench/YarpProxy >/dev/null

upstream_port=$(free_port); gateway_port=$(free_port); yarp_port=$(free_port); nginx_port=$(free_port)

dotnet bench/EchoUpstream/bin/Release/net10.0/EchoUpstream.dll --urls "http://127.0.0.1:$upstream_port" >"$work/upstream.log" 2>&1 &
pids+=($!); upstream_pid=$!

cat >"$work/routes.yaml" <<YAML
servers:
  echo:
    destinations:
      - url: http://127.0.0.1:$upstream_port/mcp
gateway:
  dataProtection:
    keysDirectory: $work/keys
YAML
env Logging__LogLevel__Default=Warning $GATEWAY_ENV dotnet Gateway.Proxy/bin/Release/net10.0/Gateway.Proxy.dll \
  --routes "$work/routes.yaml" --port "$gateway_port" --environment Production >"$work/gateway.log" 2>&1 &
pids+=($!); gateway_pid=$!

# The gateway's floor: YARP alone on the same stack, one route, none of the gateway's work.
dotnet bench/YarpProxy/bin/Release/net10.0/YarpProxy.dll --urls "http://127.0.0.1:$yarp_port" \
  --upstream "http://127.0.0.1:$upstream_port/mcp" >"$work/yarp.log" 2>&1 &
pids+=($!); yarp_pid=$!

# nginx as a plain reverse proxy: upstream keep-alive, no buffering either way. worker_processes auto (one per
# core) is the fair match for Kestrel, which also uses every core; the load generator shares the same two cores.
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  upstream mcp { server 127.0.0.1:$upstream_port; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://mcp;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
NGINX
nginx -c "$work/nginx.conf"

declare -A url=(
  [direct]="http://127.0.0.1:$upstream_port/mcp"
  [gateway]="http://127.0.0.1:$gateway_port/mcp/echo"
  [yarp]="http://127.0.0.1:$yarp_port/mcp/echo"
  [nginx]="http://127.0.0.1:$nginx_port/mcp"
)
wait_for "${url[direct]}" upstream
wait_for "http://127.0.0.1:$gateway_port/health/ready" gateway
wait_for "${url[yarp]}" yarp
wait_for "${url[nginx]}" nginx

# CPU per request tells more than requests/s on shared cores: whatever else the machine does, it is what each
# proxy spends on a call (and what the upstream spends behind it).
declare -A proxy_pids=(
  [direct]=""
  [gateway]="$gateway_pid"
  [yarp]="$yarp_pid"
  [nginx]="$(pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' ')"
)

paths=(direct gateway yarp nginx)
body='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hello from the benchmark"}}}'
for path in "${paths[@]}"; do
  answer=$(curl -s -X POST "${url[$path]}" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-06-18' -d "$body")
  if [[ "$answer" != *'"text":"hello from the benchmark"'* ]]; then
    echo "$path does not answer the echo call: $answer" >&2; exit 1
  fi
done

# JIT tiering makes .NET servers (the upstream, the gateway, YARP) faster for a while after start: under this load
# the gateway's CPU per call settles only after about 18 s (512 µs in the first 3 s, 140 from 20 s on). Warm every
# path (and through them the upstream) for 20 s before measuring, then measure in rounds, rotating the order of the
# paths so no path always runs first, and report each path's median round.
for path in "${paths[@]}"; do
  wrk -t2 -c32 -d"$WARMUP" -s bench/tools-call.lua "${url[$path]}" >/dev/null
done

declare -A rps p50 p99 proxy_cpu upstream_cpu
for c in $CONNECTIONS; do
  threads=$(( c < 2 ? c : 2 ))
  declare -A round_rps=() round_p50=() round_p99=() round_proxy_cpu=() round_upstream_cpu=()
  for round in $(seq 1 "$ROUNDS"); do
    for i in "${!paths[@]}"; do
      path=${paths[$(( (i + round) % ${#paths[@]} ))]}
      proxy_before=$(cpu_ticks ${proxy_pids[$path]}); upstream_before=$(cpu_ticks "$upstream_pid")
      wrk -t"$threads" -c"$c" -d"$DURATION" --latency -s bench/tools-call.lua "${url[$path]}" | tee "$results/wrk-$path-c$c-r$round.txt" >"$work/wrk.txt"
      proxy_ticks=$(( $(cpu_ticks ${proxy_pids[$path]}) - proxy_before )); upstream_ticks=$(( $(cpu_ticks "$upstream_pid") - upstream_before ))
      stats=$(wrk_stats <"$work/wrk.txt")
      read -r r_rps r50 r99 <<<"$stats"
      requests=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
      round_rps[$path]+="$r_rps "
      round_p50[$path]+="$r50 "
      round_p99[$path]+="$r99 "
      round_proxy_cpu[$path]+="$(micros_per "$proxy_ticks" "$requests") "
      round_upstream_cpu[$path]+="$(micros_per "$upstream_ticks" "$requests") "
    done
  done
  for path in "${paths[@]}"; do
    rps[$path,$c]=$(median_of "${round_rps[$path]}")
    p50[$path,$c]=$(median_of "${round_p50[$path]}")
    p99[$path,$c]=$(median_of "${round_p99[$path]}")
    proxy_cpu[$path,$c]=$(median_of "${round_proxy_cpu[$path]}")
    upstream_cpu[$path,$c]=$(median_of "${round_upstream_cpu[$path]}")
  done
done

report="$results/bench-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "tools/call echo; wrk, median of ${ROUNDS} rounds of ${DURATION} after ${WARMUP} warm-up per path; $(nproc) cores; $(date -u +%Y-%m-%d)"
  echo
  echo "| path | connections | requests/s | p50 ms | p99 ms | proxy CPU µs/request | upstream CPU µs/request |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for c in $CONNECTIONS; do
    for path in "${paths[@]}"; do
      cpu=${proxy_cpu[$path,$c]}; [[ -n "${proxy_pids[$path]}" ]] || cpu="–"
      echo "| $path | $c | ${rps[$path,$c]} | ${p50[$path,$c]} | ${p99[$path,$c]} | $cpu | ${upstream_cpu[$path,$c]} |"
    done
  done
  echo
  echo "| connections | gateway/direct req/s | gateway/nginx req/s | gateway/nginx p50 | gateway/nginx p99 | gateway/nginx proxy CPU | gateway/YARP req/s | gateway/YARP proxy CPU | YARP/nginx req/s |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for c in $CONNECTIONS; do
    echo "| $c | $(ratio "${rps[gateway,$c]}" "${rps[direct,$c]}") | $(ratio "${rps[gateway,$c]}" "${rps[nginx,$c]}") | $(ratio "${p50[gateway,$c]}" "${p50[nginx,$c]}") | $(ratio "${p99[gateway,$c]}" "${p99[nginx,$c]}") | $(ratio "${proxy_cpu[gateway,$c]}" "${proxy_cpu[nginx,$c]}") | $(ratio "${rps[gateway,$c]}" "${rps[yarp,$c]}") | $(ratio "${proxy_cpu[gateway,$c]}" "${proxy_cpu[yarp,$c]}") | $(ratio "${rps[yarp,$c]}" "${rps[nginx,$c]}") |"
  done
} | tee "$report"
