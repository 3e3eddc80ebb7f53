#!/usr/bin/env python3
"""A stand-in for kubectl in the tests of ci/kfp-job.sh and the README's set-up commands. It answers
the calls those scripts make the way kubectl and the API server answer them, failure modes included,
from a scenario; `kustomize` runs the real kubectl (FAKE_KUBECTL_REAL).

Environment: FAKE_KUBECTL_STATE (a JSON file: the scenario and the objects the calls created; read
and written under a lock, since a script runs kubectl calls concurrently) and FAKE_KUBECTL_LOG (one
JSON line per call: the arguments).

Scenario keys (all optional):
  steps      the Job as successive `get job -o json` calls see it: [{"job": {status fields},
             "pods": [{"name", "state": {container state}, "message"?, "init": [statuses]?}]}];
             the last step repeats. "%JOB%" in pod names is the created Job's name.
  logs       {pod name: log text}
  events     [{"kind", "name", "type", "reason", "message"}] (involvedObject kind/name)
  faults     [{"verb", "resource"?, "skip"?: N, "times": N, "error": "refused"|"timeout"|"forbidden"|"notfound"}]
  namespaces the namespaces that exist (default: any); `profile_creates` {profile name: gets until its
             namespace exists}, for the set-up commands
  delay      seconds every call takes (a slow API server)
The messages are kubectl's own (k8s.io/kubectl/pkg/cmd/util/helpers.go, StandardErrorMessage, and
the apimachinery status errors): every failure exits 1.
"""
import fcntl
import json
import os
import subprocess
import sys
import time

SERVER = "10.96.0.1:443"
ERRORS = {
    "refused": f"The connection to the server {SERVER} was refused - did you specify the right host or port?",
    "timeout": f"Unable to connect to the server: dial tcp {SERVER}: i/o timeout",
}
PLURAL = {"job": "jobs.batch", "jobs": "jobs.batch", "pod": "pods", "pods": "pods", "configmap": "configmaps",
          "events": "events", "profile": "profiles.kubeflow.org", "namespace": "namespaces", "cronjob": "cronjobs.batch"}


class Failure(Exception):
    pass


def option(argv, *names, default=None):
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg[len(name) + 1:]
    return default


def positional(argv):
    """The words that are neither flags nor flag values."""
    words, skip = [], False
    with_value = {"-n", "--namespace", "-o", "--output", "-l", "--selector", "-f", "--filename", "-c",
                  "--container", "-p", "--patch", "--type", "--field-selector", "-k"}
    for arg in argv:
        if skip:
            skip = False
        elif arg in with_value:
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
    return words


def fault(state, verb, resource):
    for f in state.get("faults", []):
        if f["verb"] != verb or f.get("resource", resource) != resource:
            continue
        seen = f.get("seen", 0)
        f["seen"] = seen + 1
        if f.get("skip", 0) <= seen < f.get("skip", 0) + f.get("times", 1):
            return f["error"]
    return None


def raise_error(kind, resource, name, namespace, verb):
    if kind in ERRORS:
        raise Failure(ERRORS[kind])
    plural = PLURAL.get(resource, resource)
    if kind == "notfound":
        raise Failure(f'Error from server (NotFound): {plural} "{name}" not found')
    if kind == "forbidden":
        raise Failure(f'Error from server (Forbidden): {plural} "{name}" is forbidden: User '
                      f'"system:serviceaccount:arc-runners:arc-runner" cannot {verb} resource "{plural.split(".")[0]}" '
                      f'in API group "{plural.split(".", 1)[1] if "." in plural else ""}" in the namespace "{namespace}"')
    raise AssertionError(kind)


def job_of(state, name, namespace):
    job = state.get("objects", {}).get(f"Job/{namespace}/{name}")
    if job is None or job.get("deleted"):
        raise_error("notfound", "job", name, namespace, "get")
    return job


def current_step(state):
    steps = state.get("steps") or [{"job": {"active": 1}, "pods": []}]
    return steps[min(state.get("step", 0), len(steps) - 1)]


def pods_json(state, job_name, namespace):
    items = []
    for i, pod in enumerate(current_step(state).get("pods", [])):
        name = pod["name"].replace("%JOB%", job_name)
        container = {"name": "kfp-publish", "state": pod.get("state", {"waiting": {"reason": "ContainerCreating"}})}
        items.append({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": namespace, "labels": {"job-name": job_name},
                                   "creationTimestamp": f"2026-01-01T00:00:{i:02d}Z"},
                      "status": {"phase": pod.get("phase", "Pending"), "containerStatuses": [container],
                                 "initContainerStatuses": pod.get("init", [])}})
    return {"apiVersion": "v1", "kind": "List", "items": items}


def run_pod(state, job):
    """The Job's pod, run by tests/deploy/kubelet.py with the ConfigMaps the script created; the
    Job is Complete when it exits 0, else Failed (one pod: the podFailurePolicy's retries of exit 7
    are not replayed here)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import kubelet  # noqa: E402  (tests/deploy/kubelet.py)
    state["ran"] = True
    setup = state["kubelet"]
    namespace = job["metadata"]["namespace"]
    maps = {d["metadata"]["name"]: d.get("data", {}) for k, d in state["objects"].items()
            if k.startswith(f"ConfigMap/{namespace}/")}
    template = job["spec"]["template"]
    labels = {**template["metadata"].get("labels", {}), "controller-uid": job["metadata"]["uid"],
              "job-name": job["metadata"]["name"]}
    pod = {"metadata": {"name": job["metadata"]["name"] + "-kblt1", "namespace": namespace, "uid": "pod-uid",
                        "labels": labels}, "spec": template["spec"]}
    plan, termination = kubelet.prepare(pod, "kfp-publish", setup["rootfs"], maps, setup["token"], setup["node"],
                                        env_overrides={"KFP_HOST": setup["host"]}, dockerfile=setup.get("dockerfile"))
    completed = kubelet.run(plan)
    message, _ = kubelet.termination_message(termination)
    condition = "Complete" if completed.returncode == 0 else "Failed"
    state["steps"] = [{"job": {"conditions": [{"type": condition}]},
                       "pods": [{"name": "%JOB%-kblt1", "phase": "Succeeded" if condition == "Complete" else "Failed",
                                 "state": {"terminated": {"exitCode": completed.returncode, "message": message}}}]}]
    state["step"] = -1
    state.setdefault("logs", {})["%JOB%-kblt1"] = completed.stderr


def handle(argv, state):
    verb = argv[0]
    words = positional(argv)
    namespace = option(argv, "-n", "--namespace", default="default")
    output = option(argv, "-o", "--output", default="")

    if verb == "create":
        import yaml  # here only: most calls need no YAML, and every call is a process start
        if fault_kind := fault(state, "create", "job"):
            raise_error(fault_kind, "job", "?", namespace, "create")
        with open(option(argv, "-f", "--filename"), encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        names = []
        for doc in docs:
            ns = doc["metadata"].get("namespace", namespace)
            existing = state.get("namespaces")
            if existing is not None and ns not in existing:
                raise Failure(f'Error from server (NotFound): error when creating "{option(argv, "-f")}": '
                              f'namespaces "{ns}" not found')
            key = f"{doc['kind']}/{ns}/{doc['metadata']['name']}"
            if key in state.setdefault("objects", {}):
                raise Failure(f'Error from server (AlreadyExists): error when creating "{option(argv, "-f")}": '
                              f'{PLURAL[doc["kind"].lower()]} "{doc["metadata"]["name"]}" already exists')
            doc["metadata"]["uid"] = f"uid-{len(state['objects'])}"
            state["objects"][key] = doc
            group = doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""
            names.append(f"{doc['kind'].lower()}{'.' + group if group else ''}/{doc['metadata']['name']}")
        return "\n".join(names) + "\n"

    if verb == "get":
        resource = words[1]
        if fault_kind := fault(state, "get", resource):
            raise_error(fault_kind, resource, words[2] if len(words) > 2 else "", namespace, "get")
        if resource == "job":
            job = job_of(state, words[2], namespace)
            if "kubelet" in state and output == "json" and not state.get("ran"):
                run_pod(state, job)
            if output == "jsonpath={.metadata.uid}":
                return job["metadata"]["uid"]
            if output != "json":
                raise AssertionError(f"unexpected output {output}")
            state["step"] = state.get("step", -1) + 1
            status = dict(current_step(state).get("job", {}))
            status["conditions"] = [{"status": "True", "reason": "", "message": "", **c}
                                    for c in status.get("conditions", [])]
            return json.dumps({**job, "status": status})
        if resource == "pods":
            job_name = option(argv, "-l", "--selector").split("=", 1)[1]
            return json.dumps(pods_json(state, job_name, namespace))
        if resource == "events":
            selector = dict(kv.split("=", 1) for kv in option(argv, "--field-selector").split(","))
            job_name = next((k.split("/")[2] for k in state.get("objects", {}) if k.startswith("Job/")), "")
            items = [{"type": e.get("type", "Warning"), "reason": e["reason"], "message": e["message"],
                      "involvedObject": {"kind": e["kind"], "name": e["name"].replace("%JOB%", job_name)},
                      "lastTimestamp": f"2026-01-01T00:01:{i:02d}Z"}
                     for i, e in enumerate(state.get("events", []))]
            items = [e for e in items if all(e["involvedObject"][k.split(".")[1]] == v for k, v in selector.items())]
            return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
        if resource == "namespace":
            name = words[2]
            gets = state.setdefault("namespace_gets", {})
            gets[name] = gets.get(name, 0) + 1
            if name not in state.get("namespaces", []):
                for profile, after in state.get("profile_creates", {}).items():
                    if profile == name and f"Profile//{name}" in state.get("objects", {}) and gets[name] > after:
                        state.setdefault("namespaces", []).append(name)
            if name not in state.get("namespaces", []):
                raise_error("notfound", "namespace", name, "", "get")
            return f"namespace/{name}\n"
        raise AssertionError(f"unexpected get {argv}")

    if verb == "patch":
        if fault_kind := fault(state, "patch", "configmap"):
            raise_error(fault_kind, "configmap", words[1], namespace, "patch")
        key = f"ConfigMap/{namespace}/{words[1].split('/', 1)[1]}"
        state["objects"][key].setdefault("metadata", {}).update(json.loads(option(argv, "-p", "--patch"))["metadata"])
        return f"{words[1]} patched\n"

    if verb == "logs":
        pod = next(a for a in argv if a.startswith("pod/")).split("/", 1)[1]  # -f is --follow here
        logs = state.get("logs", {})
        job_name = next((k.split("/")[2] for k in state.get("objects", {}) if k.startswith("Job/")), "")
        for name, text in logs.items():
            if name.replace("%JOB%", job_name) == pod:
                return text
        raise_error("notfound", "pod", pod, namespace, "get")

    if verb == "delete":
        resource, names = words[1], words[2:]
        if fault_kind := fault(state, "delete", resource):
            raise_error(fault_kind, resource, names[0], namespace, "delete")
        out = []
        for name in names:
            kind = {"job": "Job", "configmap": "ConfigMap"}[resource]
            found = state.get("objects", {}).get(f"{kind}/{namespace}/{name}")
            if found is None or found.get("deleted"):
                if "--ignore-not-found" in argv:
                    continue
                raise_error("notfound", resource, name, namespace, "delete")
            found["deleted"] = True
            out.append(f'{PLURAL[resource]} "{name}" deleted')
        return "".join(line + "\n" for line in out)

    if verb == "apply":
        # kubectl apply -k DIR: the real kustomize output, applied in its order, one error per object
        # whose namespace does not exist (as the API server answers), exit 1 if any failed.
        import yaml
        rendered = subprocess.run([os.environ["FAKE_KUBECTL_REAL"], "kustomize", option(argv, "-k")],
                                  capture_output=True, text=True, check=True).stdout
        out, errors = [], []
        for doc in (d for d in yaml.safe_load_all(rendered) if d):
            ns = doc["metadata"].get("namespace", "")
            if ns and ns not in state.get("namespaces", []):
                errors.append(f'Error from server (NotFound): error when creating "{option(argv, "-k")}": '
                              f'namespaces "{ns}" not found')
                continue
            state.setdefault("objects", {})[f"{doc['kind']}/{ns}/{doc['metadata']['name']}"] = doc
            out.append(f"{doc['kind'].lower()}/{doc['metadata']['name']} created")
        if errors:
            print("\n".join(out))
            raise Failure("\n".join(errors))
        return "\n".join(out) + "\n"

    raise AssertionError(f"unexpected call {argv}")


def main(argv):
    argv = [a for a in argv if not a.startswith("--request-timeout")]
    with open(os.environ["FAKE_KUBECTL_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(argv) + "\n")
    if argv[0] == "kustomize":
        return subprocess.run([os.environ["FAKE_KUBECTL_REAL"], *argv], check=False).returncode
    path = os.environ["FAKE_KUBECTL_STATE"]
    with open(path, "r+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        state = json.load(f)
        try:
            output, code = handle(argv, state), 0
        except Failure as failure:
            output, code = None, 1
            message = str(failure)
        f.seek(0)
        f.truncate()
        json.dump(state, f)
    time.sleep(state.get("delay", 0))
    if code:
        print(message, file=sys.stderr)
        return code
    sys.stdout.write(output)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
