#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang, ASan+UBSan) and runs
# each for a bounded time, starting from a fresh copy of its seed corpus in
# build/fuzz; the repository is never written to.
#   scripts/fuzz.sh [seconds_per_target] [target...]   (default: 45, all targets)
# Prints one summary line per target. Exits non-zero when any target found a
# crash, leak, timeout, out-of-memory or sanitizer report; its reproducer and
# log are then under build/fuzz/artifacts/<target>/ and build/fuzz/logs/.
# Reproduce one: build/fuzz/tests/fuzz/<target> <reproducer>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-45}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [seconds_per_target] [target...]" >&2
  exit 2
fi
shift || true

# target  seed corpus (tests/fuzz/corpus/<dir>)  dictionary  max input bytes
targets=(
  "page_parser_fuzzer   page_parser    page_parser.dict    16384"
  "exposition_fuzzer    page_parser    page_parser.dict    16384"
  "config_loader_fuzzer config_loader  config_loader.dict  4096"
  "request_head_fuzzer  request_head   request_head.dict   32768"
)
wanted=("$@")

build=build/fuzz
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" --target fuzzers

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
if [ -s tests/lsan.supp ]; then
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
fi

failed=0
ran=0
for spec in "${targets[@]}"; do
  read -r target seeds dict max_len <<<"$spec"
  if [ "${#wanted[@]}" -gt 0 ] && [[ " ${wanted[*]} " != *" $target "* ]]; then continue; fi
  binary=$build/tests/fuzz/$target
  if [ ! -x "$binary" ]; then
    echo "$target: not built ($binary missing)" >&2
    failed=1
    continue
  fi
  corpus=$build/corpus/$target
  artifacts=$build/artifacts/$target/
  log=$build/logs/$target.log
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  cp tests/fuzz/corpus/"$seeds"/* "$corpus"/

  rc=0
  # stdin from /dev/null: an api_key_file or cert_file of /dev/stdin must
  # not wait for a terminal.
  "$binary" "$corpus" \
    -dict="tests/fuzz/$dict" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    -artifact_prefix="$artifacts" -print_final_stats=1 \
    </dev/null >"$log" 2>&1 || rc=$?
  ran=$((ran + 1))

  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
  status_line=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$status_line")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$status_line")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$status_line")
  if [ "$rc" -eq 0 ]; then
    verdict=ok
  else
    verdict="FAILED (exit $rc; log $log)"
    failed=1
  fi
  printf '%-22s runs=%s cov=%s ft=%s corpus=%s exec/s=%s peak_rss_mb=%s: %s\n' \
    "$target" "${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${speed:-?}" "${rss:-?}" "$verdict"
  if [ "$rc" -ne 0 ]; then
    grep -E 'ERROR: |SUMMARY: |invariant violated|runtime error|Test unit written' "$log" | head -n 20 >&2 || true
  fi
done

if [ "$ran" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "no such target: ${wanted[*]}" >&2
  exit 2
fi
exit "$failed"
