#!/usr/bin/env bash
# The long soak: the CI soak test (tests/load/poller_soak_test.cc) run for
# 10 minutes and at least 20,000 polls: eight accounts polling every 100 ms
# against one dashscope_mock whose fault queue rotates through every way the
# API can fail. Prints the resident-memory and descriptor trend (floors of
# each second, Theil-Sen slope per poll) and fails on the same bounds as the
# CI test. Not run by CI (it takes 11 minutes); results: docs/reliability.md.
#   scripts/long_soak.sh [seconds] [min_polls]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
min_polls=${2:-20000}

scripts/install-deps.sh test
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$(nproc)" --target poller_soak_test dashscope_exporter dashscope_mock
DSE_SOAK_SECONDS="$seconds" DSE_SOAK_MIN_POLLS="$min_polls" \
  build/ci/tests/load/poller_soak_test --gtest_color=no
