#!/usr/bin/env bash
# The demo: a local KFP API emulator with token auth (as a Kubeflow profile has), a service-account
# token minted for team-a's default-editor, every example package validated and published, one run
# started and waited for, and the JSON report printed. Everything runs on 127.0.0.1 and is stopped
# at the end.
set -euo pipefail
build_dir=${1:-build}
cd "$(dirname "$0")/../.."
bin="$build_dir/agent/kfp-publish"
emulator="$build_dir/tests/kfp-emulator/kfp-emulator"
work=$(mktemp -d)
emulator_pid=""
cleanup() {
  if [[ -n "$emulator_pid" ]]; then
    kill "$emulator_pid" 2>/dev/null || true
    wait "$emulator_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "kfp-publish validate pipelines-examples/"
"$bin" validate pipelines-examples/*.yaml pipelines-examples/*.zip pipelines-examples/*.tar.gz

step "start kfp-emulator (multi-user, token auth, runs take 2s)"
openssl genrsa -out "$work/key.pem" 2048 2>/dev/null
"$emulator" --listen 127.0.0.1:0 --auth token --token-key "$work/key.pem" --run-duration 2s >"$work/emulator.out" 2>&1 &
emulator_pid=$!
for _ in $(seq 1 100); do
  grep -q "^listening on" "$work/emulator.out" 2>/dev/null && break
  sleep 0.05
done
host="http://$(sed -n 's/^listening on //p' "$work/emulator.out")"
echo "emulator at $host"

step "mint a projected-style token for system:serviceaccount:team-a:default-editor"
"$emulator" mint-token --key "$work/key.pem" --sub system:serviceaccount:team-a:default-editor >"$work/token"
echo "token written to $work/token (audience pipelines.kubeflow.org, 1h)"
export KFP_HOST="$host" KF_PIPELINES_SA_TOKEN_PATH="$work/token"

step "publish every example (first time: created)"
for pkg in pipelines-examples/*.yaml; do
  name=$(basename "$pkg" .yaml)
  "$bin" publish "$pkg" --pipeline "$name"
done

step "publish hello-world again (same content: unchanged, nothing uploaded)"
"$bin" publish pipelines-examples/hello-world.yaml --pipeline hello-world

step "publish hello-world.zip --run --wait (same content; one run, followed to the end)"
"$bin" publish pipelines-examples/hello-world.zip --pipeline hello-world \
  --run --experiment demo --param message="hello from make demo" --wait --wait-timeout 2m \
  --run-key demo-1 -o json --report "$work/report.json" >/dev/null
python3 -m json.tool "$work/report.json"

step "a parameter of the wrong type is refused before anything is created (exit 3)"
set +e
"$bin" run --pipeline training-pipeline --experiment demo --param epochs=three
code=$?
set -e
echo "exit code: $code"
[[ $code -eq 3 ]]
