#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, only those missing. One script serves the
# Makefile, .ci/run and the Dockerfile's build stage.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libyaml-cpp-dev libarchive-dev libfmt-dev doctest-dev libssl-dev libcli11-dev nettle-dev
  # The static archives a Release build links: those of libarchive's dependencies that its zip, tar
  # and gzip readers reach (cmake/dependencies.cmake).
  zlib1g-dev libbz2-dev liblzma-dev libzstd-dev
  openssl zip unzip python3 strace
)
if [[ "${1:-}" == "--dev" ]]; then
  # Formatting, lint, sanitizers, fuzzing, the contract checker (node) and manifest checks.
  packages+=(clang clang-format clang-tidy libclang-rt-14-dev valgrind)
  # Node may come from another packaging (nodesource's nodejs bundles npm and conflicts with
  # Debian's npm): ask for Debian's only when the commands are missing.
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
