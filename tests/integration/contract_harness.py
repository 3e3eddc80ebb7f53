"""The shared contract checker (../shared/contract: Stoplight Prism with the real KFP spec) as a
proxy in front of kfp-emulator, report-only. Skips cleanly without ../shared or npm."""

import os
import pathlib
import shutil
import socket
import subprocess

import harness


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ContractProxy:
    """Use from a harness.EmulatorTestCase: `proxy = ContractProxy(self)` in setUp (skips the test
    when the checker cannot run), then `port = proxy.start(upstream_port, spec)`, then
    `proxy.violations()` after the traffic."""

    def __init__(self, test):
        shared = harness.shared_dir()
        if shared is None:
            test.skipTest("skipped: ../shared (KFP_SHARED_DIR) is absent, no contract checker")
        self.contract_sh = shared / "contract" / "contract.sh"
        if not self.contract_sh.exists():
            test.skipTest(f"skipped: {self.contract_sh} not found")
        if shutil.which("npm") is None or shutil.which("node") is None:
            test.skipTest("skipped: npm/node not installed, cannot run Prism")
        self.test = test
        self.env = dict(os.environ)
        self.env.setdefault("CONTRACT_HOME", str(pathlib.Path.home() / ".cache" / "kfp-contract"))
        self.env["CONTRACT_LOG_DIR"] = str(test.tmp)
        self.env["CONTRACT_ERRORS"] = "0"
        self.log = None

    def spec(self, version):
        """The Prism spec for "v2beta1" or "v1beta1"."""
        return self.contract_sh.parent / "specs" / f"kfp_api_{version}.prism.json"

    def start(self, upstream_port, spec=""):
        port = free_port()
        # An empty SPEC makes contract_start_proxy use its default (v2beta1).
        script = f'. "{self.contract_sh}" && contract_start_proxy "{spec}" http://127.0.0.1:{upstream_port} {port}'
        started = subprocess.run(["bash", "-c", script], env=self.env, capture_output=True, text=True, timeout=600)
        if started.returncode != 0:
            self.test.fail(f"Prism proxy did not start: {started.stderr[-2000:]}")
        pid = started.stdout.strip().splitlines()[-1]
        self.test.addCleanup(subprocess.run, ["bash", "-c", f'. "{self.contract_sh}" && contract_stop {pid}'],
                             env=self.env, timeout=60)
        self.log = self.test.tmp / f"contract-prism-{port}.log"
        return port

    # Routes the KFP server serves that no v2beta1 spec describes, which kfp-publish reads when a run
    # fails (issue 17): the v1beta1 run, for its workflow's nodes (the v1beta1 spec's own route), and
    # the log endpoint, a plain handler on main.go's top mux that no swagger lists. Prism can only
    # say it has no route for them; their shapes are checked by test_run_failures.
    OUTSIDE_SPEC = ("/apis/v1beta1/runs/", "/apis/v1alpha1/runs/")

    def violations(self):
        result = subprocess.run(["bash", "-c", f'. "{self.contract_sh}" && contract_violations "{self.log}"'],
                                env=self.env, capture_output=True, text=True, timeout=60)
        lines = result.stdout.strip().splitlines()
        # Each "Selected route not found" follows the "Forwarding" line of its request in the log.
        excused, path = [], ""
        for line in pathlib.Path(self.log).read_text(errors="replace").splitlines():
            if "Forwarding" in line and " request to " in line:
                path = "/" + line.split(" request to ", 1)[1].split("/", 3)[-1]
            elif "Selected route not found" in line and path.startswith(self.OUTSIDE_SPEC):
                excused.append(line.strip())
        for line in excused:
            if line in lines:
                lines.remove(line)
        return "\n".join(lines).strip()
