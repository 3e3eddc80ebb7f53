"""Shared helpers of the deployment tests (tests/integration/test_deploy*.py).

Finds the repository, the tools (kubectl, node with tests/deploy/node_modules, shellcheck) and
renders kustomizations. Each test skips with a message naming the missing tool and how to get it.
"""
import json
import os
import shutil
import subprocess
import unittest
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("KFP_SOURCE_DIR", Path(__file__).resolve().parents[2]))
DEPLOY_DIR = SOURCE_DIR / "tests" / "deploy"
MANIFESTS = SOURCE_DIR / "manifests"
INSTALL_HINT = "run ci/scripts/check-deploy.sh --install-only"

try:
    import yaml  # python3-yaml, in Debian's base set
except ImportError:  # pragma: no cover - depends on the machine
    yaml = None


def require_yaml():
    if yaml is None:
        raise unittest.SkipTest("skipped: PyYAML is missing (apt-get install python3-yaml)")


def require_tool(name):
    path = shutil.which(name)
    if path is None:
        raise unittest.SkipTest(f"skipped: {name} is not installed ({INSTALL_HINT})")
    return path


def require_node_modules():
    require_tool("node")
    if not (DEPLOY_DIR / "node_modules" / "kubernetes-models").is_dir():
        raise unittest.SkipTest(f"skipped: tests/deploy/node_modules is missing ({INSTALL_HINT})")


def run(args, **kwargs):
    """Runs a command, capturing text output; never raises on a non-zero exit."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 300)
    return subprocess.run([str(a) for a in args], check=False, **kwargs)


def is_sanitizer_build(binary):
    """Whether `binary` is built with ASan or UBSan: it names their runtime's entry points, whether
    the runtime is a shared library (g++'s default) or linked in (clang's default, where ldd shows
    nothing)."""
    with open(binary, "rb") as f:
        content = f.read()
    return b"__asan_init" in content or b"__ubsan_handle_" in content


def skip_under_sanitizers():
    """Skips a suite that never runs kfp-publish when KFP_PUBLISH_BIN is the ASan/UBSan build:
    `make test-asan` reruns every suite for the C++ code's sake, and these check shell and YAML,
    which a sanitized binary does not change (about two minutes of CI saved)."""
    binary = os.environ.get("KFP_PUBLISH_BIN")
    if not binary or not os.path.exists(binary):
        return
    if is_sanitizer_build(binary):
        raise unittest.SkipTest("skipped under the sanitizer build: this suite does not run kfp-publish "
                                "(it runs in make test)")


def kustomizations():
    """Every directory under manifests/ holding a kustomization (bases, components, overlays)."""
    return sorted(p.parent for p in MANIFESTS.rglob("kustomization.yaml"))


def buildable_kustomizations():
    """The kustomizations that build on their own (components only build inside an overlay)."""
    require_yaml()
    result = []
    for directory in kustomizations():
        with open(directory / "kustomization.yaml", encoding="utf-8") as f:
            if yaml.safe_load(f).get("kind") != "Component":
                result.append(directory)
    return result


def kustomize(directory):
    """kubectl kustomize DIRECTORY as text; fails the calling test when the build fails."""
    kubectl = require_tool("kubectl")
    completed = run([kubectl, "kustomize", directory])
    if completed.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed:\n{completed.stderr}")
    return completed.stdout


def documents(text):
    require_yaml()
    return [d for d in yaml.safe_load_all(text) if d is not None]


def load_file(path):
    with open(path, encoding="utf-8") as f:
        return documents(f.read())


def only(docs, kind):
    """The one document of KIND in DOCS."""
    found = [d for d in docs if d.get("kind") == kind]
    if len(found) != 1:
        raise AssertionError(f"expected one {kind}, found {len(found)}")
    return found[0]


def node(script, *args, stdin=None):
    require_node_modules()
    return run([require_tool("node"), DEPLOY_DIR / script, *args], input=stdin, cwd=DEPLOY_DIR)


def dumps(value):
    return json.dumps(value, indent=1, sort_keys=True)
