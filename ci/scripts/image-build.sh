#!/usr/bin/env bash
# Builds the image from the Dockerfile with buildah (no Docker engine here: `--isolation chroot`,
# from the local debian:12 that ci/scripts/image-base.sh makes), then unpacks what was built so the
# tests can run it: OUT/ARCH/rootfs (the image's files), OUT/ARCH/sbom.cdx.json (the SBOM beside the
# image), OUT/ARCH/image.json (buildah's inspect: config, labels) and OUT/ARCH/size.txt.
#
#   image-build.sh [--arch amd64|arm64] [--out DIR]        (defaults: this machine's arch, build/image)
#
# KFP_IMAGE_FRESH=1 builds in a new, temporary buildah storage that is removed afterwards, so nothing
# is reused from an earlier build (CI); otherwise buildah's storage and layer cache are kept.
set -euo pipefail
cd "$(dirname "$0")/../.."

arch=$(dpkg --print-architecture)
out=build/image
while [[ $# -gt 0 ]]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: image-build.sh [--arch ARCH] [--out DIR]" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "image-build: buildah --isolation chroot and mount need root" >&2; exit 2; }

storage_dir=""
container=""
cleanup() {
  [[ -n "$container" ]] && buildah_cmd rm "$container" >/dev/null 2>&1
  if [[ -n "$storage_dir" ]]; then
    buildah_cmd rm --all >/dev/null 2>&1 || true
    buildah_cmd rmi --all --force >/dev/null 2>&1 || true
    umount -R "$storage_dir/root/overlay" 2>/dev/null || true
    rm -rf "$storage_dir" || echo "image-build: could not remove $storage_dir" >&2
  fi
}
trap cleanup EXIT
if [[ "${KFP_IMAGE_FRESH:-}" == 1 ]]; then
  storage_dir=$(mktemp -d /var/tmp/kfp-image-storage.XXXXXX)
  export BUILDAH_ROOT=$storage_dir/root BUILDAH_RUNROOT=$storage_dir/run
fi
buildah_cmd() {
  local -a storage=()
  [[ -n "${BUILDAH_ROOT:-}" ]] && storage+=(--root "$BUILDAH_ROOT")
  [[ -n "${BUILDAH_RUNROOT:-}" ]] && storage+=(--runroot "$BUILDAH_RUNROOT")
  buildah "${storage[@]}" "$@"
}

started=$(date +%s)
ci/scripts/image-base.sh
version=$(sed -n 's/^project(kfp-publish VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || revision="$revision-dirty"
source_url=${KFP_IMAGE_SOURCE:-$(git config --get remote.origin.url 2>/dev/null || echo unset)}
tag="localhost/kfp-publish:$version-$arch"

echo "image-build: building $tag (linux/$arch)" >&2
layers=true
[[ -n "$storage_dir" ]] && layers=false
# buildah 1.28 applies --platform to every stage and ignores `FROM --platform=$BUILDPLATFORM`, so the
# build stage would need an arm64 debian:12. Instead the build runs natively with TARGETARCH set, as
# BuildKit runs it, and the final image (FROM scratch: nothing arch-specific is pulled) is then
# marked with the target architecture.
buildah_cmd build --isolation chroot --pull=never --force-rm --layers="$layers" \
  --build-arg "TARGETARCH=$arch" --build-arg "TARGETPLATFORM=linux/$arch" \
  --build-arg "VERSION=$version" --build-arg "REVISION=$revision" \
  --build-arg "SOURCE=$source_url" -t "$tag" -f Dockerfile .
if [[ "$arch" != "$(dpkg --print-architecture)" ]]; then
  container=$(buildah_cmd from --pull=never "$tag")
  buildah_cmd config --arch "$arch" "$container"
  buildah_cmd commit --rm "$container" "$tag" >/dev/null
  container=""
fi

dest=$out/$arch
rm -rf "$dest"
mkdir -p "$dest"
buildah_cmd inspect --type image "$tag" >"$dest/image.json"
container=$(buildah_cmd from --pull=never "$tag")
mount=$(buildah_cmd mount "$container")
mkdir -p "$dest/rootfs"
cp -a "$mount/." "$dest/rootfs/"
buildah_cmd umount "$container" >/dev/null
cp "$dest/rootfs/usr/share/doc/kfp-publish/sbom.cdx.json" "$dest/sbom.cdx.json"
content_bytes=$(ci/scripts/image-files.sh --size "$dest/rootfs")
# The image's one layer as a registry would store it: uncompressed tar and gzip.
tar_bytes=$(tar -C "$dest/rootfs" --numeric-owner -cf - . | wc -c)
gzip_bytes=$(tar -C "$dest/rootfs" --numeric-owner -cf - . | gzip -6 | wc -c)
{
  echo "tag=$tag"
  echo "content_bytes=$content_bytes"
  echo "layer_tar_bytes=$tar_bytes"
  echo "layer_gzip_bytes=$gzip_bytes"
  echo "build_seconds=$(($(date +%s) - started))"
} >"$dest/size.txt"
awk -v tag="$tag" -v files="$content_bytes" -v tar="$tar_bytes" -v gz="$gzip_bytes" 'BEGIN {
  printf "image-build: %s: %d bytes of files (%.1f MiB), layer %.1f MiB uncompressed, %.1f MiB gzip\n",
         tag, files, files / 1048576, tar / 1048576, gz / 1048576 }' >&2
