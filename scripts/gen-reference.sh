#!/usr/bin/env bash
# Regenerates docs/reference/ (one Markdown page per command plus README.md) from the command tree of
# a built binary: `edgeship __docgen markdown`. Run it after adding or changing a command, and commit
# the result; ctest's e2e.packaging.reference_up_to_date fails while the committed pages are stale.
#   scripts/gen-reference.sh [BUILD_DIR]     (default: build/; the binary is BUILD_DIR/cli/edgeship)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
exe="$build/cli/edgeship"
if [[ ! -x "$exe" ]]; then
  echo "gen-reference: $exe not found; build first: scripts/build.sh $build" >&2
  exit 1
fi
out="$root/docs/reference"
mkdir -p "$out"
tmp="$(mktemp -d "$root/docs/.reference.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$exe" -q __docgen markdown "$tmp"
# Replace the directory's Markdown pages wholesale so a removed command leaves no stale page.
find "$out" -maxdepth 1 -name '*.md' -delete
mv "$tmp"/*.md "$out"/
echo "gen-reference: $(ls "$out"/*.md | wc -l) pages in docs/reference/" >&2
