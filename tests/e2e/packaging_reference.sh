#!/usr/bin/env bash
# docs/reference/ is committed; it must be exactly what the current command tree generates.
#   packaging_reference.sh EDGESHIP_EXE SOURCE_DIR
set -euo pipefail
exe="$1"; src="$2"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
"$exe" -q __docgen markdown "$tmp/reference"
if ! diff -ru "$src/docs/reference" "$tmp/reference"; then
  echo "FAIL: docs/reference/ is out of date with the command tree (the diff above: - committed, + generated)."
  echo "hint: run scripts/gen-reference.sh and commit docs/reference/"
  exit 1
fi
echo "reference up to date: $(ls "$tmp/reference" | wc -l) pages"
