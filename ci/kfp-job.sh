#!/usr/bin/env bash
# Runs kfp-publish once as a Kubernetes Job in a Kubeflow profile namespace and passes its outcome
# through: the one command for a one-off upload from any machine with kubectl access to the profile,
# and the step of the GitHub workflow (ci/github/workflows/publish-pipeline.yaml).
#
#   ci/kfp-job.sh -n team-a -p my-pipeline [--params-file params.yaml] my-pipeline.yaml
#
# It renders a kustomize overlay with this run's package, settings and a unique name, creates the Job
# and its two ConfigMaps (owned by the Job, so its TTL removes them), streams the pod's log, explains
# a pod that never starts (image pull, configuration, quota or admission refusal) from its events
# within about a minute, and exits with the pod's kfp-publish exit code. On SIGINT/SIGTERM it deletes
# the Job it created, and nothing else. In GitHub Actions it also appends the report's fields to
# $GITHUB_OUTPUT and a table to $GITHUB_STEP_SUMMARY.
#
# Options (each also from the environment, for CI; options win):
#   PACKAGE                  KFP_JOB_PACKAGE       compiled pipeline, YAML/JSON, < 1 MiB (a ConfigMap)
#   -n, --namespace NS       KFP_JOB_NAMESPACE     profile namespace (required)
#   -p, --pipeline NAME      KFP_JOB_PIPELINE      pipeline name (required)
#   -e, --experiment NAME    KFP_JOB_EXPERIMENT    experiment for the run (ci)
#   --params-file FILE       KFP_JOB_PARAMS_FILE   run parameters, a YAML/JSON mapping (none)
#   --overlay DIR            KFP_JOB_OVERLAY       kustomize overlay (manifests/overlays/in-cluster)
#   --image IMAGE            KFP_JOB_IMAGE         kfp-publish image (the overlay's)
#   --wait-timeout DUR       KFP_JOB_WAIT_TIMEOUT  kfp-publish --wait-timeout (1h)
#   --name-suffix SUFFIX     KFP_JOB_SUFFIX        Job name suffix (GitHub: run id-attempt; else time-random)
#   --source-url URL         KFP_JOB_SOURCE_URL    --code-source-url (GitHub: the commit's tree URL)
#   KFP_JOB_POLL_SECONDS     seconds between status checks (5)
#   KFP_JOB_START_TIMEOUT    seconds a pod may stay unable to start before this gives up (60)
#   KFP_JOB_KUBECTL_RETRIES  tries of a kubectl call that failed on the connection (5)
#   KFP_JOB_RETRY_SECONDS    first pause between those tries, doubled after each (1)
#
# Exit status: the pod's kfp-publish exit code (README "Exit codes"). Otherwise, never 1:
#   2  set-up error: bad option, missing tool, kubectl refused (Forbidden, invalid), a pod that never
#      starts (reason from its events), Job creation refused
#   7  the Kubernetes API stayed unreachable, the Job disappeared, or the Job failed without a failing
#      kfp-publish exit code (deadline, backoff limit) — including a Failed Job whose pod exited 0
#   130 interrupted (the Job was deleted)
set -euo pipefail

readonly container=kfp-publish
readonly configmap_limit_bytes=1000000  # a ConfigMap holds at most 1 MiB, keys and metadata included
readonly exit_setup=2
readonly exit_unavailable=7
readonly exit_interrupted=130
# Waiting reasons of a container that will not start without someone changing something.
readonly stuck_reasons=" ErrImagePull ImagePullBackOff InvalidImageName ErrImageNeverPull CreateContainerConfigError CreateContainerError RunContainerError "

repo=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "kfp-job: $*" >&2; }
# A workflow command is one line: %, CR and LF are escaped as the runner expects (%25, %0D, %0A).
annotate() {
  local text="$*"
  if [[ -n "${GITHUB_ACTIONS:-}" ]]; then
    text=${text//%/%25}
    text=${text//$'\r'/%0D}
    echo "::error title=kfp-job::${text//$'\n'/%0A}"
  else
    log "error: $text"
  fi
}
die() { annotate "$*"; exit "$exit_setup"; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0; }

package=${KFP_JOB_PACKAGE:-}
namespace=${KFP_JOB_NAMESPACE:-}
pipeline=${KFP_JOB_PIPELINE:-}
experiment=${KFP_JOB_EXPERIMENT:-ci}
params_file=${KFP_JOB_PARAMS_FILE:-}
overlay=${KFP_JOB_OVERLAY:-$repo/manifests/overlays/in-cluster}
image=${KFP_JOB_IMAGE:-}
wait_timeout=${KFP_JOB_WAIT_TIMEOUT:-1h}
suffix=${KFP_JOB_SUFFIX:-}
source_url=${KFP_JOB_SOURCE_URL:-}
poll_seconds=${KFP_JOB_POLL_SECONDS:-5}
start_timeout=${KFP_JOB_START_TIMEOUT:-60}
kubectl_tries=${KFP_JOB_KUBECTL_RETRIES:-5}
retry_seconds=${KFP_JOB_RETRY_SECONDS:-1}

while (($# > 0)); do
  case "$1" in
    -n | --namespace) namespace=${2:?}; shift 2 ;;
    -p | --pipeline) pipeline=${2:?}; shift 2 ;;
    -e | --experiment) experiment=${2:?}; shift 2 ;;
    --params-file) params_file=${2:?}; shift 2 ;;
    --overlay) overlay=${2:?}; shift 2 ;;
    --image) image=${2:?}; shift 2 ;;
    --wait-timeout) wait_timeout=${2:?}; shift 2 ;;
    --name-suffix) suffix=${2:?}; shift 2 ;;
    --source-url) source_url=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) package=$1; shift ;;
  esac
done

command -v kubectl >/dev/null || die "kubectl is not on PATH"
command -v jq >/dev/null || die "jq is not on PATH"
[[ -n "$namespace" ]] || die "no namespace: -n NAMESPACE or KFP_JOB_NAMESPACE"
[[ -n "$pipeline" ]] || die "no pipeline name: -p NAME or KFP_JOB_PIPELINE"
[[ -n "$package" ]] || die "no package: give the compiled pipeline file (or KFP_JOB_PACKAGE)"
# A DNS-1123 label, as Kubernetes requires of a namespace; checked here for a clear message.
[[ "$namespace" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] || die "not a namespace name: $namespace"
[[ -d "$overlay" ]] || die "no kustomize overlay at $overlay"
[[ -f "$package" ]] || die "no pipeline package at $package"
case "$package" in
  *.yaml | *.yml | *.json) ;;
  *) die "$package: only YAML/JSON packages fit a ConfigMap; bake archives into an image instead" ;;
esac
package_bytes=$(wc -c <"$package")
((package_bytes < configmap_limit_bytes)) ||
  die "$package is $package_bytes bytes; a ConfigMap holds at most 1 MiB (README \"Deploying\")"
if [[ -n "$params_file" ]]; then
  [[ -f "$params_file" ]] || die "no parameters file at $params_file"
fi
if [[ -z "$suffix" ]]; then
  if [[ -n "${GITHUB_RUN_ID:-}" ]]; then
    suffix="$GITHUB_RUN_ID-${GITHUB_RUN_ATTEMPT:-1}"
  else
    suffix="$(date -u +%Y%m%d%H%M%S)-$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')"
  fi
fi
[[ "$suffix" =~ ^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$ ]] || die "not a name suffix: $suffix"
if [[ -z "$source_url" && -n "${GITHUB_REPOSITORY:-}" ]]; then
  source_url="${GITHUB_SERVER_URL:-https://github.com}/$GITHUB_REPOSITORY/tree/${GITHUB_SHA:-unknown}"
fi
job="kfp-publish-$suffix"

work=$(mktemp -d)
creating=false
job_created=false
followers=()

# --- kubectl with the failure modes told apart -----------------------------------------------------
# A call that failed on the connection (the request may never have reached the API server) is
# retried with backoff; NotFound and refusals are not. $kubectl_out and $kubectl_err hold the answer.
kubectl_out=""
kubectl_err=""
kubectl_pid=""
transient_error() {
  grep -qiE 'unable to connect to the server|connection refused|connection reset|i/o timeout|TLS handshake timeout|no route to host|http2: |unexpected EOF|the server is currently unable|etcdserver: request timed out|Client\.Timeout exceeded|context deadline exceeded|\(ServiceUnavailable\)|\(InternalError\)|\(Timeout\)|\(TooManyRequests\)|was refused' <<<"$1"
}
not_found() { grep -q '(NotFound)' <<<"$1"; }
kc() {
  local try=1 delay=$retry_seconds
  while true; do
    # In the background and waited for: a signal's trap runs at once, not when kubectl returns.
    kubectl --request-timeout=20s "$@" >"$work/kubectl.out" 2>"$work/kubectl.err" &
    kubectl_pid=$!
    if wait "$kubectl_pid"; then
      kubectl_out=$(<"$work/kubectl.out")
      kubectl_err=""
      return 0
    fi
    kubectl_out=""
    kubectl_err=$(<"$work/kubectl.err")
    if ! transient_error "$kubectl_err" || ((try >= kubectl_tries)); then
      return 1
    fi
    log "kubectl $1 $2: ${kubectl_err%%$'\n'*} (try $try of $kubectl_tries, again in ${delay}s)"
    pause "$delay"
    try=$((try + 1))
    delay=$((delay * 2))
  done
}
# The exit status for a kubectl call that failed for good.
kubectl_failure() {
  annotate "kubectl $1: ${kubectl_err:-failed}"
  if transient_error "$kubectl_err" || not_found "$kubectl_err"; then
    return "$exit_unavailable"
  fi
  return "$exit_setup"
}

# A pause the signal traps can interrupt: bash runs a trap only after a foreground child exits, so
# a foreground `sleep` would hold a cancellation back for the whole pause.
pause_pid=""
pause() {
  sleep "$1" &
  pause_pid=$!
  wait "$pause_pid" || true
  pause_pid=""
}

# --- outputs --------------------------------------------------------------------------------------
report=""
outputs_written=false
write_outputs() {
  local code=$1 state=$2 fields=""
  $outputs_written && return 0
  outputs_written=true
  if [[ -n "$report" ]] && jq -e 'type == "object"' >/dev/null 2>&1 <<<"$report"; then
    fields=$(jq -c '[["pipeline_id", .pipeline.id], ["version_id", .version.id],
      ["version_name", .version.name], ["run_id", .run.id], ["run_state", .run.state],
      ["outcome", .outcome]] | map(select(.[1] != null))' <<<"$report")
  else
    fields="[]"
  fi
  fields=$(jq -c --arg code "$code" --arg job "$job" '. + [["exit_code", $code], ["job_name", $job]]' <<<"$fields")
  if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    # name<<DELIMITER lines: a value with a newline cannot add an output of its own.
    local delimiter
    delimiter="kfp_job_$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
    jq -r --arg d "$delimiter" '.[] | "\(.[0])<<\($d)\n\(.[1] | tostring)\n\($d)"' <<<"$fields" >>"$GITHUB_OUTPUT"
  fi
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    {
      echo "### kfp-publish: job/$job $state (exit code $code)"
      echo
      echo "| field | value |"
      echo "| --- | --- |"
      jq -r '.[] | "| \(.[0]) | \(.[1] | tostring | gsub("[|\n]"; " ")) |"' <<<"$fields"
    } >>"$GITHUB_STEP_SUMMARY"
  fi
}

finish() {
  local code=$1 state=$2
  stop_followers
  write_outputs "$code" "$state"
  exit "$code"
}

# --- log streaming --------------------------------------------------------------------------------
declare -A followed=()
follow_logs() {
  local pod=$1
  [[ -n "${followed[$pod]:-}" ]] && return 0
  followed[$pod]=1
  echo "----- log of pod/$pod -----"
  kubectl logs -f "pod/$pod" -n "$namespace" -c "$container" --request-timeout=0 &
  followers+=($!)
}
stop_followers() {
  local pid deadline=$((SECONDS + 30))
  for pid in "${followers[@]}"; do
    # A follower ends with its container; give it a little while to drain, then stop it.
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do pause 0.1; done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  followers=()
}

# shellcheck disable=SC2317  # called through the traps
on_signal() {
  trap - INT TERM
  if $job_created || $creating; then
    # Only what this run created, by its unique names (a create cut short may or may not have
    # happened: --ignore-not-found). The ConfigMaps go too, in case they were not yet the Job's.
    log "interrupted: deleting job/$job (its pod gets SIGTERM; a KFP run already started keeps running)"
    kubectl delete job "$job" -n "$namespace" --ignore-not-found --wait=false --request-timeout=5s >&2 || true
    kubectl delete configmap "kfp-publish-package-$suffix" "kfp-publish-settings-$suffix" -n "$namespace" \
      --ignore-not-found --wait=false --request-timeout=5s >&2 || true
  fi
  for pid in "${followers[@]}" $pause_pid $kubectl_pid; do kill "$pid" 2>/dev/null || true; done
  followers=()
  write_outputs "$exit_interrupted" interrupted
  exit "$exit_interrupted"
}
trap on_signal INT TERM
trap 'rm -rf "$work"' EXIT

# --- render ---------------------------------------------------------------------------------------
# A throw-away kustomization on top of the overlay, written as JSON by jq: every value is quoted by
# jq, so no option or input can add YAML of its own. Settings go in as files, byte for byte.
cp "$package" "$work/pipeline.yaml"
mkdir "$work/settings"
printf '%s' "$pipeline" >"$work/settings/pipeline"
printf '%s' "$experiment" >"$work/settings/experiment"
printf '%s' "$wait_timeout" >"$work/settings/wait_timeout"
printf '%s' "$source_url" >"$work/settings/code_source_url"
if [[ -n "$params_file" ]]; then cp "$params_file" "$work/settings/params.yaml"; else echo '{}' >"$work/settings/params.yaml"; fi
overlay_rel=$(realpath --relative-to="$work" "$overlay")
jq -n --arg namespace "$namespace" --arg suffix "-$suffix" --arg overlay "$overlay_rel" \
  --arg commit "${GITHUB_SHA:-}" --arg run "${GITHUB_RUN_ID:+$GITHUB_RUN_ID-${GITHUB_RUN_ATTEMPT:-1}}" \
  --arg image "$image" '
  {apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization",
   namespace: $namespace, nameSuffix: $suffix, resources: [$overlay],
   commonAnnotations: ({"kfp-publish/launched-by": "ci/kfp-job.sh"}
     + (if $commit != "" then {"kfp-publish/commit": $commit} else {} end)
     + (if $run != "" then {"kfp-publish/ci-run": $run} else {} end)),
   configMapGenerator: [
     {name: "kfp-publish-package", behavior: "replace", files: ["pipeline.yaml"]},
     {name: "kfp-publish-settings", behavior: "replace",
      files: ["settings/pipeline", "settings/experiment", "settings/wait_timeout",
              "settings/code_source_url", "settings/params.yaml"]}]}
  + (if $image == "" then {} else
     {patches: [{target: {group: "batch", kind: "Job"},
                 patch: ([{op: "replace", path: "/spec/template/spec/containers/0/image", value: $image}] | tojson)}]}
     end)' >"$work/kustomization.yaml"
kubectl kustomize "$work" >"$work/rendered.yaml" 2>"$work/kustomize.err" ||
  die "kubectl kustomize failed: $(<"$work/kustomize.err")"

# --- create ---------------------------------------------------------------------------------------
# Not retried: a create whose answer was lost may have happened. A connection failure here means
# nothing is known to exist; the message names the Job to check.
kc_tries=$kubectl_tries
kubectl_tries=1
creating=true
kc create -f "$work/rendered.yaml" -o name || { kubectl_failure "create job/$job in $namespace" || exit $?; }
creating=false
kubectl_tries=$kc_tries
created=$kubectl_out
grep -qx "job.batch/$job" <<<"$created" || die "kubectl create made no job/$job: $created"
job_created=true
log "created job/$job in $namespace"

# The ConfigMaps belong to the Job: ttlSecondsAfterFinished then deletes them with it.
kc get job "$job" -n "$namespace" -o 'jsonpath={.metadata.uid}' || { kubectl_failure "get job/$job" || finish $? unknown; }
owner=$(jq -cn --arg name "$job" --arg uid "$kubectl_out" \
  '{metadata: {ownerReferences: [{apiVersion: "batch/v1", kind: "Job", name: $name, uid: $uid}]}}')
while IFS= read -r object; do
  [[ "$object" == configmap/* ]] || continue
  kc patch "$object" -n "$namespace" --type=merge -p "$owner" ||
    log "could not hand $object to the Job (${kubectl_err%%$'\n'*}); delete it yourself later"
done <<<"$created"

# --- wait -----------------------------------------------------------------------------------------
# Events that say why a pod of this Job cannot start; the Job's own FailedCreate events carry quota
# and admission refusals (no pod exists then).
explain_events() {
  local kind=$1 name=$2
  kc get events -n "$namespace" --field-selector "involvedObject.kind=$kind,involvedObject.name=$name" -o json || return 0
  jq -r '[.items[] | select(.type == "Warning")] | sort_by(.lastTimestamp // .eventTime // "")
         | .[-3:][] | "  \(.reason): \(.message)"' <<<"$kubectl_out" 2>/dev/null || true
}

state=""
stuck_since=""
last=""
while true; do
  if ! kc get job "$job" -n "$namespace" -o json; then
    if not_found "$kubectl_err"; then
      annotate "job/$job disappeared (deleted by someone else?); its outcome is unknown"
      finish "$exit_unavailable" deleted
    fi
    kubectl_failure "get job/$job" || finish $? unknown
  fi
  job_json=$kubectl_out
  state=$(jq -r '[.status.conditions[]? | select(.status == "True") | .type]
                 | if index("Complete") then "Complete" elif index("Failed") then "Failed" else "" end' <<<"$job_json")
  [[ -n "$state" ]] && break

  kc get pods -n "$namespace" -l "job-name=$job" -o json || { kubectl_failure "get pods of job/$job" || finish $? unknown; }
  pods_json=$kubectl_out
  # One line per pod: name, then its container's state (running/terminated/waiting:REASON).
  while IFS=$'\t' read -r pod pod_state; do
    [[ -n "$pod" ]] || continue
    case "$pod_state" in
      running | terminated) follow_logs "$pod" ;;
    esac
  done < <(jq -r --arg c "$container" '.items[] | [.metadata.name,
      ((.status.containerStatuses // [])[] | select(.name == $c) | .state
       | if .running then "running" elif .terminated then "terminated"
         else "waiting:" + (.waiting.reason // "") end) // "pending"] | @tsv' <<<"$pods_json")

  # Why nothing runs: a container that cannot start, or a Job that cannot make its pod.
  problem=$(jq -r --arg c "$container" --arg reasons "$stuck_reasons" '
      [.items[] | . as $pod | ((.status.containerStatuses // []) + (.status.initContainerStatuses // []))[]
       | select(.state.waiting.reason as $r | $r != null and ($reasons | contains(" " + $r + " ")))
       | "pod/\($pod.metadata.name) \(.name): \(.state.waiting.reason): \(.state.waiting.message // "")"][0] // ""' <<<"$pods_json")
  if [[ -z "$problem" && $(jq '.items | length' <<<"$pods_json") == 0 ]] &&
    kc get events -n "$namespace" --field-selector "involvedObject.kind=Job,involvedObject.name=$job" -o json; then
    problem=$(jq -r --arg job "$job" '[.items[]? | select(.reason == "FailedCreate")][-1]
                                     | if . then "job/\($job): FailedCreate: \(.message)" else "" end' <<<"$kubectl_out")
  fi
  if [[ -n "$problem" ]]; then
    [[ -n "$stuck_since" ]] || stuck_since=$SECONDS
    if ((SECONDS - stuck_since >= start_timeout)); then
      annotate "job/$job cannot start its pod: $problem"
      stuck_pod=$(jq -r '.items[-1].metadata.name // ""' <<<"$pods_json")
      if [[ -n "$stuck_pod" ]]; then explain_events Pod "$stuck_pod" >&2; else explain_events Job "$job" >&2; fi
      log "deleting job/$job, which cannot run as it is"
      kc delete job "$job" -n "$namespace" --wait=false || true
      job_created=false
      finish "$exit_setup" NotStarted
    fi
  else
    stuck_since=""
  fi

  summary=$(jq -r '"active=\(.status.active // 0) failed=\(.status.failed // 0)"' <<<"$job_json")
  [[ "$summary" != "$last" ]] && log "job/$job: $summary${problem:+ ($problem)}"
  last=$summary
  pause "$poll_seconds"
done
log "job/$job: $state"

# --- outcome --------------------------------------------------------------------------------------
exit_code=""
pod=""
if kc get pods -n "$namespace" -l "job-name=$job" -o json; then
  pods_json=$kubectl_out
  # Every pod's log (a retried Job shows each attempt); the newest pod decides.
  while IFS= read -r name; do [[ -n "$name" ]] && follow_logs "$name"; done \
    < <(jq -r '.items | sort_by(.metadata.creationTimestamp) | .[].metadata.name' <<<"$pods_json")
  pod=$(jq -r '.items | sort_by(.metadata.creationTimestamp) | .[-1].metadata.name // ""' <<<"$pods_json")
  terminated=$(jq -c --arg c "$container" '.items | sort_by(.metadata.creationTimestamp) | .[-1]
      | (.status.containerStatuses // [])[] | select(.name == $c) | .state.terminated // empty' <<<"$pods_json")
  if [[ -n "$terminated" ]]; then
    exit_code=$(jq -r '.exitCode' <<<"$terminated")
    # The report is the pod's termination message (kfp-publish writes it to /dev/termination-log).
    report=$(jq -r '.message // ""' <<<"$terminated")
  fi
else
  log "could not read the pods of job/$job: ${kubectl_err%%$'\n'*}"
fi
stop_followers
[[ -n "$report" ]] || log "no report in the termination message of pod/${pod:-none}"

reason=$(jq -r '[.status.conditions[]? | select(.type == "Failed" and .status == "True")][0]
                | if . then "\(.reason): \(.message)" else "" end' <<<"$job_json")
if [[ "$state" == Complete ]]; then
  exit_code=0
elif [[ -z "$exit_code" || "$exit_code" == 0 ]]; then
  # Failed, yet no failing kfp-publish exit code: the deadline, the backoff limit, an eviction.
  annotate "job/$job failed without a kfp-publish failure (exit code ${exit_code:-none}): $reason"
  exit_code=$exit_unavailable
fi
finish "$exit_code" "$state"
