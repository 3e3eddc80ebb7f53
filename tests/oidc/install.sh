#!/usr/bin/env bash
# Installs the gateway tests' identity world (server.mjs with oidc-provider and jose, pinned by
# package-lock.json) into a cache directory and prints that directory; run it as
# `node DIR/server.mjs`. Nothing is installed into the source tree. Reused while package-lock.json
# and server.mjs are unchanged.
#
#   tests/oidc/install.sh [CACHE_DIR]
#
# Needs node and npm (registry access for `npm ci`). Exit status 3 (and the reason on stderr) when
# it cannot be installed here; tests/integration/test_gateway.py then skips with that reason.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/kfp-publish-oidc}

cannot() { echo "cannot install the OpenID test issuers (tests/oidc): $*" >&2; exit 3; }
command -v node >/dev/null || cannot "node is not installed"
command -v npm >/dev/null || cannot "npm is not installed"

key=$(cat "$here/package-lock.json" "$here/server.mjs" | sha256sum | cut -c1-16)
target="$cache/oidc_$key"
if [ -f "$target/server.mjs" ] && [ -d "$target/node_modules/oidc-provider" ]; then
  echo "$target"
  exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/install_XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$here/package.json" "$here/package-lock.json" "$here/server.mjs" "$work/"
# The lockfile pins every package; no install scripts run.
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1) ||
  cannot "npm ci failed: $(tail -3 "$work/npm.log" | tr '\n' ' ')"
trap - EXIT
rm -rf "$target"
mv "$work" "$target"
echo "$target"
