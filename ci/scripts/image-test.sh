#!/usr/bin/env bash
# Tests the image ci/scripts/image-build.sh built for ARCH (tests/integration/test_image_build.py):
# version and validate as uid 65532 in its root, name resolution, size, SBOM, OCI labels.
#   image-test.sh BUILD_DIR ARCH    (BUILD_DIR holds the kfp-emulator the name-resolution test uses)
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: image-test.sh BUILD_DIR ARCH" >&2; exit 2; }
build_dir=$(cd "$1" && pwd) arch=$2
cd "$(dirname "$0")/../../tests/integration"
[[ -d ../../build/image/$arch/rootfs ]] || { echo "image-test: no $arch image (ci/scripts/image-build.sh)" >&2; exit 2; }
case "$arch" in
  amd64) tests=(test_image_build.Amd64Image test_image_build.NamesResolveInTheImage) ;;
  arm64) tests=(test_image_build.Arm64Image) ;;
  *) echo "image-test: unknown arch $arch" >&2; exit 2 ;;
esac
KFP_EMULATOR_BIN=$build_dir/tests/kfp-emulator/kfp-emulator PYTHONDONTWRITEBYTECODE=1 \
  python3 -m unittest -v "${tests[@]}"
