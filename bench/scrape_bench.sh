#!/usr/bin/env bash
# End-to-end numbers for issue "Fast and small": the exporter's /metrics
# against nginx serving the very same bytes, resident memory after 10 polls,
# CPU per poll and idle wake-ups. Loopback only; every process it starts is
# stopped on exit. Prints one markdown table (stdout); progress goes to stderr.
#
#   bench/scrape_bench.sh                 build (Release) and run everything, ~5 min
#   bench/scrape_bench.sh --no-build      reuse the binaries in the build dir
#
# Environment (defaults in brackets):
#   BUILD_DIR [build/scrape-bench]  SIZES ["100 1000 10000"]  RUNS [3]
#   DURATION [5s]  WRK_THREADS [2]  WRK_CONNECTIONS [16]  IDLE_SECONDS [10]
#   KEEP_TMP=1 keeps the temp dir (bodies, configs, logs, raw wrk output).
#
# Method, per fleet size N:
#   1. memory/CPU: dashscope_mock with N deployments (--tick 0, so every poll
#      sees the same fleet) and an exporter polling it every 1s (3s at N >=
#      5000) with page_size 200. Once its debug log shows 10 successful polls:
#      VmRSS from /proc/<pid>/status (no scrape has happened: the number is
#      what polling alone keeps). CPU per poll = (utime+stime after poll 10 -
#      after poll 2) / 8, from /proc/<pid>/stat: HTTP client, parse, snapshot,
#      render, compress and publish, i.e. the whole poll.
#   2. scrapes: a fresh exporter (poll_interval 300s, so no poll disturbs)
#      after its first poll; its /metrics body is saved plain and gzip, and
#      nginx (own prefix and config in the temp dir, `gzip_static on`, one
#      worker per core, sendfile) serves those same files. wrk (same -t/-c/-d,
#      --latency) runs against exporter and nginx alternately, RUNS times per
#      encoding, the first server alternating between runs; medians are shown.
#   3. idle (N = 1000 only): after the load and once keep-alive connections
#      have closed, context switches of every exporter thread over
#      IDLE_SECONDS, then a second window under `strace -f -c`.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/scrape-bench}
SIZES=${SIZES:-"100 1000 10000"}
RUNS=${RUNS:-3}
DURATION=${DURATION:-5s}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-16}
IDLE_SECONDS=${IDLE_SECONDS:-10}
API_KEY=sk-bench-0000

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "scrape_bench.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || { echo "scrape_bench.sh: $tool not found (scripts/install-deps.sh test)" >&2; exit 1; }
done

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"

if [ "$build" -eq 1 ]; then
  say "building Release in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DDSE_BUILD_TESTS=OFF -DDSE_BUILD_BENCH=OFF >/dev/null
  cmake --build "$BUILD_DIR" -j 2 --target dashscope_exporter dashscope_mock >/dev/null
fi
EXPORTER=$BUILD_DIR/src/dashscope_exporter
MOCK=$BUILD_DIR/src/mock/dashscope_mock
if [ ! -x "$EXPORTER" ] || [ ! -x "$MOCK" ]; then
  echo "scrape_bench.sh: no binaries in $BUILD_DIR" >&2
  exit 1
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/scrape_bench.XXXXXX")
# nginx started as root serves as nobody: the bodies must be world-readable.
chmod 755 "$TMP"
cleanup() {
  stop_started
  if [ "${KEEP_TMP:-0}" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stops one process this script started and forgets it.
stop() {
  local pid=$1 keep=() p
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  PIDS=("${keep[@]+"${keep[@]}"}")
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
calc() { awk "BEGIN { printf \"%.${2:-2}f\", $1 }"; }

# --- processes -----------------------------------------------------------------

MOCK_PORT=
start_mock() {  # <N> <dir>
  rm -f "$2/mock.port"
  "$MOCK" --deployments "$1" --listen 127.0.0.1:0 --port-file "$2/mock.port" --tick 0 \
    --api-key "$API_KEY" --log.level warn 2>"$2/mock.log" &
  MOCK_PID=$!
  PIDS+=("$MOCK_PID")
  wait_for 10 test -s "$2/mock.port" || { echo "mock did not start" >&2; cat "$2/mock.log" >&2; exit 1; }
  MOCK_PORT=$(cat "$2/mock.port")
}

EXPORTER_PID='' EXPORTER_PORT=''
start_exporter() {  # <dir> <name> <poll_interval> <request_timeout>
  local dir=$1 name=$2
  cat >"$dir/$name.yml" <<EOF
poll_interval: $3
request_timeout: $4
page_size: 200
accounts:
  - name: bench
    base_url: http://127.0.0.1:$MOCK_PORT
    api_key_env: SCRAPE_BENCH_API_KEY
EOF
  SCRAPE_BENCH_API_KEY=$API_KEY "$EXPORTER" --config.file="$dir/$name.yml" \
    --web.listen-address=127.0.0.1:0 --log.level=debug 2>"$dir/$name.log" &
  EXPORTER_PID=$!
  PIDS+=("$EXPORTER_PID")
  wait_for 10 grep -q 'msg="dashscope_exporter started"' "$dir/$name.log" ||
    { echo "exporter did not start" >&2; cat "$dir/$name.log" >&2; exit 1; }
  EXPORTER_PORT=$(grep -o 'msg="dashscope_exporter started".* port=[0-9]*' "$dir/$name.log" | grep -o 'port=[0-9]*$' | cut -d= -f2)
}

polls_done() { grep -c 'msg="poll succeeded"' "$1" || true; }
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }  # utime + stime
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

NGINX_PORT=
start_nginx() {  # <dir> with www/metrics and www/metrics.gz
  local dir=$1
  NGINX_PORT=$(free_port)
  mkdir -p "$dir/nginx/logs" "$dir/nginx/tmp"
  cat >"$dir/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 3s;
  client_body_temp_path $dir/nginx/tmp/body;
  proxy_temp_path $dir/nginx/tmp/proxy;
  fastcgi_temp_path $dir/nginx/tmp/fastcgi;
  uwsgi_temp_path $dir/nginx/tmp/uwsgi;
  scgi_temp_path $dir/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $dir/www;
    location = /metrics {
      default_type "text/plain; version=0.0.4; charset=utf-8";
      gzip_static on;
    }
  }
}
EOF
  nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -g 'daemon off;' 2>>"$dir/nginx/logs/stderr" &
  NGINX_PID=$!
  PIDS+=("$NGINX_PID")
  wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$NGINX_PORT/metrics" ||
    { echo "nginx did not start" >&2; tail -n 5 "$dir/nginx/logs/"* >&2; exit 1; }
}

# run_wrk <url> <gzip 0|1> <out>: prints "<requests/s> <p99 ms> <errors>".
run_wrk() {
  local url=$1 gzip=$2 out=$3 header=()
  [ "$gzip" = 1 ] && header=(-H 'Accept-Encoding: gzip')
  wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$DURATION" --latency "${header[@]}" "$url" >"$out" 2>&1 || true
  awk '
    function ms(v) {
      if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
      if (v ~ /m$/) return v * 60000; if (v ~ /s$/) return v * 1000; return v
    }
    /^ +99%/ { p99 = ms($2) }
    /^Requests\/sec:/ { rps = $2 }
    /Socket errors:/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { errors += $5 }
    END { printf "%s %s %d\n", (rps == "" ? "nan" : rps), (p99 == "" ? "nan" : p99), errors }' "$out"
}

# --- phases ------------------------------------------------------------------

declare -A R  # results, keyed "<what>:<N>"

memory_phase() {  # <N>
  local n=$1 dir=$TMP/n$1 interval=1s timeout=900ms
  if [ "$n" -ge 5000 ]; then interval=3s; timeout=2500ms; fi
  say "N=$n: 10 polls every $interval"
  start_exporter "$dir" poll "$interval" "$timeout"
  local cpu2='' deadline=$(( $(date +%s) + 60 ))
  while [ "$(polls_done "$dir/poll.log")" -lt 10 ]; do
    if [ -z "$cpu2" ] && [ "$(polls_done "$dir/poll.log")" -ge 2 ]; then cpu2=$(cpu_ticks "$EXPORTER_PID"); fi
    [ "$(date +%s)" -lt "$deadline" ] || { echo "N=$n: no 10 polls in 60s" >&2; tail "$dir/poll.log" >&2; exit 1; }
    sleep 0.02
  done
  local cpu10 rss hz
  cpu10=$(cpu_ticks "$EXPORTER_PID")
  sleep 0.3  # the poller gives freed memory back right after publishing
  rss=$(rss_kib "$EXPORTER_PID")
  hz=$(getconf CLK_TCK)
  R[rss:$n]=$(calc "$rss / 1024" 1)
  R[cpu:$n]=$(calc "($cpu10 - $cpu2) * 1000 / $hz / 8" 0)
  R[poll_wall:$n]=$(grep 'msg="poll succeeded"' "$dir/poll.log" | tail -8 | grep -o 'duration_seconds=[0-9.]*' | cut -d= -f2 | median)
  R[poll_failed:$n]=$(grep -c 'msg="poll failed' "$dir/poll.log" || true)
  stop "$EXPORTER_PID"
}

idle_phase() {  # <dir>
  local dir=$1 t before=() i=0 total=0 woke=""
  # Asio does not disarm its timerfd when a timer is cancelled: each I/O
  # thread wakes once at the last deadline it armed (a connection's 10 s head
  # deadline), then re-arms at its 5-minute fallback. That one wake-up is the
  # end of the load, not idling; the window starts after it.
  sleep 11
  local tasks=(/proc/"$EXPORTER_PID"/task/*)
  for t in "${tasks[@]}"; do
    before+=("$(awk '/ctxt_switches/ { s += $2 } END { print s }' "$t/status")")
  done
  sleep "$IDLE_SECONDS"
  for t in "${tasks[@]}"; do
    local now d
    now=$(awk '/ctxt_switches/ { s += $2 } END { print s }' "$t/status")
    d=$(( now - before[i] ))
    total=$(( total + d ))
    if [ "$d" -gt 0 ]; then
      woke+="${woke:+, }tid ${t##*/} ($(syscall_name "$(cut -d' ' -f1 "$t/syscall" 2>/dev/null)")): $d"
    fi
    i=$(( i + 1 ))
  done
  R[idle_switches]=$total
  R[idle_threads]=${#tasks[@]}
  R[idle_woke]=${woke:-none}
  local blocked=""
  for t in "${tasks[@]}"; do blocked+="${blocked:+ }$(syscall_name "$(cut -d' ' -f1 "$t/syscall" 2>/dev/null)")"; done
  R[idle_blocked]=$(tr ' ' '\n' <<<"$blocked" | sort | uniq -c | awk '{ printf "%s%s×%s", (NR > 1 ? ", " : ""), $2, $1 }')
  if command -v strace >/dev/null; then
    # A second window: every system call the idle process makes.
    timeout -s INT "$IDLE_SECONDS" strace -f -c -o "$dir/strace.txt" -p "$EXPORTER_PID" 2>/dev/null || true
    R[idle_strace]=$(awk '/ total$/ { n = $4 } END { print n + 0 }' "$dir/strace.txt")
    R[idle_strace_calls]=$(awk 'p && /^-/ { exit } p { printf "%s%s %s", (n++ ? ", " : ""), $NF, $4 } /^------/ { p = 1 }' "$dir/strace.txt")
  fi
}

syscall_name() {
  case "${1:-}" in
    0) echo read ;; 7) echo poll ;; 23) echo select ;; 43) echo accept ;; 202) echo futex ;;
    128) echo rt_sigtimedwait ;; 232) echo epoll_wait ;; 270) echo pselect6 ;; 271) echo ppoll ;;
    288) echo accept4 ;; 230) echo clock_nanosleep ;; running) echo running ;; "") echo "?" ;;
    *) echo "syscall $1" ;;
  esac
}

scrape_phase() {  # <N>
  local n=$1 dir=$TMP/n$1
  say "N=$n: scrapes, exporter vs nginx, $RUNS x $DURATION per encoding"
  start_exporter "$dir" serve 300s 10s
  wait_for 60 curl -sf -o /dev/null "http://127.0.0.1:$EXPORTER_PORT/readyz" ||
    { echo "N=$n: exporter never ready" >&2; tail "$dir/serve.log" >&2; exit 1; }
  local url=http://127.0.0.1:$EXPORTER_PORT/metrics
  mkdir -p "$dir/www"
  chmod 755 "$dir" "$dir/www"
  curl -sf -o "$dir/www/metrics" "$url"
  curl -sf -H 'Accept-Encoding: gzip' -D "$dir/gzip.headers" -o "$dir/www/metrics.gz" "$url"
  grep -qi '^content-encoding: gzip' "$dir/gzip.headers" || { echo "N=$n: no gzip answer" >&2; exit 1; }
  gzip -t "$dir/www/metrics.gz" || { echo "N=$n: gzip body does not decompress" >&2; exit 1; }
  R[plain_bytes:$n]=$(stat -c %s "$dir/www/metrics")
  R[gzip_bytes:$n]=$(stat -c %s "$dir/www/metrics.gz")
  start_nginx "$dir"
  local nurl=http://127.0.0.1:$NGINX_PORT/metrics
  # Same bytes? The exporter's tail (process metrics) differs scrape to scrape,
  # so compare sizes and the deployment part only.
  [ "$(curl -sf "$nurl" | wc -c)" = "${R[plain_bytes:$n]}" ] || { echo "nginx serves other bytes" >&2; exit 1; }
  curl -sf -H 'Accept-Encoding: gzip' -D "$dir/nginx.gzip.headers" -o "$dir/nginx.gz" "$nurl"
  if ! grep -qi '^content-encoding: gzip' "$dir/nginx.gzip.headers" || ! cmp -s "$dir/nginx.gz" "$dir/www/metrics.gz"; then
    echo "nginx does not serve the precompressed copy" >&2
    exit 1
  fi

  local run mode gz first server out
  for run in $(seq 1 "$RUNS"); do
    for mode in plain gzip; do
      gz=0; [ "$mode" = gzip ] && gz=1
      if (( run % 2 )); then first="exporter nginx"; else first="nginx exporter"; fi
      for server in $first; do
        out=$dir/wrk.$mode.$server.$run.txt
        local rps p99 errors
        if [ "$server" = exporter ]; then
          local c0 c1 requests
          c0=$(cpu_ticks "$EXPORTER_PID")
          read -r rps p99 errors < <(run_wrk "$url" "$gz" "$out")
          c1=$(cpu_ticks "$EXPORTER_PID")
          requests=$(awk '/requests in/ { print $1 }' "$out")
          { calc "($c1 - $c0) * 1000000 / $(getconf CLK_TCK) / ${requests:-1}" 0; echo; } >>"$dir/cpu.$mode"
        else
          read -r rps p99 errors < <(run_wrk "$nurl" "$gz" "$out")
        fi
        echo "$rps" >>"$dir/rps.$mode.$server"
        echo "$p99" >>"$dir/p99.$mode.$server"
        echo "$errors" >>"$dir/errors.$mode.$server"
        say "  run $run $mode $server: $rps req/s, p99 $p99 ms, errors $errors"
      done
    done
  done
  for mode in plain gzip; do
    R[cpu_scrape:$mode:$n]=$(median <"$dir/cpu.$mode")
    for server in exporter nginx; do
      R[rps:$mode:$server:$n]=$(median <"$dir/rps.$mode.$server")
      R[p99:$mode:$server:$n]=$(median <"$dir/p99.$mode.$server")
      R[errors:$mode:$server:$n]=$(awk '{ s += $1 } END { print s }' "$dir/errors.$mode.$server")
    done
  done
  R[rss_loaded:$n]=$(calc "$(rss_kib "$EXPORTER_PID") / 1024" 1)
  R[hwm_loaded:$n]=$(calc "$(hwm_kib "$EXPORTER_PID") / 1024" 1)
  local tasks=(/proc/"$EXPORTER_PID"/task/*)
  R[threads:$n]=${#tasks[@]}
  stop "$NGINX_PID"
  if [ "$n" = 1000 ]; then
    say "N=$n: idle wake-ups over ${IDLE_SECONDS}s"
    idle_phase "$dir"
  fi
  stop "$EXPORTER_PID"
}

for n in $SIZES; do
  mkdir -p "$TMP/n$n"
  start_mock "$n" "$TMP/n$n"
  memory_phase "$n"
  scrape_phase "$n"
  stop "$MOCK_PID"
done

# --- the table -----------------------------------------------------------------

verdict() { awk "BEGIN { exit !($1) }" && echo PASS || echo MISS; }
fmt_int() { awk -v v="$1" 'BEGIN { if (v == "nan" || v == "") print "n/a"; else printf "%.0f", v }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "nan" || b == "nan") print "nan"; else printf "%.2f", a / b }'; }
has() { [[ " $SIZES " == *" $1 "* ]]; }

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo
echo "Machine: ${cpu_model:-unknown CPU}, $(nproc) cores, Linux $(uname -r); $(nginx -v 2>&1 | sed 's/.*: //'); wrk $(wrk --version 2>&1 | head -1 | awk '{ print $2 }'); wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$DURATION, medians of $RUNS runs."
echo
echo "| measurement | N | exporter | nginx (same bytes) | ratio | target | result |"
echo "| --- | ---: | ---: | ---: | ---: | --- | --- |"
for n in $SIZES; do
  for mode in plain gzip; do
    e=${R[rps:$mode:exporter:$n]}; g=${R[rps:$mode:nginx:$n]}; r=$(ratio "$e" "$g")
    target="—"; result="—"
    if [ "$n" = 1000 ]; then target="≥ 0.70"; result=$(verdict "$r >= 0.70"); fi
    errs=${R[errors:$mode:exporter:$n]}/${R[errors:$mode:nginx:$n]}
    note=""; [ "$errs" != 0/0 ] && note=" (errors $errs)"
    echo "| requests/s, $mode$note | $n | $(fmt_int "$e") | $(fmt_int "$g") | $r | $target | $result |"
  done
done
for n in $SIZES; do
  for mode in plain gzip; do
    e=${R[p99:$mode:exporter:$n]}; g=${R[p99:$mode:nginx:$n]}; r=$(ratio "$e" "$g")
    target="—"; result="—"
    if [ "$n" = 10000 ]; then
      target="≤ 2.00"
      result=$(verdict "$r <= 2.0 && ${R[errors:$mode:exporter:$n]} == 0")
      [ "${R[errors:$mode:exporter:$n]}" = 0 ] || result="$result (wrk timeouts/errors: ${R[errors:$mode:exporter:$n]})"
    fi
    echo "| p99 latency ms, $mode | $n | $e | $g | $r | $target | $result |"
  done
done
for n in $SIZES; do
  r=$(ratio "${R[gzip_bytes:$n]}" "${R[plain_bytes:$n]}")
  target="—"; result="—"
  if [ "$n" = 1000 ]; then target="≤ 0.125 (1/8)"; result=$(verdict "$r <= 0.125"); fi
  echo "| gzip body / plain body, bytes | $n | ${R[gzip_bytes:$n]} / ${R[plain_bytes:$n]} | | $r | $target | $result |"
done
for n in $SIZES; do
  target="—"; result="—"
  if [ "$n" = 1000 ]; then target="≤ 12 MiB"; result=$(verdict "${R[rss:$n]} <= 12"); fi
  if [ "$n" = 10000 ]; then target="≤ 64 MiB"; result=$(verdict "${R[rss:$n]} <= 64"); fi
  echo "| RSS after 10 polls, MiB | $n | ${R[rss:$n]} | | | $target | $result |"
done
for n in $SIZES; do
  echo "| exporter CPU per scrape, µs (plain / gzip) | $n | ${R[cpu_scrape:plain:$n]} / ${R[cpu_scrape:gzip:$n]} | | | — | — |"
done
for n in $SIZES; do
  echo "| RSS after the wrk runs (peak), MiB; threads | $n | ${R[rss_loaded:$n]} (${R[hwm_loaded:$n]}); ${R[threads:$n]} | | | — | — |"
done
for n in $SIZES; do
  target="—"; result="—"
  if [ "$n" = 10000 ]; then target="≤ 150 ms"; result=$(verdict "${R[cpu:$n]} <= 150"); fi
  [ "${R[poll_failed:$n]}" != 0 ] && result="$result (${R[poll_failed:$n]} polls failed)"
  echo "| CPU per poll, ms (wall, s) | $n | ${R[cpu:$n]} (${R[poll_wall:$n]}) | | | $target | $result |"
done
if has 1000; then
  result=$(verdict "${R[idle_switches]} == 0")
  strace_note=""
  [ -n "${R[idle_strace]:-}" ] && strace_note="; strace -f -c: ${R[idle_strace]} syscalls${R[idle_strace_calls]:+ (${R[idle_strace_calls]})}"
  echo "| idle ${IDLE_SECONDS}s: context switches, all ${R[idle_threads]} threads | 1000 | ${R[idle_switches]} | | | 0 besides the poll timer | $result |"
  echo "| idle: where threads sleep; who woke | 1000 | ${R[idle_blocked]}; woke: ${R[idle_woke]}$strace_note | | | — | — |"
fi
