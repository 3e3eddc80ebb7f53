#!/usr/bin/env bash
# Runs kfp-publish as a Kubernetes Job for this CI run and passes its outcome through:
# renders a kustomize overlay with this run's package, settings and a unique name; creates the Job;
# waits until it completes or fails; prints every pod's logs; appends the report's fields to
# $GITHUB_OUTPUT (and a summary to $GITHUB_STEP_SUMMARY); exits with the pod's exit code.
#
# Needs kubectl (with kustomize, v1.27+) and jq, and the Role in manifests/base/launcher/.
# Settings, from the environment (the workflow's `env:`):
#   KFP_JOB_OVERLAY      kustomize overlay to start from        (manifests/overlays/in-cluster)
#   KFP_JOB_NAMESPACE    profile namespace                      (required)
#   KFP_JOB_PACKAGE      compiled pipeline package, YAML/JSON  (required, < 1 MiB: a ConfigMap)
#   KFP_JOB_PIPELINE     pipeline name                          (required)
#   KFP_JOB_EXPERIMENT   experiment name                        (ci)
#   KFP_JOB_IMAGE        kfp-publish image                      (the overlay's)
#   KFP_JOB_WAIT_TIMEOUT --wait-timeout                         (1h)
#   KFP_JOB_SUFFIX       Job name suffix                        ($GITHUB_RUN_ID-$GITHUB_RUN_ATTEMPT)
#   KFP_JOB_SOURCE_URL   --code-source-url                      ($GITHUB_SERVER_URL/$GITHUB_REPOSITORY/tree/$GITHUB_SHA)
#   KFP_JOB_POLL_SECONDS seconds between status checks          (10)
# Exit status: the pod's kfp-publish exit code (README "Exit codes"); 7 when the Job failed
# without one (image pull, deadline, quota); 2 for a set-up error of this script.
set -euo pipefail

readonly container=kfp-publish
readonly configmap_limit_bytes=1000000  # a ConfigMap holds at most 1 MiB, keys and metadata included
readonly no_exit_code=7

log() { echo "kfp-job: $*" >&2; }
die() { echo "::error title=kfp-job::$*"; exit 2; }

overlay=${KFP_JOB_OVERLAY:-manifests/overlays/in-cluster}
namespace=${KFP_JOB_NAMESPACE:?set KFP_JOB_NAMESPACE to the profile namespace}
package=${KFP_JOB_PACKAGE:?set KFP_JOB_PACKAGE to the compiled pipeline package}
pipeline=${KFP_JOB_PIPELINE:?set KFP_JOB_PIPELINE to the pipeline name}
experiment=${KFP_JOB_EXPERIMENT:-ci}
image=${KFP_JOB_IMAGE:-}
wait_timeout=${KFP_JOB_WAIT_TIMEOUT:-1h}
suffix=${KFP_JOB_SUFFIX:-${GITHUB_RUN_ID:-local}-${GITHUB_RUN_ATTEMPT:-1}}
source_url=${KFP_JOB_SOURCE_URL:-${GITHUB_SERVER_URL:-https://github.com}/${GITHUB_REPOSITORY:-unknown}/tree/${GITHUB_SHA:-unknown}}
poll_seconds=${KFP_JOB_POLL_SECONDS:-10}

command -v kubectl >/dev/null || die "kubectl is not on PATH"
command -v jq >/dev/null || die "jq is not on PATH"
[[ -d "$overlay" ]] || die "no kustomize overlay at $overlay"
[[ -f "$package" ]] || die "no pipeline package at $package"
case "$package" in
  *.yaml | *.yml | *.json) ;;
  *) die "$package: only YAML/JSON packages fit a ConfigMap; bake archives into an image instead" ;;
esac
package_bytes=$(wc -c <"$package")
((package_bytes < configmap_limit_bytes)) ||
  die "$package is $package_bytes bytes; a ConfigMap holds at most 1 MiB (see the Deploying section of README.md)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A throw-away kustomization on top of the overlay: this run's name, package and settings.
cp "$package" "$work/pipeline.yaml"
# kustomize takes only relative paths to other kustomizations.
overlay_rel=$(realpath --relative-to="$work" "$overlay")
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "namespace: $namespace"
  echo "nameSuffix: -$suffix"
  echo "resources:"
  echo "  - $overlay_rel"
  echo "commonAnnotations:"
  echo "  kfp-publish/commit: \"${GITHUB_SHA:-unknown}\""
  echo "  kfp-publish/ci-run: \"${GITHUB_RUN_ID:-local}-${GITHUB_RUN_ATTEMPT:-1}\""
  echo "configMapGenerator:"
  echo "  - name: kfp-publish-package"
  echo "    behavior: replace"
  echo "    files:"
  echo "      - pipeline.yaml"
  echo "  - name: kfp-publish-settings"
  echo "    behavior: merge"
  echo "    literals:"
  echo "      - pipeline=$pipeline"
  echo "      - experiment=$experiment"
  echo "      - wait_timeout=$wait_timeout"
  echo "      - code_source_url=$source_url"
  if [[ -n "$image" ]]; then
    echo "patches:"
    echo "  - target: {group: batch, kind: Job}"
    echo "    patch: |-"
    echo "      - op: replace"
    echo "        path: /spec/template/spec/containers/0/image"
    echo "        value: $image"
  fi
} >"$work/kustomization.yaml"
kubectl kustomize "$work" >"$work/rendered.yaml"

created=$(kubectl create -f "$work/rendered.yaml" -o name)
job=$(grep '^job' <<<"$created" | head -n1)
job=${job#*/}
[[ -n "$job" ]] || die "kubectl create made no Job"
log "created job/$job in $namespace"

# shellcheck disable=SC2317  # called through the trap
cleanup_on_signal() {
  log "interrupted: deleting job/$job (its pod gets SIGTERM; the KFP run is left running)"
  kubectl delete job "$job" -n "$namespace" --wait=false >/dev/null 2>&1 || true
  exit 130
}
trap cleanup_on_signal INT TERM

# The ConfigMaps belong to the Job: ttlSecondsAfterFinished then deletes them with it.
uid=$(kubectl get job "$job" -n "$namespace" -o 'jsonpath={.metadata.uid}')
owner=$(jq -cn --arg name "$job" --arg uid "$uid" \
  '{metadata: {ownerReferences: [{apiVersion: "batch/v1", kind: "Job", name: $name, uid: $uid}]}}')
while IFS= read -r object; do
  [[ "$object" == configmap/* ]] || continue
  kubectl patch "$object" -n "$namespace" --type=merge -p "$owner" >/dev/null
done <<<"$created"

# Wait for the Job's terminal condition. kubectl wait cannot wait for "Complete or Failed".
state=""
last=""
while true; do
  conditions=$(kubectl get job "$job" -n "$namespace" \
    -o 'jsonpath={range .status.conditions[?(@.status=="True")]}{.type}{" "}{end}')
  case " $conditions " in
    *" Complete "*) state=Complete ;;
    *" Failed "*) state=Failed ;;
  esac
  [[ -n "$state" ]] && break
  summary=$(kubectl get job "$job" -n "$namespace" \
    -o 'jsonpath=active={.status.active} failed={.status.failed}')
  [[ "$summary" != "$last" ]] && log "job/$job: $summary"
  last=$summary
  sleep "$poll_seconds"
done
log "job/$job: $state"

pods=$(kubectl get pods -n "$namespace" -l "job-name=$job" --sort-by=.metadata.creationTimestamp \
  -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}')
pod=""
while IFS= read -r name; do
  [[ -n "$name" ]] || continue
  pod=$name
  echo "::group::logs of pod/$name"
  kubectl logs "pod/$name" -n "$namespace" -c "$container" || true
  echo "::endgroup::"
done <<<"$pods"

exit_code=""
report=""
if [[ -n "$pod" ]]; then
  status_path="{.status.containerStatuses[?(@.name==\"$container\")].state.terminated"
  exit_code=$(kubectl get pod "$pod" -n "$namespace" -o "jsonpath=${status_path}.exitCode}")
  report=$(kubectl get pod "$pod" -n "$namespace" -o "jsonpath=${status_path}.message}")
fi
if [[ -z "$exit_code" ]]; then
  reason=$(kubectl get job "$job" -n "$namespace" \
    -o 'jsonpath={range .status.conditions[?(@.type=="Failed")]}{.reason}: {.message}{end}')
  echo "::error title=kfp-publish::job/$job ended without a kfp-publish exit code ($reason)"
  exit_code=$no_exit_code
fi

# The report is the pod's termination message (the Job writes --report there).
fields=""
if [[ -n "$report" ]] && jq -e 'type == "object"' >/dev/null 2>&1 <<<"$report"; then
  fields=$(jq -r '
    [["pipeline_id", .pipeline.id], ["version_id", .version.id], ["version_name", .version.name],
     ["run_id", .run.id], ["run_state", .run.state], ["outcome", .outcome]]
    | .[] | select(.[1] != null) | "\(.[0])=\(.[1])"' <<<"$report")
else
  log "no JSON report in the termination message of pod/${pod:-none}"
fi
fields+=$'\n'"exit_code=$exit_code"$'\n'"job_name=$job"
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  grep -v '^$' <<<"$fields" >>"$GITHUB_OUTPUT"
fi
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
  {
    echo "### kfp-publish: job/$job $state (exit code $exit_code)"
    echo
    echo "| field | value |"
    echo "| --- | --- |"
    grep -v '^$' <<<"$fields" | sed 's/=/ | /; s/^/| /; s/$/ |/'
  } >>"$GITHUB_STEP_SUMMARY"
fi
exit "$exit_code"
