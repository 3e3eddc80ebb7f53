#!/usr/bin/env bash
# The demo: validate every example package (the publish-and-run demo extends this).
set -euo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/../.."
bin="$build_dir/agent/kfp-publish"
echo "== kfp-publish validate pipelines-examples/*"
"$bin" validate pipelines-examples/*.yaml pipelines-examples/*.zip pipelines-examples/*.tar.gz
