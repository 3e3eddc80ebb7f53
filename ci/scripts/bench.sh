#!/usr/bin/env bash
# Benchmarks (figures and ratios, never pass/fail on time): the emulator's own throughput, so it is
# known never to limit the client benchmarks.
set -euo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/../.."
mkdir -p "$build_dir/bench"
tests/bench/emulator_bench.sh "$build_dir"
