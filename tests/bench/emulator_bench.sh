#!/usr/bin/env bash
# Prints kfp-emulator's small-request throughput on this machine (many keep-alive connections).
# Usage: tests/bench/emulator_bench.sh BUILD_DIR [CONNECTIONS] [SECONDS]
set -euo pipefail
build_dir=${1:-build}
connections=${2:-64}
seconds=${3:-3}
emulator="$build_dir/tests/kfp-emulator/kfp-emulator"
bench="$build_dir/tests/bench/emulator-bench"
for binary in "$emulator" "$bench"; do
  [ -x "$binary" ] || { echo "emulator_bench: $binary not built (cmake --build $build_dir)" >&2; exit 2; }
done
out=$(mktemp)
"$emulator" --listen 127.0.0.1:0 >"$out" 2>&1 &
emulator_pid=$!
trap 'kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; rm -f "$out"' EXIT
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "emulator_bench: kfp-emulator did not start: $(cat "$out")" >&2; exit 1; }
"$bench" 127.0.0.1 "$port" "$connections" "$seconds" /apis/v2beta1/healthz
"$bench" 127.0.0.1 "$port" "$connections" "$seconds" /apis/v2beta1/pipelines
