#!/usr/bin/env bash
# Makes the Dockerfile's base image, docker.io/library/debian:12, in buildah's local storage when it
# is not there, from Debian packages alone: no container registry is reachable here. The root is
# `debootstrap --variant=minbase bookworm` (what the official debian:12 image is made of), with this
# machine's apt sources and settings, so the build stage installs from the same archive as the host.
#
#   image-base.sh [--force]   (--force makes it again even when present)
# Storage: buildah's defaults, or BUILDAH_ROOT / BUILDAH_RUNROOT (passed as --root / --runroot).
set -euo pipefail

readonly base_image=docker.io/library/debian:12
readonly suite=bookworm

die() { echo "image-base: $*" >&2; exit 2; }

buildah_cmd() {
  local -a storage=()
  [[ -n "${BUILDAH_ROOT:-}" ]] && storage+=(--root "$BUILDAH_ROOT")
  [[ -n "${BUILDAH_RUNROOT:-}" ]] && storage+=(--runroot "$BUILDAH_RUNROOT")
  buildah "${storage[@]}" "$@"
}

if [[ "${1:-}" != "--force" ]] && buildah_cmd inspect --type image "$base_image" >/dev/null 2>&1; then
  exit 0
fi
[[ $(id -u) -eq 0 ]] || die "debootstrap and buildah mount need root"
command -v debootstrap >/dev/null || die "debootstrap is missing (ci/scripts/install-deps.sh --image)"

# The mirror the host's apt uses (deb822 sources first, then the one-line format).
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1 || true)
if [[ -z "$mirror" ]]; then
  mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1 || true)
fi
[[ -n "$mirror" ]] || die "no Debian mirror in /etc/apt/sources.list*"

work=$(mktemp -d /var/tmp/kfp-image-base.XXXXXX)
container=""
cleanup() {
  [[ -n "$container" ]] && buildah_cmd rm "$container" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

echo "image-base: debootstrap --variant=minbase $suite from $mirror" >&2
debootstrap --variant=minbase "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
# The host's Debian apt sources (updates and security too) and settings, as the official image has
# its own; sources of other archives are left out (their keys are not in the root).
rm -f "$work/root/etc/apt/sources.list"
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
  if [[ -f "$file" ]] && grep -q "$mirror" "$file"; then
    cp "$file" "$work/root$file"
  fi
done
cp -n /etc/apt/apt.conf.d/* "$work/root/etc/apt/apt.conf.d/" 2>/dev/null || true
rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/archives/"*.deb

container=$(buildah_cmd from --pull=never scratch)
mount=$(buildah_cmd mount "$container")
cp -a "$work/root/." "$mount/"
buildah_cmd umount "$container" >/dev/null
buildah_cmd config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --cmd bash --os linux --arch "$(dpkg --print-architecture)" "$container"
buildah_cmd commit --rm "$container" "$base_image" >/dev/null
container=""
echo "image-base: made $base_image" >&2
