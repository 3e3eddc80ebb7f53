"""The publish-and-run scenarios with kfp-publish talking through the contract checker (Prism
proxy, report-only, the real v2beta1 spec, YAML packages): no request or response violation."""

import unittest

from contract_harness import ContractProxy
from publish_harness import PublishTestCase


class PublishThroughContract(PublishTestCase):
    def setUp(self):
        super().setUp()
        self.proxy = ContractProxy(self)
        self.host = f"http://127.0.0.1:{self.proxy.start(self.emu.port)}"

    def test_publish_and_run_scenarios_conform_to_the_spec(self):
        pkg = self.package()
        codes = []
        codes.append(self.kfp("publish", pkg, "--pipeline", "hello").code)              # created
        codes.append(self.kfp("publish", pkg, "--pipeline", "hello").code)              # unchanged
        pkg.write_text(pkg.read_text() + "\n# changed\n")
        codes.append(self.kfp("publish", pkg, "--pipeline", "hello", "--run", "--experiment", "ci",
                              "--param", "message=hi", "--wait", "--run-key", "a").code)  # updated + run
        codes.append(self.kfp("publish", pkg, "--pipeline", "hello", "--version", "v1").code)
        pkg.write_text(pkg.read_text() + "\n# changed again\n")
        codes.append(self.kfp("publish", pkg, "--pipeline", "hello", "--version", "v1").code)  # clash
        self.emu.set_outcome("FAILED")
        codes.append(self.kfp("run", "--pipeline", "hello", "--experiment", "ci", "--param", "message=x",
                              "--wait", "--run-key", "b").code)
        codes.append(self.kfp("run", "--pipeline", "hello", "--experiment", "ci", "--param", "nope=1").code)
        codes.append(self.kfp("run", "--pipeline", "missing", "--experiment", "ci").code)
        self.emu.set_outcome("HANG")
        codes.append(self.kfp("run", "--pipeline", "hello", "--experiment", "ci2", "--param", "message=x",
                              "--wait", "--wait-timeout", "1s", "--cancel-on-timeout", "--run-key", "c").code)
        self.assertEqual(codes, [0, 0, 0, 0, 6, 1, 3, 6, 8])
        found = self.proxy.violations()
        self.assertEqual(found, "", f"contract violations (log {self.proxy.log}):\n{found}")


if __name__ == "__main__":
    unittest.main()
