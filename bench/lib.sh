# Helpers shared by the benchmark scripts (sourced): a scratch folder, and cleanup of everything started.
results=bench/results
mkdir -p "$results"
work=$(mktemp -d)
pids=()   # processes to stop on exit; daemons that write a pid file into $work are stopped too
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for file in "$work"/*.pid; do [ -f "$file" ] && kill "$(cat "$file")" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n "${BENCH_KEEP:-}" ]] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

# A free TCP port on loopback.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wrk's latency (812.00us, 1.23ms, 1.02s) in milliseconds.
to_ms() {
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

# "requests/s p50-ms p99-ms" from wrk --latency output on stdin; fails when wrk saw errors or wrong answers.
wrk_stats() {
  local out; out=$(cat)
  if grep -q "Non-2xx\|Socket errors" <<<"$out" || grep -qE "Failed answers: [1-9]" <<<"$out"; then
    echo "wrk saw errors:" >&2; echo "$out" >&2; return 1
  fi
  echo "$(awk '/Requests\/sec/ { print $2 }' <<<"$out") $(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")") $(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")"
}

# a / b to two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# The median of the numbers on stdin, one per line.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The median of the space-separated numbers in $1 (a path's rounds).
median_of() { tr ' ' '\n' <<<"$1" | grep . | median; }

# CPU time (user + system, in clock ticks) the given processes have used so far; 0 for none.
cpu_ticks() { local total=0 pid; for pid in "$@"; do total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat"))); done; echo "$total"; }

# Clock ticks spread over a number of requests, in microseconds per request.
micros_per() { awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }'; }
