#!/usr/bin/env bash
# Scrape latency while 2,000 slow connections are held (issue 9's Go row):
# the exporter against Debian's prometheus-pushgateway (Go's net/http), same
# machine, same client, one after the other. Each slow connection sends one
# byte of a request head every 2 s; meanwhile /metrics is fetched SCRAPES
# times from fresh connections. Loopback only; every process it starts is
# stopped on exit. Prints one markdown table (stdout); progress on stderr.
#
#   bench/hostile_bench.sh                 uses build/ci's binaries
#   BUILD_DIR=build/release bench/hostile_bench.sh
#
# Environment: BUILD_DIR [build/ci]  SLOW [2000]  SCRAPES [40]  DEPLOYMENTS [1000]
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build/ci}
SLOW=${SLOW:-2000}
SCRAPES=${SCRAPES:-40}
DEPLOYMENTS=${DEPLOYMENTS:-1000}
EXPORTER=$BUILD_DIR/src/dashscope_exporter
MOCK=$BUILD_DIR/src/mock/dashscope_mock
PUSHGATEWAY=${PUSHGATEWAY:-$(command -v prometheus-pushgateway || true)}
for f in "$EXPORTER" "$MOCK"; do [ -x "$f" ] || { echo "hostile_bench.sh: $f missing" >&2; exit 1; }; done
[ -n "$PUSHGATEWAY" ] || { echo "hostile_bench.sh: prometheus-pushgateway not found" >&2; exit 1; }

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hostile_bench.XXXXXX")
cleanup() {
  stop_started
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# measure <port> <name>: holds SLOW slow connections, times SCRAPES scrapes.
measure() {
  python3 - "$1" "$2" "$SLOW" "$SCRAPES" <<'EOF'
import http.client, resource, socket, statistics, sys, threading, time
port, name, slow, scrapes = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"z" * 100000
conns = []
for _ in range(slow):
    s = socket.create_connection(("127.0.0.1", port))
    s.send(head[:1])
    conns.append(s)
stop = threading.Event()
def trickle():
    at = 1
    while not stop.wait(2.0):
        for s in conns:
            try:
                s.send(head[at:at + 1])
            except OSError:
                pass
        at += 1
t = threading.Thread(target=trickle)
t.start()
times, ok = [], 0
for _ in range(scrapes):
    start = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/metrics")
        r = c.getresponse()
        r.read()
        ok += r.status == 200
        c.close()
    except OSError:
        pass
    times.append(time.monotonic() - start)
    time.sleep(0.1)
stop.set()
t.join()
for s in conns:
    s.close()
times.sort()
p = lambda q: times[min(len(times) - 1, int(len(times) * q))] * 1e3
print(f"| {name} | {slow} | {ok} of {scrapes} | {p(0.5):.1f} ms | {p(0.99):.1f} ms | {times[-1] * 1e3:.1f} ms |")
EOF
}

say "mock with $DEPLOYMENTS deployments"
"$MOCK" --deployments "$DEPLOYMENTS" --listen 127.0.0.1:0 --port-file "$TMP/mock.port" --tick 0 \
  --api-key sk-bench-0000 --log.level warn 2>"$TMP/mock.log" &
PIDS+=($!)
wait_for 10 test -s "$TMP/mock.port"
cat >"$TMP/exporter.yml" <<EOF
poll_interval: 300s
request_timeout: 10s
accounts:
  - name: bench
    base_url: http://127.0.0.1:$(cat "$TMP/mock.port")
    api_key_env: HOSTILE_BENCH_API_KEY
EOF
EXPORTER_PORT=$(free_port)
HOSTILE_BENCH_API_KEY=sk-bench-0000 "$EXPORTER" --config.file="$TMP/exporter.yml" \
  --web.listen-address=127.0.0.1:"$EXPORTER_PORT" 2>"$TMP/exporter.log" &
PIDS+=($!)
wait_for 30 sh -c "curl -sf http://127.0.0.1:$EXPORTER_PORT/metrics | grep -q '^dashscope_up{account=\"bench\"} 1'"

PUSH_PORT=$(free_port)
"$PUSHGATEWAY" --web.listen-address=127.0.0.1:"$PUSH_PORT" --log.level=warn 2>"$TMP/pushgateway.log" &
PIDS+=($!)
wait_for 10 curl -sf "http://127.0.0.1:$PUSH_PORT/metrics"

echo "| server | slow connections | scrapes 200 | p50 | p99 | worst |"
echo "| --- | --- | --- | --- | --- | --- |"
say "exporter"
measure "$EXPORTER_PORT" "dashscope_exporter ($DEPLOYMENTS deployments)"
say "pushgateway"
measure "$PUSH_PORT" "prometheus-pushgateway $("$PUSHGATEWAY" --version 2>&1 | head -1 | awk '{print $3}')"
