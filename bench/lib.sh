# Sourced by the bench scripts (bench/*.sh): the process bookkeeping, loopback
# ports and bounded waits each of them needs, written once. Defines nothing
# that runs on its own; the sourcing script sets `set -euo pipefail` first.

# say <text...>: a progress line on stderr, named by the script
# ([scrape_bench] ...), so that stdout keeps only the table.
say() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }

# Every process a script starts goes into PIDS; stop_started ends them all
# and waits for them (the scripts call it from their EXIT trap).
PIDS=()
stop_started() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}

# free_port: prints a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for <seconds> <command...>: retries the command every 50ms; fails
# (status 1) if it has not succeeded within <seconds>.
wait_for() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
