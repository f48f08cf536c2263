#!/usr/bin/env bash
# The Grafana dashboard and provisioning files: structure, datasource
# variable everywhere, contract metric and label names.
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
"$DSE_PYTHON" "$HERE/check_dashboard.py" "$ROOT"
