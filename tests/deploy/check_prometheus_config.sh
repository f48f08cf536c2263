#!/usr/bin/env bash
# The Prometheus configuration shipped for docker-compose loads the rules.
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
need promtool prometheus
promtool check config "$ROOT/deploy/prometheus/prometheus.yml"
grep -q '^  - job_name: dashscope_exporter$' "$ROOT/deploy/prometheus/prometheus.yml" \
  || fail "the scrape job must be named dashscope_exporter (the rules select on it)"
