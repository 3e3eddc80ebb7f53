#!/usr/bin/env python3
"""A stand-in for kubectl in the tests of ci/github/kfp-job.sh: `kustomize` runs the real kubectl
(FAKE_KUBECTL_REAL); create/get/patch/logs/delete answer from a scenario (FAKE_KUBECTL_SCENARIO,
JSON) and every call is appended to FAKE_KUBECTL_LOG as one JSON line.

Scenario: {"polls_before_done": N, "condition": "Complete"|"Failed", "failed_reason": "...",
           "pods": [{"name": ..., "exit_code": N or null, "message": "...", "logs": "..."}]}
"""
import json
import os
import subprocess
import sys

import yaml


def main(argv):
    scenario_path = os.environ["FAKE_KUBECTL_SCENARIO"]
    with open(scenario_path, encoding="utf-8") as f:
        scenario = json.load(f)
    with open(os.environ["FAKE_KUBECTL_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(argv) + "\n")
    if argv[0] == "kustomize":
        return subprocess.run([os.environ["FAKE_KUBECTL_REAL"], *argv], check=False).returncode

    if argv[0] == "create":
        with open(argv[argv.index("-f") + 1], encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for doc in docs:
            group = doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""
            kind = doc["kind"].lower() + (f".{group}" if group else "")
            print(f"{kind}/{doc['metadata']['name']}")
        scenario["created"] = docs
        with open(scenario_path, "w", encoding="utf-8") as f:
            json.dump(scenario, f)
        return 0

    if argv[0] in ("patch", "delete"):
        return 0

    output = next((a for a in argv if a.startswith("jsonpath=")), "")
    if argv[0] == "get" and argv[1] == "job":
        if "metadata.uid" in output:
            print("uid-1234", end="")
        elif '@.status=="True"' in output:
            polls = scenario.get("polls", 0) + 1
            scenario["polls"] = polls
            with open(scenario_path, "w", encoding="utf-8") as f:
                json.dump(scenario, f)
            if polls > scenario["polls_before_done"]:
                print(f"{scenario['condition']} ", end="")
        elif "active=" in output:
            print("active=1 failed=", end="")
        elif '@.type=="Failed"' in output:
            print(scenario.get("failed_reason", ""), end="")
        return 0

    if argv[0] == "get" and argv[1] == "pods":
        print("".join(p["name"] + "\n" for p in scenario["pods"]), end="")
        return 0

    if argv[0] == "get" and argv[1] == "pod":
        pod = next(p for p in scenario["pods"] if p["name"] == argv[2])
        if output.endswith(".exitCode}"):
            print("" if pod["exit_code"] is None else pod["exit_code"], end="")
        elif output.endswith(".message}"):
            print(pod.get("message", ""), end="")
        return 0

    if argv[0] == "logs":
        pod = next(p for p in scenario["pods"] if argv[1] == f"pod/{p['name']}")
        print(pod.get("logs", ""))
        return 0

    print(f"fake kubectl: unexpected call {argv}", file=sys.stderr)
    return 99


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
