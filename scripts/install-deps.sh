#!/usr/bin/env bash
# Installs what building (`build`) or building and testing (`test`) needs,
# from Debian 12 packages only. Does nothing when everything is present.
set -euo pipefail

want=${1:-build}
build_pkgs=(cmake g++ make pkg-config ca-certificates
            prometheus-cpp-dev libcpp-httplib-dev rapidjson-dev libyaml-cpp-dev
            libssl-dev zlib1g-dev libcrypt-dev libboost1.81-dev)
test_pkgs=(libgtest-dev libgmock-dev libbenchmark-dev
           clang libclang-rt-14-dev clang-format
           prometheus prometheus-alertmanager wrk nginx-light chromium
           python3 python3-yaml curl openssl shellcheck systemd procps
           podman runc mmdebstrap)

pkgs=("${build_pkgs[@]}")
if [ "$want" = test ]; then
  pkgs+=("${test_pkgs[@]}")
  # Debian's kubectl; a machine may already carry another kubectl that
  # owns /usr/bin/kubectl, which serves the tests just as well.
  command -v kubectl >/dev/null 2>&1 || pkgs+=(kubernetes-client)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "installing: ${missing[*]}" >&2
"${sudo[@]}" apt-get update -qq
# Services of packages (prometheus, nginx) must not start on their default
# ports: tests start their own on free loopback ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${sudo[@]}" chmod +x /usr/sbin/policy-rc.d
  trap '"${sudo[@]}" rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
