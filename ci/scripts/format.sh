#!/usr/bin/env bash
# clang-format 14 over the project's C++ sources: `fix` rewrites them, `check` fails on any difference.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-check}
mapfile -t files < <(git ls-files '*.cpp' '*.hpp')
[[ ${#files[@]} -eq 0 ]] && exit 0
if [[ "$mode" == fix ]]; then
  clang-format-14 -i "${files[@]}" 2>/dev/null || clang-format -i "${files[@]}"
else
  fmt=$(command -v clang-format-14 || command -v clang-format)
  "$fmt" --dry-run --Werror "${files[@]}"
  echo "format: ${#files[@]} files clean"
fi
