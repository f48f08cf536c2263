#!/usr/bin/env bash
# The Kubernetes PrometheusRule objects are generated from the rules files.
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
bash "$ROOT/deploy/kubernetes/sync-rules.sh" --check
echo "PrometheusRule objects are in sync with deploy/prometheus/*.rules.yml"
