#!/usr/bin/env bash
# The landing page rendered by headless Chromium, against the real exporter
# and mock on 127.0.0.1; keeps a screenshot in BUILD_DIR/e2e-artifacts/.
# Usage: landing_page_e2e.sh REPO_ROOT BUILD_DIR EXPORTER MOCK
# A missing chromium is a failure, not a skip.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"
[[ $# -eq 4 ]] || fail "usage: $0 REPO_ROOT BUILD_DIR EXPORTER MOCK"

need chromium chromium

run_driver "$HERE/landing_page_e2e.py" "$1" "$2" "$3" "$4" "$(command -v chromium)" "$WORK"
