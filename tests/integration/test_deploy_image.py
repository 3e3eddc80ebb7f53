"""The image's final stage, without Docker: stage exactly what ci/scripts/image-files.sh gives the
Dockerfile into an empty directory and run `kfp-publish version` and `validate` inside it (chroot as
the nonroot user when we are root, else the staged loader with --library-path). Also prints the
expected image size, the figure the Deploying section of README.md states."""
import os
import shutil
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy"))
import deploy_support as ds  # noqa: E402

IMAGE_FILES = ds.SOURCE_DIR / "ci" / "scripts" / "image-files.sh"
IMAGE_BINARY = "/usr/local/bin/kfp-publish"
NONROOT = "65532:65532"
# A bound, not a target: the ldd closure is ~47 MiB today, 30 MiB of it ICU data that libarchive
# pulls in through libxml2. A jump past this means another heavy dependency.
MAX_IMAGE_BYTES = 64 * 1024 * 1024
EXIT_INVALID_INPUT = 3


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
        if any("libasan" in line or "libubsan" in line for line in cls.listing):
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
        chroot = shutil.which("chroot")
        if os.geteuid() == 0 and chroot:
            return ds.run([chroot, f"--userspec={NONROOT}", self.root, IMAGE_BINARY, *args],
                          env={"PATH": "/usr/local/bin", "HOME": "/home/nonroot"})
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
        size -= sum(p.stat().st_size for p in (self.root / "tmp").iterdir())
        print(f"\nexpected image size: {size} bytes ({size / 1024 / 1024:.1f} MiB) "
              f"in {len(self.listing)} files", file=sys.stderr)
        self.assertLess(size, MAX_IMAGE_BYTES)
        self.assertGreater(size, 1024 * 1024)


if __name__ == "__main__":
    unittest.main()
