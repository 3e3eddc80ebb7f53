#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) in BUILD_DIR and runs each for SECONDS,
# seeded from tests/fuzz/seeds, pipelines-examples/ and ../shared/pipelines-corpus (when present).
# A BUILD_DIR already configured with -DKFP_FUZZ=ON is used as it is: CI passes the sanitizer build
# of `make test-asan` (clang, Debug, ASan+UBSan, KFP_FUZZ=ON), which then only links the targets.
# Exits non-zero when a target crashes; the reproducer lands in BUILD_DIR/fuzz-artifacts/.
#   ci/scripts/fuzz.sh build-fuzz 20
# With FUZZ_RUNS=N each target instead runs exactly N inputs from a fixed random seed (FUZZ_SEED,
# default 1): the same binary and seeds give the same inputs, so CI repeats what was run here.
set -euo pipefail
build_dir=${1:-build-fuzz}
seconds=${2:-20}
jobs=${FUZZ_BUILD_JOBS:-2}
cd "$(dirname "$0")/../.."
root=$(pwd)
shared="$root/../shared"

if ! grep -qs '^KFP_FUZZ:BOOL=ON$' "$build_dir/CMakeCache.txt"; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
    -DKFP_FUZZ=ON -DKFP_WERROR=OFF >/dev/null
fi
targets=(fuzz_package fuzz_api_response fuzz_claims fuzz_parameters fuzz_yaml)
cmake --build "$build_dir" -j "$jobs" --target "${targets[@]}"

corpus="$build_dir/fuzz-corpus"
artifacts="$build_dir/fuzz-artifacts"
mkdir -p "$artifacts"
for target in "${targets[@]}"; do mkdir -p "$corpus/$target"; done
cp tests/fuzz/seeds/api_response/* "$corpus/fuzz_api_response/"
cp tests/fuzz/seeds/claims/* "$corpus/fuzz_claims/"
cp tests/fuzz/seeds/parameters/* "$corpus/fuzz_parameters/"
cp tests/fuzz/seeds/package/* "$corpus/fuzz_package/"
cp tests/fuzz/seeds/yaml/* tests/fuzz/seeds/package/* "$corpus/fuzz_yaml/"
cp pipelines-examples/*.yaml pipelines-examples/*.zip pipelines-examples/*.tar.gz "$corpus/fuzz_package/"
if [[ -d "$shared/pipelines-corpus" ]]; then
  find "$shared/pipelines-corpus" -type f ! -name '*.md' ! -name '*.txt' -size -1024k -print0 |
    while IFS= read -r -d '' file; do
      cp "$file" "$corpus/fuzz_package/corpus-$(sha256sum "$file" | cut -c1-16)"
    done
else
  echo "fuzz: ../shared/pipelines-corpus is absent; seeding fuzz_package from pipelines-examples/ only"
fi

status=0
for target in "${targets[@]}"; do
  if [[ -n "${FUZZ_RUNS:-}" ]]; then
    budget=(-runs="$FUZZ_RUNS" -seed="${FUZZ_SEED:-1}")
    echo "fuzz: $target for $FUZZ_RUNS inputs from seed ${FUZZ_SEED:-1}"
  else
    budget=(-max_total_time="$seconds")
    echo "fuzz: $target for ${seconds}s"
  fi
  log="$build_dir/$target.log"
  if ! "$build_dir/tests/fuzz/$target" "${budget[@]}" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$artifacts/$target-" "$corpus/$target" >"$log" 2>&1; then
    echo "fuzz: $target FAILED (see $log)"
    tail -n 60 "$log"
    status=1
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" | sed "s/^/fuzz: $target /" || true
done
exit $status
