#!/usr/bin/env bash
# `cmake --install` into a staging prefix (no root needed) puts every file in its standard place,
# and the installed binary runs.
#   packaging_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build="$1"; src="$2"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cmake --install "$build" --prefix "$tmp/usr" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "cmake --install"; }
p="$tmp/usr"
for f in bin/edgeship \
         share/man/man1/edgeship.1.gz share/man/man1/edgeship-convert.1.gz share/man/man1/edgeship-deployment-create.1.gz \
         share/bash-completion/completions/edgeship share/zsh/vendor-completions/_edgeship \
         share/fish/vendor_completions.d/edgeship.fish \
         share/edgeship/templates/solution/deployment.template.json \
         share/doc/edgeship/README.md share/doc/edgeship/cli.md share/doc/edgeship/reference/README.md; do
  [[ -s "$p/$f" ]] || fail "$f not installed"
done
[[ -x "$p/bin/edgeship" ]] || fail "bin/edgeship is not executable"
"$p/bin/edgeship" version | grep '^edgeship [0-9]' >/dev/null || fail "the installed binary does not run"
# One man page per page generated at build time, all gzip'ed with no name or timestamp (gzip -n).
n_roff=$(ls "$build"/man/roff/*.1 | wc -l)
n_gz=$(ls "$p"/share/man/man1/*.1.gz | wc -l)
((n_roff == n_gz)) || fail "$n_gz man pages installed, $n_roff generated"
for gz in "$p"/share/man/man1/*.1.gz; do
  gzip -t "$gz" || fail "$gz is not a valid gzip file"
  zcat "$gz" | cmp -s - "$build/man/roff/$(basename "${gz%.gz}")" || fail "$gz differs from the generated page"
  # gzip -n: modification time field (bytes 4-7) zero.
  [[ "$(od -An -tx1 -j4 -N4 "$gz" | tr -d ' ')" == 00000000 ]] || fail "$gz carries a timestamp"
done
MANPATH="$p/share/man" man -w edgeship-convert >/dev/null || fail "man -w cannot find edgeship-convert in the staged MANPATH"
# The templates are a faithful copy of the source tree's.
diff -r "$src/templates" "$p/share/edgeship/templates" || fail "installed templates differ from templates/"
echo "install layout ok: $n_gz man pages"
