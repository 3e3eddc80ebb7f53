"""Runs one container of a rendered pod spec the way the kubelet and a CRI runtime would, on this
machine: the image root (ci/scripts/image-files.sh --stage) as an overlay root, every volume at its
mountPath, the termination-message file, env and `$(VAR)` references resolved as Kubernetes resolves
them, the pod's uid/gid/fsGroup, no_new_privs and no capabilities, readOnlyRootFilesystem. Needs root
(CI runs as root) for a private mount and pid namespace (`unshare --mount --pid --fork`).

What is reproduced, with the Kubernetes source it follows (kubernetes/kubernetes, v1.30):
- env: pkg/kubelet/kubelet_pods.go makeEnvironmentVariables — entries in order, `value` expanded
  against the entries before it (and the service variables), configMapKeyRef (a missing key fails
  the container: CreateContainerConfigError), fieldRef; command and args expanded against the final
  env (pkg/kubelet/container/helpers.go ExpandContainerCommandAndArgs). Expansion is
  third_party/forked/golang/expansion/expand.go: `$(VAR)` → value, `$$` → `$`, an undefined or
  unterminated reference is left as written. Service links are off (enableServiceLinks: false), but
  KUBERNETES_SERVICE_HOST/PORT are always set (kubelet_pods.go getServiceEnvVarMap).
- emptyDir: medium Memory is a tmpfs with size=sizeLimit, the default medium a node directory;
  both mode 0777 (pkg/volume/emptydir/empty_dir.go, perm 0777).
- configMap and projected volumes: the atomic writer's layout (`..data` → `..<timestamp>/`, one
  symlink per key; pkg/volume/util/atomic_writer.go), always mounted read-only (kubelet_pods.go
  makeMounts). The projected service-account token is written 0600 when the pod has fsGroup or
  runAsUser (pkg/volume/projected/projected.go collectData) and then given to the fsGroup with
  group read (pkg/volume/volume_linux.go SetVolumeOwnership), so only fsGroup lets a nonroot user
  read it.
- terminationMessagePath: an empty node file, chmod 0666, bind-mounted at the path
  (pkg/kubelet/kuberuntime/kuberuntime_container.go makeMounts); the kubelet later reads at most
  the last 4096 bytes of it (MaxContainerTerminationMessageLength, pkg/util/tail ReadAtMost).
- the runtime: /dev a tmpfs with null, zero, full, random, urandom, tty; /dev/shm; /proc of the
  pod's pid namespace; /etc/hosts, /etc/hostname, /etc/resolv.conf bind-mounted from the node;
  HOME from the image's /etc/passwd; the image's ENV (from the Dockerfile's final stage) under the
  pod's env; readOnlyRootFilesystem as a read-only remount of the root after the mounts, as runc does.
Not reproduced: the pod network namespace (the container shares this machine's network, so only
KFP_HOST is pointed at the emulator on loopback), seccomp's RuntimeDefault profile, cgroup limits,
AppArmor/SELinux, image pulling.

Two halves: `prepare(...)` (called by the tests, unprivileged) builds the node-side files and a JSON
plan; `python3 kubelet.py PLAN.json` (run under unshare by `run(...)`) executes it.
"""
import ctypes
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

# What the kubelet reads of the termination-message file (kubecontainer.MaxContainerTerminationMessageLength).
MAX_TERMINATION_MESSAGE_BYTES = 4096
IMAGE_ENTRYPOINT = ["/usr/local/bin/kfp-publish"]
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")


class ContainerConfigError(Exception):
    """What the kubelet reports as CreateContainerConfigError (the container never starts)."""


# --- Kubernetes' $(VAR) expansion (third_party/forked/golang/expansion/expand.go) -----------------

def expand(text, mapping):
    """`$(NAME)` → mapping[NAME] when defined, else left as `$(NAME)`; `$$` → `$`; any other `$x`
    and an unterminated `$(` are kept as written."""
    out = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            rest = text[cursor + 1:]
            if rest[0] == "$":
                out.append("$")
                advance = 1
            elif rest[0] == "(":
                close = rest.find(")", 1)
                if close == -1:
                    out.append("$(")
                    advance = 1
                else:
                    name = rest[1:close]
                    out.append(mapping[name] if name in mapping else f"$({name})")
                    advance = close + 1
            else:
                out.append("$" + rest[0])
                advance = 1
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def field_ref(path, pod):
    """The downward API fields a container env may name (pkg/fieldpath)."""
    meta = pod["metadata"]
    match = re.fullmatch(r"metadata\.(labels|annotations)\['([^']+)'\]", path)
    if match:
        return meta.get(match.group(1), {}).get(match.group(2), "")
    simple = {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"],
              "metadata.uid": meta["uid"], "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default"),
              "spec.nodeName": "node-1", "status.podIP": "10.1.2.3", "status.hostIP": "10.0.0.4"}
    if path not in simple:
        raise ContainerConfigError(f"unsupported fieldRef {path}")
    return simple[path]


def resolve_env(container, pod, config_maps):
    """The container's environment as the kubelet builds it, in order."""
    service = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443",
               "KUBERNETES_SERVICE_PORT_HTTPS": "443", "KUBERNETES_PORT": "tcp://10.96.0.1:443",
               "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443", "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
               "KUBERNETES_PORT_443_TCP_PORT": "443", "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1"}
    env = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref is None:
            raise ContainerConfigError(f"unsupported envFrom {source}")
        data = config_maps.get(ref["name"])
        if data is None:
            if ref.get("optional"):
                continue
            raise ContainerConfigError(f'configmap "{ref["name"]}" not found')
        for key, value in data.items():
            env[source.get("prefix", "") + key] = value
    for entry in container.get("env", []):
        name = entry["name"]
        if "valueFrom" not in entry:
            env[name] = expand(entry.get("value", ""), {**service, **env})
            continue
        source = entry["valueFrom"]
        if "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            data = config_maps.get(ref["name"])
            if data is None or ref["key"] not in data:
                if ref.get("optional"):
                    continue
                what = f'configmap "{ref["name"]}" not found' if data is None else \
                    f'couldn\'t find key {ref["key"]} in ConfigMap {pod["metadata"]["namespace"]}/{ref["name"]}'
                raise ContainerConfigError(what)
            env[name] = data[ref["key"]]
        elif "fieldRef" in source:
            env[name] = field_ref(source["fieldRef"]["fieldPath"], pod)
        else:
            raise ContainerConfigError(f"unsupported valueFrom {source}")
    return {**service, **env}


def image_env(dockerfile):
    """ENV of the Dockerfile's final stage (the image config's Env), PATH defaulted as builders do."""
    env = {"PATH": DEFAULT_PATH}
    if dockerfile and pathlib.Path(dockerfile).is_file():
        text = pathlib.Path(dockerfile).read_text(encoding="utf-8")
        final = text[text.rfind("\nFROM "):]
        for key, value in re.findall(r"^ENV\s+([A-Za-z_][A-Za-z0-9_]*)[= ](\S+)", final, re.MULTILINE):
            env[key] = value
    return env


# --- the node side: volumes as the kubelet lays them out --------------------------------------------

def write_atomic(directory, files, mode, gid=None):
    """The atomic writer's layout: ..<ts>/key files, ..data → ..<ts>, key → ..data/key."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = directory / time.strftime("..%Y_%m_%d_%H_%M_%S.000000001")
    stamp.mkdir()
    for key, content in files.items():
        path = stamp / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        file_mode = mode
        if gid is not None:
            os.chown(path, 0, gid)
            file_mode |= 0o040  # SetVolumeOwnership: group read for the fsGroup
        os.chmod(path, file_mode)
    (directory / "..data").symlink_to(stamp.name)
    for key in {k.split("/")[0] for k in files}:
        (directory / key).symlink_to(f"..data/{key}")
    if gid is not None:
        os.chown(directory, 0, gid)
        os.chmod(directory, 0o2755)


def volume_mounts(container, pod, config_maps, token, node):
    """[{type, source?, target, readonly, options?}] for the container's volumeMounts."""
    spec = pod["spec"]
    security = spec.get("securityContext", {})
    fs_group = security.get("fsGroup")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = []
    for mount in container.get("volumeMounts", []):
        if "subPath" in mount:
            raise ContainerConfigError("subPath is not reproduced here")
        volume = volumes.get(mount["name"])
        if volume is None:
            raise ContainerConfigError(f"volumeMount {mount['name']} names no volume")
        target = mount["mountPath"]
        read_only = bool(mount.get("readOnly"))
        host = node / "volumes" / mount["name"]
        if "emptyDir" in volume:
            empty = volume["emptyDir"] or {}
            if empty.get("medium") == "Memory":
                options = "mode=0777"
                if empty.get("sizeLimit"):
                    options += ",size=" + empty["sizeLimit"].replace("Mi", "m").replace("Gi", "g")
                mounts.append({"type": "tmpfs", "target": target, "options": options, "readonly": read_only})
                continue
            host.mkdir(parents=True, exist_ok=True)
            os.chmod(host, 0o777)
        elif "configMap" in volume:
            ref = volume["configMap"]
            data = config_maps.get(ref["name"])
            if data is None:
                # The kubelet keeps the pod in ContainerCreating with a FailedMount event.
                raise ContainerConfigError(f'FailedMount: configmap "{ref["name"]}" not found')
            items = ref.get("items") or [{"key": k, "path": k} for k in data]
            files = {}
            for item in items:
                if item["key"] not in data:
                    raise ContainerConfigError(f'FailedMount: configmap references non-existent config key: {item["key"]}')
                files[item["path"]] = data[item["key"]]
            write_atomic(host, files, ref.get("defaultMode", 0o644), fs_group)
            read_only = True
        elif "projected" in volume:
            files = {}
            for source in volume["projected"]["sources"]:
                if "serviceAccountToken" not in source:
                    raise ContainerConfigError(f"unsupported projected source {source}")
                files[source["serviceAccountToken"]["path"]] = token
            has_owner = fs_group is not None or security.get("runAsUser") is not None
            mode = 0o600 if has_owner else volume["projected"].get("defaultMode", 0o644)
            write_atomic(host, files, mode, fs_group)
            read_only = True
        else:
            raise ContainerConfigError(f"volume type of {mount['name']} is not reproduced here")
        mounts.append({"type": "bind", "source": str(host), "target": target, "readonly": read_only})
    return mounts


def prepare(pod, container_name, rootfs, config_maps, token, node, env_overrides=None, dockerfile=None):
    """Lays out the node side for one container of `pod` (a PodSpec with metadata) and returns the
    plan for `run`. Raises ContainerConfigError where the kubelet would not start the container."""
    node = pathlib.Path(node)
    node.mkdir(parents=True, exist_ok=True)
    spec = pod["spec"]
    container = next(c for c in spec["containers"] if c["name"] == container_name)
    env = resolve_env(container, pod, config_maps)
    # Only the host changes: the emulator stands in for the API server on loopback.
    env.update(env_overrides or {})
    command = [expand(a, env) for a in container.get("command", IMAGE_ENTRYPOINT)]
    args = [expand(a, env) for a in container.get("args", [])]
    pod_security = spec.get("securityContext", {})
    security = {**pod_security, **container.get("securityContext", {})}
    uid = security.get("runAsUser", 65532)
    gid = security.get("runAsGroup", 65532)
    groups = sorted({gid, *([pod_security["fsGroup"]] if "fsGroup" in pod_security else []),
                     *pod_security.get("supplementalGroups", [])})
    if security.get("runAsNonRoot") and uid == 0:
        raise ContainerConfigError("container has runAsNonRoot and image will run as root")
    mounts = volume_mounts(container, pod, config_maps, token, node)
    termination = None
    if container.get("terminationMessagePath", "/dev/termination-log"):
        termination = node / "termination-log"
        termination.write_bytes(b"")
        os.chmod(termination, 0o666)
        mounts.append({"type": "bind", "source": str(termination),
                       "target": container.get("terminationMessagePath", "/dev/termination-log"), "readonly": False})
    hostname = pod["metadata"]["name"]
    etc = {"hosts": f"127.0.0.1\tlocalhost\n10.1.2.3\t{hostname}\n", "hostname": hostname + "\n",
           "resolv.conf": f"search {pod['metadata']['namespace']}.svc.cluster.local svc.cluster.local "
                          "cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"}
    for name, content in etc.items():
        (node / name).write_text(content)
        mounts.append({"type": "bind", "source": str(node / name), "target": f"/etc/{name}", "readonly": False})
    home = "/"
    passwd = pathlib.Path(rootfs) / "etc" / "passwd"
    if passwd.is_file():
        for line in passwd.read_text().splitlines():
            fields = line.split(":")
            if len(fields) >= 6 and fields[2] == str(uid):
                home = fields[5]
    full_env = {**image_env(dockerfile), "HOSTNAME": hostname, "HOME": home, **env}
    plan = {"rootfs": str(rootfs), "node": str(node), "mounts": mounts,
            "readonly_root": bool(security.get("readOnlyRootFilesystem")),
            "uid": uid, "gid": gid, "groups": groups,
            "no_new_privs": security.get("allowPrivilegeEscalation") is False,
            "argv": command + args, "env": full_env, "cwd": container.get("workingDir", "/")}
    (node / "plan.json").write_text(json.dumps(plan, indent=1))
    return plan, termination


def run(plan, timeout=120):
    """Runs the plan in a private mount and pid namespace; returns CompletedProcess (returncode is
    the container's exit code, 128+N for a signal)."""
    unshare = shutil.which("unshare")
    plan_file = pathlib.Path(plan["node"]) / "plan.json"
    return subprocess.run([unshare, "--mount", "--pid", "--fork", "--propagation", "private",
                           sys.executable, __file__, str(plan_file)],
                          capture_output=True, text=True, timeout=timeout, check=False)


def termination_message(path):
    """What the kubelet puts in state.terminated.message: the file's last 4096 bytes."""
    data = pathlib.Path(path).read_bytes()
    return data[-MAX_TERMINATION_MESSAGE_BYTES:].decode("utf-8", "replace"), len(data)


def can_run():
    """None when this machine can run containers this way, else why not."""
    if os.geteuid() != 0:
        return "not root: a private mount namespace and chroot need root (CI runs as root)"
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is missing"
    probe = subprocess.run(["unshare", "--mount", "--pid", "--fork", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        return "unshare --mount --pid is refused here: " + probe.stderr.decode(errors="replace").strip()
    return None


# --- inside the namespaces ------------------------------------------------------------------------

def _mount(source, target, fstype=None, options=None, flags=""):
    argv = ["mount"]
    if fstype:
        argv += ["-t", fstype]
    if options:
        argv += ["-o", options]
    argv += [source, target] if flags == "" else [flags, source, target]
    subprocess.run(argv, check=True)


def _remount_read_only(target):
    subprocess.run(["mount", "-o", "remount,bind,ro", target], check=True)


def _inside(plan):
    node = pathlib.Path(plan["node"])
    root = node / "root"
    layers = node / "layers"
    layers.mkdir(exist_ok=True)
    # The image root read-only beneath a writable layer, as a runtime's overlay snapshot.
    _mount("tmpfs", str(layers), "tmpfs")
    (layers / "upper").mkdir()
    (layers / "work").mkdir()
    root.mkdir(exist_ok=True)
    _mount("overlay", str(root), "overlay",
           f"lowerdir={plan['rootfs']},upperdir={layers}/upper,workdir={layers}/work")
    dev = root / "dev"
    dev.mkdir(exist_ok=True)
    _mount("tmpfs", str(dev), "tmpfs", "mode=0755,nosuid")
    for device in DEVICES:
        (dev / device).touch()
        _mount(f"/dev/{device}", str(dev / device), flags="--bind")
    (dev / "shm").mkdir()
    _mount("shm", str(dev / "shm"), "tmpfs", "mode=1777,nosuid,nodev,noexec,size=64m")
    (root / "proc").mkdir(exist_ok=True)
    _mount("proc", str(root / "proc"), "proc", "nosuid,nodev,noexec")
    for mount in plan["mounts"]:
        target = root / mount["target"].lstrip("/")
        if mount["type"] == "bind" and pathlib.Path(mount["source"]).is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.touch()
        else:
            target.mkdir(parents=True, exist_ok=True)
        if mount["type"] == "tmpfs":
            _mount("tmpfs", str(target), "tmpfs", mount["options"] + ",nosuid,nodev")
        else:
            _mount(mount["source"], str(target), flags="--bind")
        if mount["readonly"]:
            _remount_read_only(str(target))
    if plan["readonly_root"]:
        _remount_read_only(str(root))
    pid = os.fork()
    if pid == 0:
        try:
            os.chroot(root)
            os.chdir(plan["cwd"])
            os.setgroups(plan["groups"])
            os.setgid(plan["gid"])
            os.setuid(plan["uid"])  # from root to nonroot: every capability is dropped
            if plan["no_new_privs"]:
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
                    raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
            os.execve(plan["argv"][0], plan["argv"], plan["env"])
        except OSError as error:  # the runtime's StartError: exit 128
            print(f"kubelet: cannot start {plan['argv'][0]}: {error}", file=sys.stderr)
            os._exit(128)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        code = _inside(json.load(f))
    sys.exit(code if code >= 0 else 128 - code)
