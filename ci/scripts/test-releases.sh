#!/usr/bin/env bash
# Runs the whole integration suite once per KFP server release the emulator imitates besides the
# default 2.17.0 (which `make test` runs), with KFP_EMULATOR_SERVER_VERSION set for every suite
# (tests/integration/harness.py starts each emulator with --server-version from it). The per-release
# copies CTest registers for CI (`integration.<suite>@<release>`) are left out: they run the same
# suites. Prints one summary line per release and fails when any suite failed on any release.
#
# Usage: test-releases.sh [BUILD_DIR [RELEASE...]]   (default: build, every non-default release)
# CTEST_PARALLEL_LEVEL sets how many suites run at once (default: twice the cores, as test.sh).
set -euo pipefail
build_dir=${1:-build}
shift || true
releases=("$@")
if [[ ${#releases[@]} -eq 0 ]]; then
  releases=(1.8.5 2.0.5 2.3.0 2.5.0 2.15.0)
fi
cd "$(dirname "$0")/../.."
jobs=${CTEST_PARALLEL_LEVEL:-$((2 * $(nproc)))}
logs="$build_dir/Testing/releases"
mkdir -p "$logs"

summaries=()
failed=0
for release in "${releases[@]}"; do
  echo "=== integration suite against KFP $release (ctest -j $jobs) ==="
  start=$(date +%s)
  status=0
  # Whole outputs in the JUnit file (CTest keeps only 1 KiB of a passing test's output by default),
  # so that the summary can count the unittest cases each suite ran and skipped.
  KFP_EMULATOR_SERVER_VERSION=$release ctest --test-dir "$build_dir" -R '^integration\.' -E '@' \
    -j "$jobs" --output-on-failure --test-output-size-passed 4000000 --test-output-size-failed 4000000 \
    --output-junit "Testing/releases/$release.xml" || status=$?
  seconds=$(($(date +%s) - start))
  summary=$(python3 - "$logs/$release.xml" <<'EOF'
import re, sys, xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
suites = failed_suites = ran = skipped = 0
failures = []
for case in cases:
    suites += 1
    out = "".join(node.text or "" for node in case.iter("system-out"))
    ran += sum(int(n) for n in re.findall(r"^Ran (\d+) tests?", out, re.M))
    skipped += sum(int(n) for n in re.findall(r"skipped=(\d+)", out))
    if case.get("status") not in ("run", "passed") or case.find("failure") is not None:
        failed_suites += 1
        failures.append(case.get("name"))
line = f"{suites} suites, {suites - failed_suites} passed; {ran} tests, {skipped} skipped"
print(line + (f"; FAILED: {' '.join(failures)}" if failures else ""))
EOF
)
  summaries+=("KFP $release: $summary; ${seconds} s")
  if [[ $status -ne 0 ]]; then
    failed=1
  fi
done

echo
echo "=== integration suite per release (logs: $logs) ==="
printf '%s\n' "${summaries[@]}"
if [[ $failed -ne 0 ]]; then
  echo "test-releases: some suites failed (see above)" >&2
  exit 1
fi
