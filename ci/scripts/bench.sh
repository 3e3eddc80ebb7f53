#!/usr/bin/env bash
# Benchmarks (figures and ratios, never pass/fail on time): publish (unchanged, new version, with
# --run --wait) beside the curl floor, a 30 MiB package's peak RSS, validating the corpus, apply of
# 200 pipelines, the emulator's own throughput (so it is known never to limit the client), and
# sizes. Writes BUILD_DIR/bench/results.json and BUILD_DIR/bench/results.md (tests/bench/bench.py).
# Usage: ci/scripts/bench.sh [BUILD_DIR] [bench.py options, e.g. --repeat 10 --only size]
set -euo pipefail
build_dir=${1:-build}
shift || true
cd "$(dirname "$0")/../.."
for tool in python3 curl strip; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 2; }
done
cmake --build "$build_dir" -j "${JOBS:-$(nproc)}" --target kfp-publish kfp-emulator emulator-bench bench-run
mkdir -p "$build_dir/bench"
exec python3 tests/bench/bench.py "$build_dir" "$@"
