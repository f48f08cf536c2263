# Sourced by the e2e test scripts. A missing tool is a failure (exit 1) with
# the Debian package to install: these tests exist to be run for real.
set -euo pipefail

# HERE and WORK are for the scripts that source this file.
# shellcheck disable=SC2034
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# need TOOL DEBIAN_PACKAGE: fail unless TOOL is on PATH.
need() {
  command -v "$1" >/dev/null 2>&1 ||
    fail "$1 not found (Debian package: $2; scripts/install-deps.sh installs it)"
}

# ctest gives the Python drivers their interpreter and PYTHONPATH (tests/CMakeLists.txt).
[[ -x ${DSE_PYTHON:-} ]] || fail "DSE_PYTHON is not Debian's python3 (${DSE_PYTHON:-unset}); run through ctest"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dse-e2e.XXXXXX")
driver_pid=""

# The driver stops its own processes; on SIGTERM/SIGINT (ctest's timeout) it
# is told to, and waited for, before the work directory goes.
cleanup() {
  if [[ -n $driver_pid ]]; then
    kill -TERM "$driver_pid" 2>/dev/null || true
    wait "$driver_pid" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# run_driver SCRIPT ARGS...: runs the python driver, exits with its status.
run_driver() {
  local rc=0
  "$DSE_PYTHON" "$@" &
  driver_pid=$!
  wait "$driver_pid" || rc=$?
  driver_pid=""
  exit "$rc"
}
