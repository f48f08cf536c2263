#!/usr/bin/env bash
# The container image, built and run with podman and compared with the native
# build (container_test.py says what is checked). A step that cannot run here
# (no podman, the sandbox refuses something) fails and names the step: this
# test is never skipped. Usage: container_test.sh REPO_ROOT EXPORTER MOCK
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "${1:?usage: $0 REPO_ROOT EXPORTER MOCK}" && pwd)
export PYTHONDONTWRITEBYTECODE=1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dse-container-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
python3 "$HERE/container_test.py" "$ROOT" "${2:?exporter binary}" "${3:?mock binary}" "$WORK"
