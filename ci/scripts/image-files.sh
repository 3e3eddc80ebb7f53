#!/usr/bin/env bash
# The one list of what the final image holds. The Dockerfile's build stage and the empty-root test
# (tests/integration/test_deploy_image.py) both call this script, so they cannot drift apart.
#
#   image-files.sh BINARY              print "SOURCE<TAB>DESTINATION" per file (host path -> image path)
#   image-files.sh --stage DIR BINARY  copy those files into DIR, plus /etc/passwd, /etc/group, /tmp
#   image-files.sh --size DIR          print the total size in bytes of the regular files under DIR
#
# Contents: the binary at /usr/local/bin/kfp-publish, the dynamic loader and every shared library
# `ldd` resolves (at the path the loader looks them up), and the CA bundle at both the Debian path
# and OpenSSL's default (/usr/lib/ssl/cert.pem). The user is nonroot (65532), as in distroless.
set -euo pipefail

readonly image_binary=/usr/local/bin/kfp-publish
readonly ca_bundle=/etc/ssl/certs/ca-certificates.crt
readonly nonroot_uid=65532

die() { echo "image-files: $*" >&2; exit 2; }

list_files() {
  local binary=$1
  [[ -x "$binary" ]] || die "not an executable: $binary"
  [[ -f "$ca_bundle" ]] || die "no CA bundle at $ca_bundle (install ca-certificates)"
  printf '%s\t%s\n' "$(readlink -f "$binary")" "$image_binary"
  # ldd lines: "libx.so.1 => /lib/.../libx.so.1 (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)".
  # The library is copied to the path ldd names (the soname the loader searches), from its target.
  local line path
  while IFS= read -r line; do
    if [[ "$line" == *"not found"* ]]; then
      die "unresolved library: $line"
    elif [[ "$line" =~ =\>\ (/[^ ]+)\ \( ]]; then
      path=${BASH_REMATCH[1]}
    elif [[ "$line" =~ ^[[:space:]]*(/[^ ]+)\ \( ]]; then
      path=${BASH_REMATCH[1]}
    else
      continue  # linux-vdso.so.1 lives in the kernel
    fi
    printf '%s\t%s\n' "$(readlink -f "$path")" "$path"
  done < <(ldd "$binary")
  printf '%s\t%s\n' "$(readlink -f "$ca_bundle")" "$ca_bundle"
}

stage() {
  local dir=$1 binary=$2 source destination
  mkdir -p "$dir"
  while IFS=$'\t' read -r source destination; do
    install -D -m 0755 "$source" "$dir$destination"
  done < <(list_files "$binary")
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
  ""|-h|--help) sed -n '2,12p' "$0"; exit 2 ;;
  *) [[ $# -eq 1 ]] || die "usage: image-files.sh BINARY"; list_files "$1" ;;
esac
