"""Running kfp-publish inside an image's root without a container engine, as the image tests need:
chroot as the nonroot user (65532), through qemu-aarch64-static for an arm64 root, with /etc/hosts
and /etc/resolv.conf written the way the kubelet mounts them; and a stub DNS server on a loopback
address so that name resolution inside the root is exercised for real (glibc's resolver, no NSS
module), answering only for the names a test gives it."""
import os
import shutil
import socket
import struct
import subprocess
import threading
import unittest
from pathlib import Path

IMAGE_BINARY = "/usr/local/bin/kfp-publish"
NONROOT = "65532:65532"
QEMU_AARCH64 = "qemu-aarch64-static"


def elf_machine(path):
    """'x86_64' or 'aarch64', from the ELF header's e_machine."""
    with open(path, "rb") as f:
        header = f.read(20)
    machine = struct.unpack_from("<H", header, 18)[0]
    return {0x3E: "x86_64", 0xB7: "aarch64"}.get(machine, f"machine-{machine:#x}")


def require_root_and_chroot(test):
    if os.geteuid() != 0 or shutil.which("chroot") is None:
        test.skipTest("skipped: running in an image root needs root and chroot (CI runs as root)")


def run_in_root(root, *args, timeout=120):
    """Runs kfp-publish in `root` as 65532 with an empty environment but PATH and HOME; an arm64
    root runs under qemu-aarch64-static, copied into the root for the call and removed after."""
    root = Path(root)
    argv = [shutil.which("chroot"), f"--userspec={NONROOT}", str(root)]
    qemu_in_root = None
    machine = elf_machine(root / IMAGE_BINARY.lstrip("/"))
    if machine == "aarch64" and os.uname().machine != "aarch64":
        qemu = shutil.which(QEMU_AARCH64)
        if qemu is None:
            raise unittest.SkipTest(f"skipped: {QEMU_AARCH64} is missing (ci/scripts/install-deps.sh --image)")
        qemu_in_root = root / QEMU_AARCH64
        shutil.copy2(qemu, qemu_in_root)
        argv.append("/" + QEMU_AARCH64)
    try:
        return subprocess.run([*argv, IMAGE_BINARY, *map(str, args)], capture_output=True, text=True,
                              timeout=timeout, env={"PATH": "/usr/local/bin", "HOME": "/home/nonroot"})
    finally:
        if qemu_in_root is not None:
            qemu_in_root.unlink()


def write_name_service_files(root, hosts_lines, nameserver):
    """/etc/hosts and /etc/resolv.conf as the kubelet mounts them into a pod."""
    etc = Path(root) / "etc"
    (etc / "hosts").write_text("127.0.0.1\tlocalhost\n" + "".join(f"{line}\n" for line in hosts_lines))
    (etc / "resolv.conf").write_text(f"nameserver {nameserver}\noptions timeout:1 attempts:1\n")


class StubDns:
    """A UDP DNS server on ADDRESS:53 answering A queries for `names` ({name: ipv4}), NXDOMAIN for
    any other name, and an empty NOERROR for other types of a known name. Records what was asked."""

    def __init__(self, address, names):
        self.address = address
        self.names = {n.rstrip(".").lower(): ip for n, ip in names.items()}
        self.queries = []
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind((address, 53))
        self.socket.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        self.thread.join(5)
        self.socket.close()

    def _serve(self):
        while not self.stopping.is_set():
            try:
                query, peer = self.socket.recvfrom(512)
            except socket.timeout:
                continue
            answer = self._answer(query)
            if answer:
                self.socket.sendto(answer, peer)

    def _answer(self, query):
        if len(query) < 17:
            return None
        labels, offset = [], 12
        while offset < len(query) and query[offset] != 0:
            length = query[offset]
            labels.append(query[offset + 1:offset + 1 + length].decode(errors="replace"))
            offset += 1 + length
        qtype, _qclass = struct.unpack_from(">HH", query, offset + 1)
        question = query[12:offset + 5]
        name = ".".join(labels).lower()
        self.queries.append((name, qtype))
        known = name in self.names
        flags = 0x8180 if known else 0x8183  # response, recursion desired+available; NXDOMAIN if unknown
        answers = b""
        if known and qtype == 1:
            answers = struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(self.names[name])
        header = struct.pack(">HHHHHH", struct.unpack_from(">H", query)[0], flags, 1, 1 if answers else 0, 0, 0)
        return header + question + answers
