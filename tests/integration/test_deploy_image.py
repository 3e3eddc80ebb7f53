"""The image's final stage, without Docker: stage exactly what ci/scripts/image-files.sh gives the
Dockerfile into an empty directory and run `kfp-publish version`, `validate` and a publish that
resolves the server's name inside it (chroot as the nonroot user when we are root, else the staged
loader with --library-path). Also checks that the Docker build context holds every file the build
reads, and prints the expected image size. The image built for real is tested by
test_image_build.py (`make image`)."""
import os
import re
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

import harness
import image_root

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))
import deploy_support as ds  # noqa: E402

IMAGE_FILES = ds.SOURCE_DIR / "ci" / "scripts" / "image-files.sh"
IMAGE_BINARY = image_root.IMAGE_BINARY
# A bound, not a target: a dynamic development build's closure is ~47 MiB (ICU data through
# libxml2); the Release image is ~10.4 MiB (test_image_build.py holds it to 12 MiB).
MAX_IMAGE_BYTES = 64 * 1024 * 1024
EXIT_INVALID_INPUT = 3
# A loopback address of its own for the stub DNS server, so nothing else on port 53 is disturbed.
STUB_DNS_ADDRESS = "127.0.0.153"


def publish_binary():
    path = os.environ.get("KFP_PUBLISH_BIN") or str(ds.SOURCE_DIR / "build" / "agent" / "kfp-publish")
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest(f"skipped: kfp-publish is not built at {path} (set KFP_PUBLISH_BIN)")
    return path


def example_package():
    for candidate in (ds.SOURCE_DIR / "pipelines-examples" / "hello-world.yaml",
                      ds.MANIFESTS / "package" / "pipeline.yaml"):
        if candidate.is_file():
            return candidate
    raise unittest.SkipTest("skipped: no example package")


class EmptyRoot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        binary = publish_binary()
        cls.tmp = tempfile.TemporaryDirectory()
        work = Path(cls.tmp.name)
        # The Dockerfile strips before staging; do the same so the size is the image's.
        stripped = work / "kfp-publish"
        strip = shutil.which("strip")
        if strip:
            ds.run([strip, "--strip-unneeded", "-o", stripped, binary])
        else:
            shutil.copy2(binary, stripped)
        cls.root = work / "rootfs"
        staged = ds.run([IMAGE_FILES, "--stage", cls.root, stripped])
        if staged.returncode != 0:
            raise AssertionError(f"image-files.sh --stage failed:\n{staged.stderr}")
        cls.listing = ds.run([IMAGE_FILES, stripped]).stdout.splitlines()
        if ds.is_sanitizer_build(binary):
            cls.tmp.cleanup()
            # A sanitizer build needs /proc in the root and is not what the image ships.
            raise unittest.SkipTest("skipped: KFP_PUBLISH_BIN is a sanitizer build, not an image binary")
        cls.package_in_root = "/tmp/" + example_package().name
        shutil.copy(example_package(), cls.root / cls.package_in_root.lstrip("/"))
        invalid = cls.root / "tmp" / "bad_schema_version.yaml"
        invalid.write_text(example_package().read_text(encoding="utf-8")
                           .replace("schemaVersion: 2.1.0", "schemaVersion: 9.9.9"), encoding="utf-8")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_in_root(self, *args):
        if os.geteuid() == 0 and shutil.which("chroot"):
            return image_root.run_in_root(self.root, *args)
        # Not root: the staged loader, told to use only the staged libraries.
        loader = next(self.root.glob("lib64/ld-linux-*.so.*"), None)
        if loader is None:
            self.skipTest("skipped: not root (no chroot) and no staged x86-64 loader")
        library_dirs = ":".join(str(p) for p in self.root.glob("lib*/*-linux-gnu"))
        mapped = [str(self.root) + a if a.startswith("/tmp/") else a for a in args]
        return ds.run([loader, "--inhibit-cache", "--library-path", library_dirs,
                       self.root / IMAGE_BINARY.lstrip("/"), *mapped], env={"PATH": "/nonexistent"})

    def test_version_runs_in_the_empty_root(self):
        completed = self.run_in_root("version")
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        self.assertRegex(completed.stdout + completed.stderr, r"\d+\.\d+\.\d+")

    def test_validate_runs_in_the_empty_root(self):
        completed = self.run_in_root("validate", self.package_in_root)
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        self.assertIn("hello-world", completed.stdout)
        rejected = self.run_in_root("validate", "/tmp/bad_schema_version.yaml")
        self.assertEqual(rejected.returncode, EXIT_INVALID_INPUT, rejected.stdout + rejected.stderr)

    def test_the_root_holds_only_the_binary_libraries_and_certificates(self):
        files = sorted("/" + str(p.relative_to(self.root)) for p in self.root.rglob("*")
                       if p.is_file() or p.is_symlink())
        allowed_prefixes = ("/lib/", "/lib64/", "/usr/lib/", "/tmp/")
        allowed_files = {IMAGE_BINARY, "/etc/ssl/certs/ca-certificates.crt", "/etc/passwd", "/etc/group",
                         "/usr/lib/ssl/cert.pem"}
        for path in files:
            self.assertTrue(path in allowed_files or path.startswith(allowed_prefixes), path)
        self.assertFalse((self.root / "bin" / "sh").exists(), "no shell in the image")
        for line in self.listing:
            source, destination = line.split("\t")
            self.assertTrue((self.root / destination.lstrip("/")).is_file(), destination)
        self.assertTrue(any("/libc.so" in line for line in self.listing))
        self.assertIn("nonroot:x:65532:65532:", (self.root / "etc" / "passwd").read_text())

    def test_expected_image_size(self):
        # The example packages copied in for the runs are not part of the image.
        size = int(ds.run([IMAGE_FILES, "--size", self.root]).stdout)
        size -= sum(p.stat().st_size for p in (self.root / "tmp").iterdir() if p.is_file())
        print(f"\nexpected image size: {size} bytes ({size / 1024 / 1024:.1f} MiB) "
              f"in {len(self.listing)} files", file=sys.stderr)
        self.assertLess(size, MAX_IMAGE_BYTES)
        self.assertGreater(size, 1024 * 1024)


class NameResolutionInTheRoot(harness.EmulatorTestCase):
    """DNS must work in the image (issue 16): the binary resolves the server's name with the shared
    glibc's built-in files and dns sources and no NSS module, from the /etc/hosts and
    /etc/resolv.conf the kubelet mounts. Runs a real publish by host name, inside the staged root."""

    @classmethod
    def setUpClass(cls):
        EmptyRoot.setUpClass.__func__(cls)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        super().setUp()
        image_root.require_root_and_chroot(self)
        if harness.v2_yaml_unreadable():  # publishes the v2 YAML example
            self.skipTest(harness.v2_yaml_unreadable())
        self.emu = self.start_emulator()

    def publish_by_name(self, host_name):
        return image_root.run_in_root(self.root, "publish", self.package_in_root, "--pipeline", "hello",
                                      "--host", f"http://{host_name}:{self.emu.port}", "--retries", "0",
                                      "--request-timeout", "10s", "-o", "json")

    def test_a_name_from_dns_resolves_in_the_root(self):
        with image_root.StubDns(STUB_DNS_ADDRESS, {"kfp-api.dns.test": "127.0.0.1"}) as dns:
            image_root.write_name_service_files(self.root, [], STUB_DNS_ADDRESS)
            completed = self.publish_by_name("kfp-api.dns.test")
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        self.assertIn(("kfp-api.dns.test", 1), dns.queries)

    def test_a_name_from_etc_hosts_wins_over_dns_in_the_root(self):
        # Kubernetes writes hostAliases into /etc/hosts; the DNS server knows nothing of the name.
        with image_root.StubDns(STUB_DNS_ADDRESS, {}) as dns:
            image_root.write_name_service_files(self.root, ["127.0.0.1\tkfp-api.hosts.test"], STUB_DNS_ADDRESS)
            completed = self.publish_by_name("kfp-api.hosts.test")
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        self.assertNotIn("kfp-api.hosts.test", [name for name, _ in dns.queries])

    def test_an_unknown_name_is_a_network_error_not_a_crash(self):
        with image_root.StubDns(STUB_DNS_ADDRESS, {}):
            image_root.write_name_service_files(self.root, [], STUB_DNS_ADDRESS)
            completed = self.publish_by_name("nowhere.dns.test")
        self.assertEqual(completed.returncode, 7, completed.stdout + completed.stderr)
        self.assertIn("nowhere.dns.test", completed.stdout + completed.stderr)


class DockerBuildContext(unittest.TestCase):
    """`docker build` reads only what .dockerignore lets in: every file the build embeds into the
    binary (cmake/embed.cmake) must be both copied by the Dockerfile and let in (issue 13)."""

    def test_every_embedded_file_is_copied_and_let_in(self):
        cmake_files = [ds.SOURCE_DIR / "CMakeLists.txt", *(ds.SOURCE_DIR / "agent").rglob("CMakeLists.txt")]
        embedded = set()
        for cmake_file in cmake_files:
            text = cmake_file.read_text(encoding="utf-8")
            for call in re.findall(r"kfp_embed_text\((.*?)\)\n", text, re.DOTALL):
                embedded.update(re.findall(r"\$\{PROJECT_SOURCE_DIR\}/(\S+)", call))
        self.assertTrue(embedded, "no kfp_embed_text call found: the parsing is out of date")
        dockerfile = (ds.SOURCE_DIR / "Dockerfile").read_text(encoding="utf-8")
        copied = set()
        for line in re.findall(r"^COPY (?!--from)(.+)$", dockerfile, re.MULTILINE):
            copied.update(part.rstrip("/") for part in line.split()[:-1])
        let_in = [line[1:].rstrip("/") for line in
                  (ds.SOURCE_DIR / ".dockerignore").read_text(encoding="utf-8").splitlines() if line.startswith("!")]
        for path in sorted(embedded):
            self.assertTrue((ds.SOURCE_DIR / path).is_file(), path)
            self.assertTrue(any(path == c or path.startswith(c + "/") for c in copied),
                            f"{path} is embedded but the Dockerfile does not COPY it")
            self.assertTrue(any(path == a or path.startswith(a + "/") for a in let_in),
                            f"{path} is embedded but .dockerignore leaves it out")
        for source in copied:
            self.assertTrue(any(source == a or source.startswith(a + "/") for a in let_in),
                            f"the Dockerfile copies {source}, which .dockerignore leaves out")


if __name__ == "__main__":
    unittest.main()
