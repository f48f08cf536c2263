#!/usr/bin/env bash
# The shipped rules and dashboard queries against the real exporter, the mock
# and a real Prometheus, all on 127.0.0.1. Usage: live_stack.sh ROOT EXPORTER MOCK
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
need prometheus prometheus
"$DSE_PYTHON" "$HERE/live_stack.py" "$ROOT" "${2:?exporter binary}" "${3:?mock binary}" "$WORK"
