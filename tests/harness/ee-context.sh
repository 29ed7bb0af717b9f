#!/usr/bin/env bash
# Generate the execution environment's build context (execution-environment/context)
# from execution-environment.yml with ansible-builder v3, or check that the checked-in
# context is current (--check). Needs the collection tarball `make build` makes, of the
# version galaxy.yml names, and no other one in build/dist.
#   tests/harness/ee-context.sh [--check]
# ANSIBLE_BUILDER: the ansible-builder command (default: ansible-builder on PATH).
set -euo pipefail
cd "$(dirname "$0")/../.."
builder=${ANSIBLE_BUILDER:-ansible-builder}
context=execution-environment/context
version=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' galaxy.yml)
tarball=build/dist/stanford-trusted_mail-$version.tar.gz
if [ ! -f "$tarball" ]; then
  echo "$tarball is missing (galaxy.yml says version $version): run make build first" >&2
  exit 1
fi
others=$(find build/dist -maxdepth 1 -name 'stanford-trusted_mail-*.tar.gz' ! -path "$tarball")
if [ -n "$others" ]; then
  echo "build/dist holds other versions of the collection than $version (galaxy.yml): $others; run make build" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$builder" create -f execution-environment.yml -c "$tmp/context" --output-filename Containerfile >/dev/null
# The collection tarball is build output, not source: never checked in.
rm -rf "$tmp/context/_build/collection"
printf '# build output (make build), copied in by ansible-builder\n/_build/collection/\n' >"$tmp/context/.gitignore"
if [ "${1:-}" = "--check" ]; then
  if ! diff -r -x collection "$context" "$tmp/context"; then
    echo "execution-environment/context is out of date: run tests/harness/ee-context.sh and commit it" >&2
    exit 1
  fi
  echo "execution-environment/context is current"
  exit 0
fi
rm -rf "$context"
cp -r "$tmp/context" "$context"
echo "wrote $context (collection $version; build with -t stanford-trusted-mail-ee:$version)"
