#!/usr/bin/env bash
# Times `kfp-publish apply` of many small pipelines against kfp-emulator with per-request latency,
# with --parallel 1 and --parallel N (a fresh emulator each), and prints the speed-up.
# Usage: tests/bench/apply_bench.sh BUILD_DIR [PIPELINES] [PARALLEL] [LATENCY]
set -euo pipefail
build_dir=${1:-build}
pipelines=${2:-200}
parallel=${3:-8}
latency=${4:-20ms}
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
emulator="$build_dir/tests/kfp-emulator/kfp-emulator"
publish="$build_dir/kfp-publish"
[ -x "$publish" ] || publish="$build_dir/agent/kfp-publish"
for binary in "$emulator" "$publish"; do
  [ -x "$binary" ] || { echo "apply_bench: $binary not built (cmake --build $build_dir)" >&2; exit 2; }
done

work=$(mktemp -d)
emulator_pid=""
stop_emulator() {
  if [ -n "$emulator_pid" ]; then
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
    emulator_pid=""
  fi
}
trap 'stop_emulator; rm -rf "$work"' EXIT

# Distinct names and content: the example with a different pipeline name and a comment per copy.
{
  echo "apiVersion: kfp-publish/v1"
  echo "kind: Apply"
  echo "pipelines:"
  for i in $(seq 1 "$pipelines"); do
    sed "s/^  name: hello-world$/  name: bench-$i/" "$source_dir/pipelines-examples/hello-world.yaml" >"$work/p$i.yaml"
    echo "# bench copy $i" >>"$work/p$i.yaml"
    echo "  - {name: bench-$i, package: p$i.yaml}"
  done
} >"$work/apply.yaml"

start_emulator() {
  "$emulator" --listen 127.0.0.1:0 --latency "$latency" >"$work/emulator.out" 2>&1 &
  emulator_pid=$!
  port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/emulator.out")
    [ -n "$port" ] && break
    sleep 0.05
  done
  [ -n "$port" ] || { echo "apply_bench: kfp-emulator did not start: $(cat "$work/emulator.out")" >&2; exit 1; }
}

# Prints the wall-clock seconds of one apply with --parallel $1 against a fresh emulator.
timed_apply() {
  start_emulator
  local start end
  start=$(date +%s.%N)
  env -u KF_PIPELINES_SA_TOKEN_PATH -u KFP_NAMESPACE "$publish" apply -f "$work/apply.yaml" --parallel "$1" \
    --host "http://127.0.0.1:$port" -q -o json >"$work/report-$1.json" ||
    { echo "apply_bench: apply --parallel $1 failed: $(cat "$work/report-$1.json")" >&2; exit 1; }
  end=$(date +%s.%N)
  stop_emulator
  echo "$end - $start" | bc -l
}

serial=$(timed_apply 1)
concurrent=$(timed_apply "$parallel")
printf 'apply of %d pipelines, emulator --latency %s\n' "$pipelines" "$latency"
printf '  --parallel 1: %6.2f s\n' "$serial"
printf '  --parallel %d: %6.2f s\n' "$parallel" "$concurrent"
printf '  speed-up:     %6.2fx\n' "$(echo "$serial / $concurrent" | bc -l)"
