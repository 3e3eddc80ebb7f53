"""OpenSSL is initialised only when a TLS connection is made (issue 16): a publish to an http://
host must not read OpenSSL's configuration or load its providers, which cost a quarter of an
unchanged publish when the digest went through OpenSSL's EVP. The probe is what OpenSSL 3 does
first when it initialises: open its configuration file (OPENSSLDIR/openssl.cnf, or OPENSSL_CONF),
seen with strace. The https:// case shows the probe sees it, and that TLS still verifies."""
import shutil
import unittest

import harness
from publish_harness import PublishTestCase


class OpensslStart(PublishTestCase):
    def setUp(self):
        super().setUp()
        self.strace = shutil.which("strace")
        if self.strace is None:
            self.fail("strace is missing (ci/scripts/install-deps.sh installs it)")
        # A configuration file of our own, so the probe does not depend on where OPENSSLDIR is.
        self.conf = self.write("probe-openssl.cnf", "# read by OpenSSL when it initialises\n")

    def traced(self, *args, host):
        trace = self.tmp / "trace.txt"
        trace.unlink(missing_ok=True)
        argv = [self.strace, "-f", "-qq", "-e", "trace=openat,open", "-o", str(trace), str(self.publish_binary),
                *map(str, args), "--host", host, "--token-file", str(self.token_file)]
        completed = harness.subprocess.run(argv, capture_output=True, text=True, timeout=120,
                                           env={"PATH": "/usr/bin:/bin", "OPENSSL_CONF": str(self.conf),
                                                # LeakSanitizer cannot run under ptrace; the rest of
                                                # ASan does, so a sanitizer build is still checked.
                                                "ASAN_OPTIONS": "detect_leaks=0"})
        self.assertNotIn(self.token, completed.stdout + completed.stderr)
        return completed, trace.read_text()

    def test_an_http_publish_never_initialises_openssl(self):
        package = self.package()
        for outcome in ("created", "unchanged"):
            completed, trace = self.traced("publish", package, "--pipeline", "hello", "-o", "json", host=self.host)
            self.assertEqual(completed.returncode, 0, completed.stderr)
            self.assertIn(f'"outcome":"{outcome}"', completed.stdout.replace(" ", ""))
            self.assertFalse(str(self.conf) in trace, f"OpenSSL read its configuration for an http:// host ({outcome})")

    def test_validate_never_initialises_openssl(self):
        completed, trace = self.traced("validate", self.package(), host=self.host)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertFalse(str(self.conf) in trace, "OpenSSL read its configuration for validate")

    def test_an_https_publish_initialises_openssl_and_verifies(self):
        tls_dir = self.tmp / "tls"
        tls_dir.mkdir()
        cert, key, ca = harness.generate_tls(tls_dir)
        tls_emu = self.start_emulator(*self.emulator_flags, "--token-key", str(self.rsa_key()), tls=(cert, key, ca))
        completed, trace = self.traced("publish", self.package(), "--pipeline", "hello", "-o", "json",
                                       "--ca-file", ca, host=tls_emu.url)
        self.assertEqual(completed.returncode, 0, completed.stderr)
        self.assertTrue(str(self.conf) in trace, "the probe does not see OpenSSL initialise")
        refused, _ = self.traced("publish", self.package(), "--pipeline", "hello", "-o", "json", "--retries", "1",
                                 host=tls_emu.url)
        self.assertEqual(refused.returncode, 7, "a certificate from an unknown CA must fail verification")


if __name__ == "__main__":
    unittest.main()
