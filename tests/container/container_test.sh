#!/usr/bin/env bash
# The container image, built and run with podman and compared with the native
# build (container_test.py says what is checked). A step that cannot run here
# (no podman, the sandbox refuses something) fails and names the step: this
# test is never skipped. Usage: container_test.sh REPO_ROOT EXPORTER MOCK
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "${1:?usage: $0 REPO_ROOT EXPORTER MOCK}" && pwd)
# ctest gives the Python driver its interpreter and PYTHONPATH (tests/CMakeLists.txt).
[[ -x ${DSE_PYTHON:-} ]] || {
  echo "FAIL: step 'python': DSE_PYTHON is not Debian's python3 (${DSE_PYTHON:-unset}); run through ctest" >&2
  exit 1
}
# One run at a time per machine: runs share the image tag, the layer cache
# and the base images (a second run waits, then reuses the cache).
exec 8>/tmp/dashscope_exporter-container-test.lock
if ! flock -w 1200 8; then
  echo "FAIL: step 'lock': another container test held /tmp/dashscope_exporter-container-test.lock for 20 min" >&2
  exit 1
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dse-container-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
"$DSE_PYTHON" "$HERE/container_test.py" "$ROOT" "${2:?exporter binary}" "${3:?mock binary}" "$WORK"
