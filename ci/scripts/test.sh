#!/usr/bin/env bash
# Runs every test suite against the binaries in BUILD_DIR: CTest (unit tests and the integration
# suites registered with it). Suites needing ../shared skip with a message when it is absent.
set -euo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/../.."
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)"
