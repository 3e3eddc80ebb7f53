"""The image built for real (`make image`, `make image-arm64`: ci/scripts/image-build.sh builds the
Dockerfile with buildah and unpacks it into build/image/ARCH). Runs `version` and `validate` in the
image's root as uid 65532 (an arm64 root under qemu-aarch64-static), resolves names there, and
checks what issue 16 asks of the image: at most 12 MiB, non-root, no shell, the CA bundle, a binary
that loads only the C library and the loader, the SBOM beside and inside it, the OCI labels.
Skips when the image has not been built (KFP_IMAGE_DIR, default build/image)."""
import json
import os
import shutil
import struct
import sys
import tempfile
import unittest
from pathlib import Path

import harness
import image_root

SOURCE_DIR = Path(os.environ.get("KFP_SOURCE_DIR", Path(__file__).resolve().parents[2]))
IMAGE_DIR = Path(os.environ.get("KFP_IMAGE_DIR", SOURCE_DIR / "build" / "image"))
MAX_IMAGE_BYTES = 12 * 1024 * 1024
EXIT_INVALID_INPUT = 3
STUB_DNS_ADDRESS = "127.0.0.154"
# What a static Release binary may load: glibc's shared objects and nothing else.
GLIBC_SONAMES = {"libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"}
# Debian source packages the binary cannot be without; the SBOM must name each. libstdc++ and libgcc
# come from gcc-12, or from gcc-12-cross when cross-compiled (arm64 built on amd64).
EXPECTED_SOURCES = {"openssl", "boost1.81", "yaml-cpp", "libarchive", "nettle", "glibc", "fmtlib", "cli11", "zlib",
                    "ca-certificates"}
GCC_SOURCES = {"gcc-12", "gcc-12-cross"}
OCI_LABELS = ("org.opencontainers.image.source", "org.opencontainers.image.revision",
              "org.opencontainers.image.version", "org.opencontainers.image.licenses")


def elf_needed(path):
    """DT_NEEDED names of a 64-bit little-endian ELF file, read from its dynamic section."""
    data = Path(path).read_bytes()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not a 64-bit little-endian ELF"
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    segments = [struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize) for i in range(phnum)]
    dynamic = next(s for s in segments if s[0] == 2)  # PT_DYNAMIC
    entries = []
    for offset in range(dynamic[2], dynamic[2] + dynamic[5], 16):
        tag, value = struct.unpack_from("<qQ", data, offset)
        if tag == 0:
            break
        entries.append((tag, value))
    strtab_vaddr = next(v for t, v in entries if t == 5)  # DT_STRTAB
    load = next(s for s in segments if s[0] == 1 and s[3] <= strtab_vaddr < s[3] + s[6])
    strtab = strtab_vaddr - load[3] + load[2]
    names = []
    for tag, value in entries:
        if tag == 1:  # DT_NEEDED
            end = data.index(b"\0", strtab + value)
            names.append(data[strtab + value:end].decode())
    return names


class BuiltImage:
    arch = None

    @classmethod
    def setUpClass(cls):
        built = IMAGE_DIR / cls.arch
        if not (built / "rootfs").is_dir():
            raise unittest.SkipTest(f"skipped: no {cls.arch} image at {built} (make image / make image-arm64)")
        cls.built = built
        cls.tmp = tempfile.TemporaryDirectory()
        # A copy to run in, so the runs' files never count as the image's.
        cls.root = Path(cls.tmp.name) / "rootfs"
        shutil.copytree(built / "rootfs", cls.root, symlinks=True)
        cls.image = json.loads((built / "image.json").read_text())
        shutil.copy(SOURCE_DIR / "pipelines-examples" / "hello-world.yaml", cls.root / "tmp" / "hello-world.yaml")
        (cls.root / "tmp" / "bad_schema_version.yaml").write_text(
            (cls.root / "tmp" / "hello-world.yaml").read_text().replace("schemaVersion: 2.1.0", "schemaVersion: 9.9.9"))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_in_root(self, *args):
        image_root.require_root_and_chroot(self)
        return image_root.run_in_root(self.root, *args)

    def test_version_runs_in_the_image_as_nonroot(self):
        completed = self.run_in_root("version")
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        self.assertRegex(completed.stdout, r"kfp-publish \d+\.\d+\.\d+")

    def test_validate_runs_in_the_image_as_nonroot(self):
        completed = self.run_in_root("validate", "/tmp/hello-world.yaml")
        self.assertEqual(completed.returncode, 0, completed.stdout + completed.stderr)
        self.assertIn("hello-world", completed.stdout)
        rejected = self.run_in_root("validate", "/tmp/bad_schema_version.yaml")
        self.assertEqual(rejected.returncode, EXIT_INVALID_INPUT, rejected.stdout + rejected.stderr)

    def test_the_image_is_small_nonroot_and_has_no_shell(self):
        files = [p for p in (self.built / "rootfs").rglob("*") if p.is_file() and not p.is_symlink()]
        size = sum(p.stat().st_size for p in files)
        print(f"\n{self.arch} image: {size} bytes ({size / 1024 / 1024:.2f} MiB) in {len(files)} files",
              file=sys.stderr)
        self.assertLessEqual(size, MAX_IMAGE_BYTES)
        config = self.image["OCIv1"]["config"]
        self.assertEqual(config["User"], "65532:65532")
        self.assertEqual(config["Entrypoint"], [image_root.IMAGE_BINARY])
        self.assertEqual(self.image["OCIv1"]["architecture"], self.arch)
        names = {p.name for p in (self.built / "rootfs").rglob("*")}
        for shell in ("sh", "bash", "dash", "busybox"):
            self.assertNotIn(shell, names)
        self.assertTrue((self.built / "rootfs" / "etc/ssl/certs/ca-certificates.crt").stat().st_size > 100_000)
        self.assertIn("nonroot:x:65532:65532:", (self.built / "rootfs" / "etc/passwd").read_text())

    def test_the_binary_loads_only_the_c_library(self):
        needed = set(elf_needed(self.built / "rootfs" / image_root.IMAGE_BINARY.lstrip("/")))
        self.assertTrue(needed, "the binary names no library: expected the shared glibc")
        self.assertLessEqual(needed, GLIBC_SONAMES)

    def test_the_sbom_lists_every_linked_component(self):
        beside = json.loads((self.built / "sbom.cdx.json").read_text())
        inside = json.loads((self.built / "rootfs" / "usr/share/doc/kfp-publish/sbom.cdx.json").read_text())
        self.assertEqual(beside, inside)
        self.assertEqual(beside["bomFormat"], "CycloneDX")
        components = beside["components"]
        sources = set()
        for component in components:
            properties = {p["name"]: p["value"] for p in component["properties"]}
            sources.add(properties["debian:source"])
            self.assertTrue(component["version"], component["name"])
            self.assertTrue(component["licenses"], f"{component['name']}: no license")
            self.assertIn(f"arch={self.arch}", component["purl"].replace("arch=all", f"arch={self.arch}"))
        self.assertLessEqual(EXPECTED_SOURCES, sources)
        self.assertTrue(GCC_SOURCES & sources, "no libstdc++/libgcc component")
        linked = [c for c in components if any(p["value"] == "statically linked" for p in c["properties"])]
        self.assertIn("openssl", {next(p["value"] for p in c["properties"] if p["name"] == "debian:source")
                                  for c in linked})

    def test_the_oci_labels_are_set(self):
        labels = self.image["OCIv1"]["config"].get("Labels", {})
        for label in OCI_LABELS:
            self.assertTrue(labels.get(label), f"label {label} is missing")
        self.assertRegex(labels["org.opencontainers.image.version"], r"^\d+\.\d+\.\d+$")
        self.assertEqual(labels["org.opencontainers.image.version"], beside_version(self.built))


def beside_version(built):
    return json.loads((built / "sbom.cdx.json").read_text())["metadata"]["component"]["version"]


class NamesResolveInTheImage(harness.EmulatorTestCase):
    """DNS and /etc/hosts inside the built amd64 image's root (see test_deploy_image.py)."""

    def setUp(self):
        super().setUp()
        built = IMAGE_DIR / "amd64" / "rootfs"
        if not built.is_dir() or os.uname().machine != "x86_64":
            self.skipTest("skipped: no amd64 image built here (make image)")
        image_root.require_root_and_chroot(self)
        if harness.v2_yaml_unreadable():  # publishes the v2 YAML example
            self.skipTest(harness.v2_yaml_unreadable())
        self.root = self.tmp / "rootfs"
        shutil.copytree(built, self.root, symlinks=True)
        shutil.copy(SOURCE_DIR / "pipelines-examples" / "hello-world.yaml", self.root / "tmp" / "hello-world.yaml")
        self.emu = self.start_emulator()

    def publish_by_name(self, name):
        return image_root.run_in_root(self.root, "publish", "/tmp/hello-world.yaml", "--pipeline", "hello",
                                      "--host", f"http://{name}:{self.emu.port}", "--retries", "0", "-o", "json")

    def test_a_name_from_dns_and_one_from_etc_hosts_resolve(self):
        with image_root.StubDns(STUB_DNS_ADDRESS, {"kfp-api.dns.test": "127.0.0.1"}) as dns:
            image_root.write_name_service_files(self.root, ["127.0.0.1\tkfp-api.hosts.test"], STUB_DNS_ADDRESS)
            from_dns = self.publish_by_name("kfp-api.dns.test")
            from_hosts = self.publish_by_name("kfp-api.hosts.test")
        self.assertEqual(from_dns.returncode, 0, from_dns.stdout + from_dns.stderr)
        self.assertEqual(from_hosts.returncode, 0, from_hosts.stdout + from_hosts.stderr)
        self.assertIn(("kfp-api.dns.test", 1), dns.queries)


class Amd64Image(BuiltImage, unittest.TestCase):
    arch = "amd64"


class Arm64Image(BuiltImage, unittest.TestCase):
    arch = "arm64"


if __name__ == "__main__":
    unittest.main()
