#!/usr/bin/env bash
# Builds the REAL KFP UI server (frontend/server) of one release from ../shared/upstream, with its
# own lockfile, for tests that compare it with `kfp-emulator --ui-proxy`. Nothing of it is committed:
# it is built at test time into a cache directory and reused while the upstream source is the same.
#
#   tests/ui-server/build.sh RELEASE [CACHE_DIR]    # prints the directory holding dist/server.js
#
# Needs node and npm (registry access for `npm ci`). Exit status 3 (and the reason on stderr) when
# the server cannot be built here; the tests skip with that reason.
set -euo pipefail

release=${1:?usage: build.sh RELEASE [CACHE_DIR]}
shared=${KFP_SHARED_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
source_dir="$shared/upstream/kfp-$release/frontend/server"
cache=${2:-${XDG_CACHE_HOME:-$HOME/.cache}/kfp-publish-ui-server}

cannot() { echo "cannot build the KFP $release UI server: $*" >&2; exit 3; }
[ -d "$source_dir" ] || cannot "$source_dir is absent"
command -v node >/dev/null || cannot "node is not installed"
command -v npm >/dev/null || cannot "npm is not installed"

# The cache key is the upstream source itself, so an updated ../shared rebuilds.
key=$(cd "$source_dir" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
# TypeScript's include ["."] finds nothing under a directory whose name has a dot: no dots here.
target="$cache/ui${release//./_}_$key"
if [ -f "$target/dist/server.js" ]; then
  echo "$target"
  exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/build_XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$source_dir/." "$work/"
cd "$work"
# The lockfile pins every package; no install scripts run.
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1 ||
  cannot "npm ci failed: $(tail -3 "$work/npm.log" | tr '\n' ' ')"
# 2.3.0's sources no longer type-check against the @types its old lockfile resolves to under the
# node here (URL, Response); tsc still emits the JavaScript, which is what runs.
npx --no-install tsc -p . >"$work/tsc.log" 2>&1 || true
[ -f dist/server.js ] || cannot "tsc emitted no dist/server.js: $(tail -3 "$work/tsc.log" | tr '\n' ' ')"
# The image's build metadata (handlers/healthz.ts getBuildMetadata reads them beside app.js),
# with the values kfp-emulator --ui-proxy reports.
printf 'kfp-emulator' > dist/BUILD_DATE
printf 'kfp-emulator' > dist/COMMIT_HASH
printf '%s' "$release" > dist/TAG_NAME
# index-html.ts refuses to start without its placeholders.
mkdir -p static
printf '%s\n' '<html><head><script>window.KFP_FLAGS.DEPLOYMENT=null;window.KFP_FLAGS.HIDE_SIDENAV=null</script><script id="kubeflow-client-placeholder"></script></head><body></body></html>' > static/index.html
trap - EXIT
rm -rf "$target"
mv "$work" "$target"
echo "$target"
