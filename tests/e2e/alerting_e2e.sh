#!/usr/bin/env bash
# Alerting end to end: mock -> exporter -> Prometheus (shipped rules, durations
# shortened) -> Alertmanager -> a webhook in the test, all on 127.0.0.1.
# Usage: alerting_e2e.sh REPO_ROOT BUILD_DIR EXPORTER MOCK
# A missing prometheus or Alertmanager is a failure, not a skip.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
[[ $# -eq 4 ]] || fail "usage: $0 REPO_ROOT BUILD_DIR EXPORTER MOCK"

need prometheus prometheus
alertmanager=$(command -v prometheus-alertmanager || command -v alertmanager) ||
  fail "prometheus-alertmanager not found" \
       "(Debian package: prometheus-alertmanager; scripts/install-deps.sh installs it)"

run_driver "$HERE/alerting_e2e.py" "$1" "$2" "$3" "$4" "$alertmanager" "$WORK"
