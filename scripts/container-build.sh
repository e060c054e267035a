#!/usr/bin/env bash
# Builds the Dockerfile's image offline, as `make test-container` needs it:
# the base root filesystem BASE_TAR (scripts/container-base.sh) is imported
# once, under a tag naming its digest, and passed as the Dockerfile's BASE.
# Podman runs without a daemon on storage of its own under CONTAINER_DIR
# (vfs; chroot isolation for the build's RUN steps, the host's network for
# apt). The build stage is tagged too, so that pruning the layers of
# earlier builds (vfs copies each whole) keeps the cached ones.
#
#   scripts/container-build.sh CONTAINER_DIR BASE_TAR IMAGE
#
# Needs root and Debian's podman and runc.
set -euo pipefail

dir=${1:?usage: container-build.sh CONTAINER_DIR BASE_TAR IMAGE}
tar=${2:?usage: container-build.sh CONTAINER_DIR BASE_TAR IMAGE}
image=${3:?usage: container-build.sh CONTAINER_DIR BASE_TAR IMAGE}
root=$(cd "$(dirname "$0")/.." && pwd)
podman=(podman --root "$dir/storage" --runroot "$dir/run" --storage-driver vfs)

base="localhost/insights-base:$(sha256sum "$tar" | cut -c1-16)"
if ! "${podman[@]}" image exists "$base"; then
  "${podman[@]}" import --quiet "$tar" "$base" >/dev/null
fi
# The commit and its date (not the build's: the same commit builds the same
# labels, and the cached layers serve again).
revision=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
created=$(git -C "$root" log -1 --format=%cI 2>/dev/null || echo unknown)
build=("${podman[@]}" build --format docker --isolation chroot --network host
       --build-arg "BASE=$base" --build-arg "REVISION=$revision" --build-arg "CREATED=$created")
"${build[@]}" -t "$image" "$root"
"${build[@]}" --quiet --target build -t "$image-build" "$root" >/dev/null
"${podman[@]}" image prune --force >/dev/null
"${podman[@]}" image inspect --format '{{.Id}} {{.Size}}' "$image"
