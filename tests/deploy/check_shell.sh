#!/usr/bin/env bash
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
need shellcheck shellcheck
(cd "$ROOT" && shellcheck -x -s bash "$ROOT/deploy/kubernetes/sync-rules.sh" "$HERE"/*.sh "$ROOT"/tests/container/*.sh)
echo "shellcheck: clean"
