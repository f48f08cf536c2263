#!/usr/bin/env bash
# Rule hygiene: labels, annotations, runbook sections, contract metric names.
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
"$DSE_PYTHON" "$HERE/check_rules_meta.py" "$ROOT"
