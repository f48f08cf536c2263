#!/usr/bin/env bash
# Installs what is needed, builds, and runs the exporter on :9864.
# With DASHSCOPE_API_KEY set it watches the real API as configured in
# config/dashscope_exporter.yml (or the file given as the first argument);
# without it, it watches the bundled simulated account (dashscope_mock).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh build
cmake --preset release -DDSE_REVISION="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" >/dev/null
cmake --build --preset release -j "$(nproc)" >/dev/null
bin=build/release/src

if [ -n "${DASHSCOPE_API_KEY:-}" ]; then
  config=${1:-config/dashscope_exporter.yml}
  echo "dashscope_exporter: watching the DashScope API as configured in $config; metrics on http://localhost:9864/metrics" >&2
  exec "$bin/dashscope_exporter" --config.file="$config"
fi

export DASHSCOPE_MOCK_API_KEY=${DASHSCOPE_MOCK_API_KEY:-sk-mock-demo}
"$bin/mock/dashscope_mock" --listen=127.0.0.1:9865 --tick=10s --deployments=16 &
mock=$!
trap 'kill "$mock" 2>/dev/null; wait "$mock" 2>/dev/null' EXIT
echo "dashscope_exporter: no DASHSCOPE_API_KEY set, watching the simulated account on 127.0.0.1:9865; open http://localhost:9864/" >&2
"$bin/dashscope_exporter" --config.file=config/dashscope_exporter.mock.yml &
exporter=$!
trap 'kill "$exporter" "$mock" 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
wait "$exporter"
