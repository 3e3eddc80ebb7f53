#!/usr/bin/env bash
# Builds the image's binary: a Release (static, see cmake/static_link.cmake) kfp-publish for the
# Debian architecture ARCH, cross-compiled with Debian's toolchain when ARCH is not this machine's,
# then stripped. Runs nothing built for ARCH. Used by the Dockerfile's build stage.
#
#   image-compile.sh ARCH BUILD_DIR     -> BUILD_DIR/kfp-publish (stripped), BUILD_DIR/agent/kfp-publish.map
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: image-compile.sh ARCH BUILD_DIR" >&2; exit 2; }
arch=$1 build_dir=$2
cd "$(dirname "$0")/../.."

cmake_args=(-S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKFP_BUILD_TESTS=OFF -DKFP_WERROR=ON)
strip_tool=strip
if [[ "$arch" != "$(dpkg --print-architecture)" ]]; then
  triplet=$(dpkg-architecture -a "$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
  cmake_args+=(-DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/debian-cross.cmake "-DKFP_CROSS_TRIPLET=$triplet")
  strip_tool=$triplet-strip
fi
cmake "${cmake_args[@]}"
cmake --build "$build_dir" --target kfp-publish
"$strip_tool" --strip-unneeded -o "$build_dir/kfp-publish" "$build_dir/agent/kfp-publish"
