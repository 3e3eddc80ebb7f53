#!/usr/bin/env bash
# The one list of what the final image holds. The Dockerfile's build stage and the empty-root tests
# (tests/integration/test_deploy_image.py, the kubelet simulation) all call this script, so they
# cannot drift apart.
#
#   image-files.sh BINARY              print "SOURCE<TAB>DESTINATION" per file (host path -> image path)
#   image-files.sh --stage DIR BINARY  copy those files into DIR, plus /etc/passwd, /etc/group, /tmp
#   image-files.sh --size DIR          print the total size in bytes of the regular files under DIR
#
# Contents: the binary at /usr/local/bin/kfp-publish, its ELF interpreter (the dynamic loader) and
# every shared library it needs, transitively (a Release build needs only the C library), and the CA
# bundle at both the Debian path and OpenSSL's default (/usr/lib/ssl/cert.pem). The user is nonroot
# (65532), as in distroless. No nsswitch.conf and no libnss_*: glibc >= 2.34 has the files and dns
# sources built in, and 2.36's default for hosts without the file reads /etc/hosts (where Kubernetes
# puts hostAliases) before DNS; test_deploy_image.py resolves names both ways in the staged root.
#
# Libraries are found by reading the ELF files (readelf), never by running them (ldd runs the
# loader): the same script stages an arm64 binary on an amd64 build machine, from the multiarch
# directories of Debian's :arm64 packages.
set -euo pipefail

readonly image_binary=/usr/local/bin/kfp-publish
readonly ca_bundle=/etc/ssl/certs/ca-certificates.crt
readonly nonroot_uid=65532

die() { echo "image-files: $*" >&2; exit 2; }

# The Debian multiarch triplet of an ELF file, from its header.
elf_triplet() {
  local machine
  machine=$(LC_ALL=C readelf -h "$1" | sed -n 's/^ *Machine: *//p')
  case "$machine" in
    *X86-64*) echo x86_64-linux-gnu ;;
    *AArch64*) echo aarch64-linux-gnu ;;
    *) die "$1: unsupported ELF machine '$machine'" ;;
  esac
}

elf_interpreter() {
  LC_ALL=C readelf -l "$1" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p'
}

elf_needed() {
  LC_ALL=C readelf -d "$1" | sed -n 's/.*(NEEDED).*Shared library: \[\(.*\)\]$/\1/p'
}

list_files() {
  local binary=$1
  [[ -x "$binary" ]] || die "not an executable: $binary"
  [[ -f "$ca_bundle" ]] || die "no CA bundle at $ca_bundle (install ca-certificates)"
  command -v readelf >/dev/null || die "readelf is missing (install binutils)"
  printf '%s\t%s\n' "$(readlink -f "$binary")" "$image_binary"
  local triplet interpreter
  triplet=$(elf_triplet "$binary")
  interpreter=$(elf_interpreter "$binary")
  if [[ -n "$interpreter" ]]; then
    [[ -e "$interpreter" ]] || die "no dynamic loader at $interpreter (install libc6 for $triplet)"
    printf '%s\t%s\n' "$(readlink -f "$interpreter")" "$interpreter"
  fi
  # Breadth-first over NEEDED entries, each library at the multiarch path the loader searches.
  local -a queue=("$binary")
  local -A seen=(["${interpreter##*/}"]=1)
  local file name dir path
  while ((${#queue[@]} > 0)); do
    file=${queue[0]}
    queue=("${queue[@]:1}")
    while IFS= read -r name; do
      [[ -n "$name" && -z "${seen[$name]:-}" ]] || continue
      seen[$name]=1
      path=""
      for dir in "/lib/$triplet" "/usr/lib/$triplet"; do
        if [[ -e "$dir/$name" ]]; then path="$dir/$name"; break; fi
      done
      [[ -n "$path" ]] || die "unresolved library $name (needed by $file) in /lib/$triplet, /usr/lib/$triplet"
      printf '%s\t%s\n' "$(readlink -f "$path")" "$path"
      queue+=("$path")
    done < <(elf_needed "$file")
  done
  printf '%s\t%s\n' "$(readlink -f "$ca_bundle")" "$ca_bundle"
}

stage() {
  local dir=$1 binary=$2 listing source destination
  listing=$(list_files "$binary")
  mkdir -p "$dir"
  while IFS=$'\t' read -r source destination; do
    install -D -m 0755 "$source" "$dir$destination"
  done <<<"$listing"
  chmod 0644 "$dir$ca_bundle"
  mkdir -p "$dir/usr/lib/ssl"
  ln -sfn "$ca_bundle" "$dir/usr/lib/ssl/cert.pem"
  mkdir -p "$dir/etc"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n' \
    "$nonroot_uid" "$nonroot_uid" >"$dir/etc/passwd"
  printf 'root:x:0:\nnonroot:x:%d:\n' "$nonroot_uid" >"$dir/etc/group"
  mkdir -p "$dir/tmp" "$dir/home/nonroot"
  chmod 1777 "$dir/tmp"
  chown "$nonroot_uid:$nonroot_uid" "$dir/home/nonroot" 2>/dev/null || true
}

total_size() {
  find "$1" -type f -printf '%s\n' | awk '{ total += $1 } END { print total + 0 }'
}

case "${1:-}" in
  --stage) [[ $# -eq 3 ]] || die "usage: image-files.sh --stage DIR BINARY"; stage "$2" "$3" ;;
  --size) [[ $# -eq 2 ]] || die "usage: image-files.sh --size DIR"; total_size "$2" ;;
  ""|-h|--help) sed -n '2,17p' "$0"; exit 2 ;;
  *) [[ $# -eq 1 ]] || die "usage: image-files.sh BINARY"; list_files "$1" ;;
esac
