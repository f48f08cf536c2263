#!/usr/bin/env bash
# Every PromQL expression of the dashboard parses (as recording rules) and
# the status encodings give the expected values on sample data.
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
need promtool prometheus
"$DSE_PYTHON" "$HERE/check_dashboard.py" "$ROOT" --emit-promql "$WORK"
promtool check rules "$WORK/dashboard.rules.yml"
promtool test rules "$WORK/dashboard_test.yml"
