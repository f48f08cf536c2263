# Sourced by the deploy test scripts: `source lib.sh "$@"` with the
# repository root as first argument. A missing tool is a skip (exit 77,
# registered as SKIP_RETURN_CODE), never a pass.
set -euo pipefail

# ROOT and HERE are for the scripts that source this file.
# shellcheck disable=SC2034
ROOT=$(cd "${1:?usage: $0 REPO_ROOT [...]}" && pwd)
# shellcheck disable=SC2034
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

skip() {
  echo "SKIPPED: $*"
  exit 77
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# need TOOL DEBIAN_PACKAGE: skip unless TOOL is on PATH.
need() {
  command -v "$1" >/dev/null 2>&1 || skip "$1 not found (Debian package: $2)"
}

# ctest gives the Python drivers their interpreter and PYTHONPATH (tests/CMakeLists.txt).
[[ -x ${DSE_PYTHON:-} ]] || fail "DSE_PYTHON is not Debian's python3 (${DSE_PYTHON:-unset}); run through ctest"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dse-deploy-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
