#!/usr/bin/env bash
# Runs every test suite against the binaries in BUILD_DIR: CTest (unit tests and the integration
# suites registered with it). Suites needing ../shared skip with a message when it is absent.
set -euo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/../.."
# Twice as many suites as cores: most of a suite's time is waiting (settle windows, run states,
# timeouts it provokes), so the cores stay busy without starving a suite (make test: 361 s at -j2).
ctest --test-dir "$build_dir" --output-on-failure -j "$(( $(nproc) * 2 ))"
