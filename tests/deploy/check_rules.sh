#!/usr/bin/env bash
# promtool check rules on every rules file we ship (plain and generated).
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
need promtool prometheus
shopt -s nullglob
files=("$ROOT"/deploy/prometheus/*.rules.yml)
((${#files[@]} >= 2)) || fail "expected the default and the optional rules file in deploy/prometheus"
promtool check rules "${files[@]}"
