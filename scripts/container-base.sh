#!/usr/bin/env bash
# Builds the Debian 12 root filesystem the container test uses as the
# Dockerfile's BASE (make test-container cannot pull debian:12-slim): a
# minbase bookworm, like debian:12-slim, made with mmdebstrap from Debian's
# mirror into a tarball. Documentation, manual pages and translations are
# left out (as the slim image does), /usr is merged without the usrmerge
# package (which would bring perl), and apt keeps no package lists or
# archives. The tarball is written next to its stamp only when complete.
#
#   scripts/container-base.sh OUT.tar
#
# Needs root (mmdebstrap's root mode) and Debian's mmdebstrap.
set -euo pipefail

out=${1:?usage: container-base.sh OUT.tar}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
mkdir -p "$(dirname "$out")"
rm -f "$out.tmp"
mmdebstrap --quiet --variant=minbase --format=tar \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --aptopt='APT::Install-Recommends "false"' \
  bookworm "$out.tmp" \
  "deb $mirror bookworm main" \
  "deb $mirror bookworm-updates main" \
  "deb $security bookworm-security main"
mv "$out.tmp" "$out"
