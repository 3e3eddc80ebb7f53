#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, only those missing. One script serves the
# Makefile, .ci/run and the Dockerfile's build stage.
#
#   install-deps.sh                 build and test (native)
#   install-deps.sh --dev           also formatting, lint, sanitizers, fuzzing, node
#   install-deps.sh --image         also what `make image` needs on the host: buildah, debootstrap,
#                                   qemu-user-static (runs the arm64 image's binary)
#   install-deps.sh --target ARCH   only what compiling the Release binary for the Debian
#                                   architecture ARCH needs (the Dockerfile's build stage); for a
#                                   foreign ARCH, Debian's cross toolchain and the :ARCH libraries
set -euo pipefail

native_arch=$(dpkg --print-architecture)
# Compiling: the tools run on this machine, the libraries are linked into the binary.
build_tools=(build-essential cmake ninja-build pkg-config ca-certificates python3)
libraries=(
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libyaml-cpp-dev libarchive-dev libfmt-dev libssl-dev nettle-dev
  # The static archives a Release build links: those of libarchive's dependencies that its zip, tar
  # and gzip readers reach (cmake/dependencies.cmake).
  zlib1g-dev libbz2-dev liblzma-dev libzstd-dev
)
header_only=(libcli11-dev)
add_architecture=""

case "${1:-}" in
  --target)
    target_arch=${2:?usage: install-deps.sh --target ARCH}
    packages=("${build_tools[@]}" "${header_only[@]}")
    if [[ "$target_arch" == "$native_arch" ]]; then
      packages+=("${libraries[@]}")
    else
      add_architecture=$target_arch
      packages+=("crossbuild-essential-$target_arch")
      for library in "${libraries[@]}"; do packages+=("$library:$target_arch"); done
    fi
    ;;
  ""|--dev|--image)
    packages=("${build_tools[@]}" "${libraries[@]}" "${header_only[@]}"
              ccache git curl doctest-dev openssl zip unzip strace)
    if [[ "${1:-}" == "--dev" ]]; then
      # Formatting, lint, sanitizers, fuzzing, the contract checker (node) and manifest checks.
      packages+=(clang clang-format clang-tidy libclang-rt-14-dev valgrind)
      # Node may come from another packaging (nodesource's nodejs bundles npm and conflicts with
      # Debian's npm): ask for Debian's only when the commands are missing.
      command -v node >/dev/null || packages+=(nodejs)
      command -v npm >/dev/null || packages+=(npm)
    elif [[ "${1:-}" == "--image" ]]; then
      packages+=(buildah debootstrap qemu-user-static binutils)
    fi
    ;;
  *) echo "usage: install-deps.sh [--dev | --image | --target ARCH]" >&2; exit 2 ;;
esac

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
updated=""
if [[ -n "$add_architecture" ]] && ! dpkg --print-foreign-architectures | grep -qx "$add_architecture"; then
  $SUDO dpkg --add-architecture "$add_architecture"
  $SUDO apt-get update -qq
  updated=1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
[[ -n "$updated" ]] || $SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
