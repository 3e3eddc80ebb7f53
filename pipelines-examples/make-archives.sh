#!/bin/sh
# Rebuilds hello-world.zip and hello-world.tar.gz, each holding hello-world.yaml as the member
# named exactly "pipeline.yaml" (no "./" prefix, the name the KFP server looks for).
# Deterministic: fixed timestamps and ownership, so re-running does not change the archives.
set -eu
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp hello-world.yaml "$work/pipeline.yaml"
touch -t 202501010000 "$work/pipeline.yaml"
rm -f hello-world.zip hello-world.tar.gz
(cd "$work" && zip -q -X -D "$OLDPWD/hello-world.zip" pipeline.yaml)
tar -C "$work" --owner=0 --group=0 --numeric-owner --mtime='2025-01-01 00:00:00Z' \
  -cf - pipeline.yaml | gzip -n -9 > hello-world.tar.gz
