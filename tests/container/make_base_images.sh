#!/usr/bin/env bash
# Makes the two base images deploy/docker/Dockerfile starts FROM, locally,
# from Debian's own packages (no image registry is needed):
#   localhost/debian:12        mmdebstrap --variant=minbase, with the apt/dpkg
#                              settings Debian's official images carry
#   localhost/debian:12-slim   the same tree slimmed the way the official
#                              -slim images are: dpkg path excludes for docs,
#                              man pages and locales, and those files removed
# Both are labelled with a hash of this script; run again, it does nothing
# while both exist with the current hash and are younger than MAX_AGE_DAYS
# (so the base picks up Debian's security updates now and then).
# Usage: make_base_images.sh [PODMAN_GLOBAL_FLAGS...]   (runs as root)
set -euo pipefail

podman=(podman "$@")
MAX_AGE_DAYS=30
SUITE=bookworm
recipe=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
label=io.dashscope-exporter.base-recipe
made_label=io.dashscope-exporter.base-made

fresh() {
  local created
  [ "$("${podman[@]}" image inspect -f "{{ index .Labels \"$label\" }}" "$1" 2>/dev/null)" = "$recipe" ] || return 1
  created=$("${podman[@]}" image inspect -f '{{ .Created.Unix }}' "$1") || return 1
  [ $(( $(date +%s) - created )) -lt $(( MAX_AGE_DAYS * 86400 )) ]
}

# Two test runs at once must not both bootstrap.
exec 9>/tmp/dashscope_exporter-base-images.lock
flock 9
if fresh localhost/debian:12 && fresh localhost/debian:12-slim; then
  echo "base images: cached (recipe $recipe)"
  exit 0
fi

command -v mmdebstrap >/dev/null || { echo "step 'base image': mmdebstrap not found (Debian package mmdebstrap)" >&2; exit 1; }
tree=$(mktemp -d /var/tmp/dse-base.XXXXXX)
trap 'rm -rf "$tree"' EXIT
rootfs=$tree/rootfs
started=$(date +%s)

# Merged /usr by symlinks with usr-is-merged, as debootstrap and the official
# images do (otherwise apt picks usrmerge, which pulls in 50 MB of perl).
# Security and point-release updates too, as the official image has.
if ! mmdebstrap --quiet --variant=minbase --format=directory \
     --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr "$SUITE" "$rootfs" \
     "deb http://deb.debian.org/debian $SUITE main" \
     "deb http://deb.debian.org/debian $SUITE-updates main" \
     "deb http://deb.debian.org/debian-security $SUITE-security main" >"$tree/mmdebstrap.log" 2>&1; then
  tail -n 30 "$tree/mmdebstrap.log" >&2
  echo "step 'base image': mmdebstrap --variant=minbase $SUITE failed (output above)" >&2
  exit 1
fi

# What every official Debian image sets for use in image builds: no services
# start on install, no fsync per file, no .deb cache, no translations, lists
# kept compressed.
printf '#!/bin/sh\n# Services never start during an image build.\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"
echo force-unsafe-io >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/* \
       "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old "$rootfs"/tmp/*
: >"$rootfs/etc/machine-id"

import() {
  # /dev, /proc and /sys come from the container runtime.
  tar --numeric-owner --xattrs -C "$rootfs" --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* -cf "$tree/rootfs.tar" .
  "${podman[@]}" import --quiet --change 'CMD ["bash"]' --change "LABEL $label=$recipe" \
    --change "LABEL $made_label=$started" \
    "$tree/rootfs.tar" "$1" >/dev/null
  rm -f "$tree/rootfs.tar"
  echo "base image $1: $("${podman[@]}" image inspect -f '{{ .Size }}' "$1") bytes"
}
import localhost/debian:12

# Slim: dpkg leaves these paths out of every package installed later, and
# what the bootstrap already put there goes now. Copyright files stay.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# As Debian's official -slim images: no docs (but copyright), man pages,
# info pages or translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
EOF
find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
rm -rf "$rootfs"/usr/share/groff/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/linda/* \
       "$rootfs"/usr/share/lintian/overrides/* "$rootfs"/usr/share/man/*
import localhost/debian:12-slim

# Images built on the bases replaced now (they inherit the labels) are no
# use as a layer cache any more: remove them, or each new base would leave
# the old build stage's few hundred MB behind.
stale=$("${podman[@]}" images -a --filter "label=$label" \
          --format "{{.ID}} {{index .Labels \"$made_label\"}}" | awk -v m="$started" '$2 != m {print $1}' | sort -u)
# shellcheck disable=SC2086  # one ID per word
[ -z "$stale" ] || "${podman[@]}" rmi $stale >/dev/null 2>&1 || true
echo "base images made in $(( $(date +%s) - started ))s (recipe $recipe)"
