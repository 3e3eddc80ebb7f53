#!/usr/bin/env bash
# clang-tidy over agent/ with the checks in .clang-tidy, using BUILD_DIR's compile_commands.json.
set -euo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/../.."
tidy=$(command -v clang-tidy-14 || command -v clang-tidy)
mapfile -t files < <(git ls-files 'agent/*.cpp')
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 4 "$tidy" -p "$build_dir" --quiet --warnings-as-errors='*' \
  >"$out" 2>&1 || status=$?
grep -v "warnings generated" "$out" || true
if [[ $status -ne 0 ]]; then
  echo "lint: clang-tidy found problems (see above)" >&2
  exit 1
fi
echo "lint: ${#files[@]} files clean"
