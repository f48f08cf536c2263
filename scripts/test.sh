#!/usr/bin/env bash
# Installs what is needed, checks the C++ formatting, builds and runs every
# test: the CI build (warnings as errors) with the whole suite, the same
# suite under ASan+UBSan and under TSan, each fuzzer for a bounded time, and
# one pass of the micro-benchmarks.
#   scripts/test.sh            everything (what .ci/run does)
#   scripts/test.sh --quick    the CI build and its suite only
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc)
revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
started=$(date +%s)
phase() { printf '\n=== %s (%ds elapsed)\n' "$1" $(( $(date +%s) - started )); }

phase "install dependencies"
scripts/install-deps.sh test

phase "format (clang-format --dry-run -Werror, .clang-format)"
# Every C++ file as clang-format writes it, so that no change is ever mixed
# with reformatting. Fix with: git ls-files -z '*.cc' '*.h' | xargs -0 clang-format -i
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z '*.cc' '*.h'
else
  find src tests bench -type f \( -name '*.cc' -o -name '*.h' \) -print0
fi | xargs -0 clang-format --dry-run -Werror

phase "CI build"
cmake --preset ci -DDSE_REVISION="$revision" >/dev/null
cmake --build --preset ci -j "$jobs"

phase "tests (CI build)"
ctest --preset ci -j "$jobs" --timeout 600

if [ "$quick" -eq 1 ]; then exit 0; fi

phase "micro-benchmarks, one short pass (no timings asserted)"
for b in build/ci/bench/*_bench; do
  [ -x "$b" ] || continue
  "$b" --benchmark_min_time=0.01 >/dev/null
  echo "ran $(basename "$b")"
done

phase "fuzzers"
scripts/fuzz.sh 45

for preset in asan tsan; do
  phase "$preset build"
  cmake --preset "$preset" -DDSE_REVISION="$revision" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  phase "tests under $preset"
  # The load tests (label `load`) measure throughput and memory, which the
  # sanitizers' own cost swamps: they run in the CI build above. A test that
  # fails on timing under a sanitizer's slowdown gets one more try; a
  # sanitizer report fails its test on every try.
  ctest --preset "$preset" -j "$jobs" --timeout 900 -LE load --repeat until-pass:2
done

phase "done"
