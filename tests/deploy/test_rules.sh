#!/usr/bin/env bash
# promtool unit tests: every alert firing and not firing.
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
need promtool prometheus
promtool test rules "$HERE/rules_test.yml" "$HERE/optional_rules_test.yml"
