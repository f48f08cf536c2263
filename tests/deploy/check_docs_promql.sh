#!/usr/bin/env bash
# The PromQL that the runbooks tell people to run parses and uses contract names.
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
need promtool prometheus
"$DSE_PYTHON" "$HERE/check_docs_promql.py" "$ROOT" "$WORK"
promtool check rules "$WORK/docs.rules.json"
