#!/usr/bin/env bash
# Dockerfile and docker-compose.yml, without Docker: structure and
# consistency checks, and the image's HEALTHCHECK command run for real
# against a local HTTP server answering 200, then 503, then nothing.
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
"$DSE_PYTHON" "$HERE/check_container.py" "$ROOT" "$WORK"
