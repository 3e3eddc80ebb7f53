#!/usr/bin/env bash
# The deployment checks (issues 6 and 13): kustomize builds of manifests/, offline schema validation,
# actionlint, tekton-lint, the Argo schema and retry decision, shellcheck, the Job, CronJob, Tekton
# and Argo containers run as the kubelet runs them (root: unshare), ci/kfp-job.sh against a fake
# kubectl, and the empty-root run of the image's files. Installs what they need first (Debian's
# jq, shellcheck and python3-yaml; tests/deploy's npm packages, pinned by its package-lock.json).
#
#   check-deploy.sh [BUILD_DIR]       install, then run tests/integration/test_deploy*.py
#   check-deploy.sh --install-only    install only (before ctest, which runs the same tests)
set -euo pipefail
cd "$(dirname "$0")/../.."

install_only=false
build_dir=build
case "${1:-}" in
  --install-only) install_only=true ;;
  "") ;;
  *) build_dir=$1 ;;
esac

# Debian 12's own kubectl (kubernetes-client 1.20) is too old for `kustomize` components and
# replacements; the machine image ships a current kubectl. Say so rather than fall back silently.
need_packages=()
command -v jq >/dev/null || need_packages+=(jq)
command -v shellcheck >/dev/null || need_packages+=(shellcheck)
command -v node >/dev/null || need_packages+=(nodejs npm)
python3 -c 'import yaml' 2>/dev/null || need_packages+=(python3-yaml)
if [[ ${#need_packages[@]} -gt 0 ]]; then
  echo "check-deploy: installing ${need_packages[*]}" >&2
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
fi
if ! kubectl kustomize --help >/dev/null 2>&1; then
  echo "check-deploy: kubectl with kustomize (v1.27+) is required; the manifest tests will skip" >&2
fi

if [[ ! -d tests/deploy/node_modules/kubernetes-models ]] ||
  [[ tests/deploy/package-lock.json -nt tests/deploy/node_modules/.package-lock.json ]]; then
  echo "check-deploy: npm ci in tests/deploy" >&2
  (cd tests/deploy && npm ci --no-fund --no-audit --loglevel=error)
fi
$install_only && exit 0

export KFP_SOURCE_DIR=$PWD
export KFP_PUBLISH_BIN=${KFP_PUBLISH_BIN:-$PWD/$build_dir/agent/kfp-publish}
status=0
for test in tests/integration/test_deploy*.py; do
  python3 "$test" -v || status=1
done
exit "$status"
