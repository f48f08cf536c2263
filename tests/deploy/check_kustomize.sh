#!/usr/bin/env bash
# Renders the kustomize base with whichever kubectl is installed (current
# kubectl, or Debian 12's kubernetes-client 1.20 with its older built-in
# kustomize; $KUBECTL overrides) and checks the objects. The PrometheusRule's
# spec, as rendered, is then checked and unit-tested by promtool.
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
KUBECTL=${KUBECTL:-kubectl}
need "$KUBECTL" kubernetes-client
need promtool prometheus
"$KUBECTL" version --client 2>/dev/null | head -n 2 || true

"$KUBECTL" kustomize "$ROOT/deploy/kubernetes" >"$WORK/base.yaml"
"$KUBECTL" kustomize "$ROOT/deploy/kubernetes/optional-rules" >"$WORK/optional.yaml"
"$DSE_PYTHON" "$HERE/check_kustomize.py" "$ROOT" "$WORK/base.yaml" "$WORK/optional.yaml" "$WORK"

# check_kustomize.py wrote each rendered spec as a rules file (JSON is YAML).
promtool check rules "$WORK/rendered.rules.json" "$WORK/rendered.optional.rules.json"
sed -e "s|\.\./\.\./deploy/prometheus/dashscope_exporter\.rules\.yml|$WORK/rendered.rules.json|" \
  "$HERE/rules_test.yml" >"$WORK/rules_test.yml"
sed -e "s|\.\./\.\./deploy/prometheus/dashscope_exporter\.optional\.rules\.yml|$WORK/rendered.optional.rules.json|" \
  "$HERE/optional_rules_test.yml" >"$WORK/optional_rules_test.yml"
grep -q "$WORK/rendered.rules.json" "$WORK/rules_test.yml" || fail "could not point rules_test.yml at the rendered rules"
grep -q "$WORK/rendered.optional.rules.json" "$WORK/optional_rules_test.yml" || fail "could not point optional_rules_test.yml at the rendered rules"
promtool test rules "$WORK/rules_test.yml" "$WORK/optional_rules_test.yml"
