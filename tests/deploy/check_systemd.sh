#!/usr/bin/env bash
# systemd-analyze verify on the unit (with ExecStart pointed at a stand-in
# binary when the real one is not installed), plus a hardening floor.
# shellcheck source=tests/deploy/lib.sh
source "$(dirname "$0")/lib.sh" "$@"
need systemd-analyze systemd
unit="$ROOT/deploy/systemd/dashscope_exporter.service"
binary=/usr/local/bin/dashscope_exporter

grep -q "^ExecStart=$binary " "$unit" || fail "ExecStart must run $binary"
if [[ ! -x $binary ]]; then
  mkdir -p "$WORK/bin"
  printf '#!/bin/sh\nexit 0\n' >"$WORK/bin/dashscope_exporter"
  chmod +x "$WORK/bin/dashscope_exporter"
  echo "note: $binary not installed; verifying with ExecStart pointed at a stand-in"
  sed -e "s|^ExecStart=$binary |ExecStart=$WORK/bin/dashscope_exporter |" "$unit" \
    >"$WORK/dashscope_exporter.service"
  unit_to_verify="$WORK/dashscope_exporter.service"
else
  unit_to_verify=$unit
fi

# verify exits 0 on warnings such as unknown keys: any output is a failure.
out=$(systemd-analyze verify "$unit_to_verify" 2>&1) || fail "systemd-analyze verify: $out"
[[ -z $out ]] || fail "systemd-analyze verify printed: $out"
echo "systemd-analyze verify: clean"

# Exposure score in tenths: 20 = 2.0 ("OK"). Catches a dropped hardening line.
if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
  systemd-analyze security --offline=yes --threshold=20 "$unit" | tail -n 1
  systemd-analyze security --offline=yes --threshold=20 "$unit" >/dev/null \
    || fail "exposure level above 2.0: run systemd-analyze security --offline=yes $unit"
else
  echo "note: this systemd-analyze has no --offline; exposure score not checked"
fi

# Lines that must be present exactly as written.
# shellcheck disable=SC2016 # $MAINPID is for systemd, not for this shell
exact=(
  DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes
  CapabilityBoundingSet= MemoryDenyWriteExecute=yes SystemCallFilter=@system-service
  'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'
  LoadCredential=dashscope_api_key:/etc/dashscope_exporter/api_key
  'ExecReload=/bin/kill -HUP $MAINPID'
)
for line in "${exact[@]}"; do
  grep -qxF -- "$line" "$unit" || fail "unit lacks the line: $line"
done
! grep -q '^CapabilityBoundingSet=.' "$unit" || fail "CapabilityBoundingSet must stay empty"
! grep -q '^AmbientCapabilities=.' "$unit" || fail "AmbientCapabilities must stay empty"
grep -q '^    api_key_file: /run/credentials/dashscope_exporter.service/dashscope_api_key$' \
  "$ROOT/deploy/systemd/dashscope_exporter.yml" \
  || fail "deploy/systemd/dashscope_exporter.yml must read the key from the credential path"
echo "hardening directives present"
