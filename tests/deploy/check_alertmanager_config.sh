#!/usr/bin/env bash
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
need amtool prometheus-alertmanager
amtool check-config "$ROOT/deploy/alertmanager/alertmanager.yml"
