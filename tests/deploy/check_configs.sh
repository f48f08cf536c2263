#!/usr/bin/env bash
# The exporter's own --check-config accepts every configuration we ship.
# Usage: check_configs.sh REPO_ROOT PATH_TO_dashscope_exporter
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
exporter=${2:?usage: $0 REPO_ROOT EXPORTER_BINARY}
[[ -x $exporter ]] || skip "$exporter is not built yet (cmake --build first)"

printf 'sk-test-not-a-real-key\n' >"$WORK/api_key"
chmod 600 "$WORK/api_key"
status=0
for cfg in "$ROOT"/deploy/docker/dashscope_exporter.yml \
  "$ROOT"/deploy/docker/dashscope_exporter.compose.yml \
  "$ROOT"/deploy/kubernetes/dashscope_exporter.yml \
  "$ROOT"/deploy/systemd/dashscope_exporter.yml; do
  # The systemd credential path only exists under systemd: point it at a file.
  sed -e "s|/run/credentials/dashscope_exporter.service/dashscope_api_key|$WORK/api_key|" \
    "$cfg" >"$WORK/config.yml"
  if out=$(DASHSCOPE_API_KEY=sk-test-not-a-real-key "$exporter" --check-config \
    --config.file="$WORK/config.yml" 2>&1); then
    echo "ok: ${cfg#"$ROOT"/}"
  else
    echo "FAIL: ${cfg#"$ROOT"/}: $out" >&2
    status=1
  fi
done
exit $status
