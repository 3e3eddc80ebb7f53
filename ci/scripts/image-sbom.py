#!/usr/bin/env python3
"""The image's SBOM (CycloneDX 1.5 JSON), generated at build time from what was really linked and
from dpkg's database, never written by hand. A static binary hides its libraries from scanners that
read the dpkg database (the image has none), so this lists them:

- every static archive the linker took members from (the link map's "Archive member included"
  section: libstdc++, libgcc, Boost, yaml-cpp, libarchive, its compressors, nettle, OpenSSL, glibc's
  crt objects and libc_nonshared.a);
- every header compiled into the binary's objects (ninja's dependency log), which covers the
  header-only libraries (fmt, CLI11, Boost.Beast/Asio);
- every file of the image's root that a package installed (the C library, the loader, the CA bundle).

Each file becomes its Debian binary package (dpkg -S), then the package's source package, version,
architecture and license: the `License:` of the `Files: *` paragraph of a machine-readable
(DEP-5) /usr/share/doc/PACKAGE/copyright, otherwise the /usr/share/common-licenses files it cites.

Usage: image-sbom.py --build-dir DIR --root ROOTFS --version V [--revision SHA] [--source URL] > sbom.json
"""
import argparse
import datetime
import json
import os
import pathlib
import re
import subprocess
import sys
import uuid

SEARCH_DIRS = ("/usr/include", "/usr/lib", "/lib")


def linked_archives(map_file):
    """Archive paths from the link map's 'Archive member included to satisfy reference' section."""
    archives = set()
    text = map_file.read_text(errors="replace")
    section = text.split("Archive member included", 1)[-1].split("\n\n", 2)
    body = section[1] if len(section) > 1 else ""
    for line in body.splitlines():
        found = re.match(r"^(/\S+?\.a)\(", line)
        if found:
            archives.add(os.path.normpath(found.group(1)))
    # Startup objects the driver names directly (Scrt1.o, crti.o, crtbeginS.o ...); an archive named
    # on the command line counts only through the members above.
    for found in re.finditer(r"^LOAD (/\S+\.o)$", text, re.MULTILINE):
        archives.add(os.path.normpath(found.group(1)))
    return archives


def compiled_headers(build_dir):
    """System headers recorded by ninja for the objects of kfp-publish (its library and main)."""
    deps = subprocess.run(["ninja", "-C", str(build_dir), "-t", "deps"], capture_output=True, text=True,
                          check=True).stdout
    headers, current = set(), None
    for line in deps.splitlines():
        if line and not line.startswith(" "):
            current = line.split(":", 1)[0]
            continue
        path = line.strip()
        if current and "agent/" in current and path.startswith(SEARCH_DIRS):
            headers.add(os.path.normpath(path))
    return headers


def dpkg_owners(paths):
    """{path: [package, ...]} for the paths dpkg knows, in one dpkg-query call."""
    if not paths:
        return {}
    out = subprocess.run(["dpkg-query", "-S", *paths], capture_output=True, text=True).stdout
    owners = {}
    for line in out.splitlines():
        if line.startswith("diversion "):
            continue
        names, path = line.rsplit(": ", 1)  # "libssl-dev:amd64: /usr/lib/..." or "a, b: /usr/include/x"
        owners.setdefault(path, []).extend(name.strip() for name in names.split(", "))
    return owners


def alternatives(path):
    """The same file as dpkg may have recorded it: resolved, and across the /lib -> /usr/lib merge."""
    forms = [os.path.realpath(path)]
    for form in list(forms) + [path]:
        if form.startswith("/usr/lib/"):
            forms.append(form[len("/usr"):])
        elif form.startswith("/lib/"):
            forms.append("/usr" + form)
    return [f for f in dict.fromkeys(forms) if f != path]


def packages_of(paths):
    """{package: {path, ...}} through dpkg -S; a file no package owns is reported on stderr."""
    paths = sorted(set(paths))
    found = dpkg_owners(paths)
    missing = [p for p in paths if p not in found]
    retry = {alt: p for p in missing for alt in alternatives(p)}
    for alt, owners in dpkg_owners(sorted(retry)).items():
        found.setdefault(retry[alt], owners)
    result = {}
    for path in paths:
        if path not in found:
            print(f"image-sbom: no package owns {path}", file=sys.stderr)
            continue
        for package in found[path]:
            result.setdefault(package, set()).add(path)
    return result


def package_facts(package):
    fields = ["Package", "Architecture", "Version", "source:Package", "source:Version", "Homepage"]
    out = subprocess.run(["dpkg-query", "-W", "-f=" + "\t".join("${" + f + "}" for f in fields), package],
                         capture_output=True, text=True, check=True).stdout
    return dict(zip(fields, out.split("\t")))


def licenses_of(package_name):
    copyright_file = pathlib.Path("/usr/share/doc") / package_name / "copyright"
    try:
        text = copyright_file.read_text(errors="replace")
    except OSError:
        return [], "absent"
    if re.match(r"^Format:\s*\S*copyright-format", text):
        for paragraph in re.split(r"\n\s*\n", text):
            if re.search(r"^Files:\s*\*\s*$", paragraph, re.MULTILINE):
                found = re.search(r"^License:\s*(.+)$", paragraph, re.MULTILINE)
                if found:
                    return [found.group(1).strip()], "dep5"
        found = re.search(r"^License:\s*(.+)$", text, re.MULTILINE)
        return ([found.group(1).strip()] if found else []), "dep5"
    cited = re.findall(r"/usr/share/common-licenses/([A-Za-z0-9+-]+(?:\.[0-9]+)?)", text)
    return sorted(set(cited)), "plain"


def component(package, files, how):
    facts = package_facts(package)
    licenses, copyright_format = licenses_of(facts["Package"])
    arch = facts["Architecture"]
    version = facts["Version"]
    entry = {
        "type": "library",
        "bom-ref": f"pkg:deb/debian/{facts['Package']}@{version}?arch={arch}",
        "name": facts["Package"],
        "version": version,
        "purl": f"pkg:deb/debian/{facts['Package']}@{version}?arch={arch}&distro=debian-12",
        "licenses": [{"license": {"name": name}} for name in licenses],
        "properties": [
            {"name": "debian:source", "value": facts["source:Package"]},
            {"name": "debian:source_version", "value": facts["source:Version"]},
            {"name": "debian:copyright", "value": f"/usr/share/doc/{facts['Package']}/copyright ({copyright_format})"},
            {"name": "kfp-publish:how", "value": how},
        ] + [{"name": "kfp-publish:file", "value": f} for f in sorted(files)],
    }
    if facts.get("Homepage"):
        entry["externalReferences"] = [{"type": "website", "url": facts["Homepage"]}]
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=pathlib.Path, required=True)
    parser.add_argument("--root", type=pathlib.Path, required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--revision", default="unknown")
    parser.add_argument("--source", default="")
    args = parser.parse_args()

    map_file = args.build_dir / "agent" / "kfp-publish.map"
    if not map_file.is_file():
        sys.exit(f"image-sbom: no link map at {map_file} (a KFP_STATIC build writes it)")
    static = packages_of(linked_archives(map_file))
    headers = packages_of(compiled_headers(args.build_dir))
    image_files = set()
    for path in args.root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            image_files.add("/" + str(path.relative_to(args.root)))
    # Written by image-files.sh, or the program itself (the SBOM's subject).
    image_files -= {"/usr/local/bin/kfp-publish", "/etc/passwd", "/etc/group",
                    "/usr/share/doc/kfp-publish/sbom.cdx.json"}
    # The CA bundle is generated by update-ca-certificates from the certificates the package installs.
    if "/etc/ssl/certs/ca-certificates.crt" in image_files:
        image_files.remove("/etc/ssl/certs/ca-certificates.crt")
        image_files.add("/usr/share/ca-certificates/mozilla")
    shipped = packages_of(image_files)

    components = {}
    for how, owners in (("statically linked", static), ("compiled in (headers)", headers),
                        ("file in the image", shipped)):
        for package, files in owners.items():
            # Headers are many: their count, not their names.
            listed = [f"{len(files)} headers"] if how.startswith("compiled in") else files
            if package in components:
                components[package]["properties"].append({"name": "kfp-publish:how", "value": how})
                components[package]["properties"] += [{"name": "kfp-publish:file", "value": f} for f in listed]
                continue
            components[package] = component(package, listed, how)

    sbom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "tools": {"components": [{"type": "application", "name": "ci/scripts/image-sbom.py"}]},
            "component": {"type": "application", "name": "kfp-publish", "version": args.version,
                          "bom-ref": "kfp-publish",
                          "properties": [{"name": "vcs:revision", "value": args.revision}]
                          + ([{"name": "vcs:source", "value": args.source}] if args.source else [])},
        },
        "components": sorted(components.values(), key=lambda c: c["name"]),
        "dependencies": [{"ref": "kfp-publish", "dependsOn": sorted(c["bom-ref"] for c in components.values())}],
    }
    json.dump(sbom, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
