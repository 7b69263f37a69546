#!/usr/bin/env bash
# Builds the Debian package from a build tree (cpack -G DEB), installs it with dpkg, checks that the
# installed edgeship works (binary, man pages found by man, bash completion loads and completes,
# templates and docs present), then purges it and checks that nothing is left behind.
#   scripts/package-test.sh [BUILD_DIR]      (default: build/)
# Needs root (dpkg -i); EDGESHIP_SKIP_PACKAGE_TEST=1 skips it. It refuses to run when edgeship is
# already installed, as a package or as a file under /usr, so it never replaces a developer's install.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"

if [[ "${EDGESHIP_SKIP_PACKAGE_TEST:-0}" == 1 ]]; then
  echo "package-test: skipped (EDGESHIP_SKIP_PACKAGE_TEST=1)" >&2
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "package-test: error: must run as root (it installs and purges the .deb with dpkg); set EDGESHIP_SKIP_PACKAGE_TEST=1 to skip" >&2
  exit 1
fi
if dpkg-query -W -f='${Status}' edgeship 2>/dev/null | grep -Eq "ok (installed|config-files|half)"; then
  echo "package-test: error: the edgeship package is already installed; remove it first (dpkg -P edgeship)" >&2
  exit 1
fi
for f in /usr/bin/edgeship /usr/share/man/man1/edgeship.1.gz /usr/share/bash-completion/completions/edgeship; do
  if [[ -e "$f" ]]; then
    echo "package-test: error: $f exists but belongs to no package; refusing to overwrite it" >&2
    exit 1
  fi
done

work="$(mktemp -d)"
installed=0
cleanup() {
  if ((installed)); then dpkg -P edgeship >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
step() { echo "package-test: $*" >&2; }

step "building the install targets in $build"
cmake --build "$build" -j "${EDGESHIP_JOBS:-2}" --target edgeship edgeship_completions edgeship_man >&2
step "cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack"; }
deb="$(ls "$work"/pkg/edgeship_*.deb 2>/dev/null | head -1)"
[[ -n "$deb" ]] || fail "cpack made no edgeship_*.deb"
step "package: $(basename "$deb") ($(du -h "$deb" | cut -f1))"

# The control file: name, version, section, and Depends computed by dpkg-shlibdeps.
dpkg-deb -f "$deb" Package | grep -x edgeship >/dev/null || fail "Package is not edgeship"
version="$(sed -n 's/^project(edgeship VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")"
dpkg-deb -f "$deb" Version | grep -x "$version" >/dev/null || fail "Version is not $version: $(dpkg-deb -f "$deb" Version)"
dpkg-deb -f "$deb" Section | grep -x utils >/dev/null || fail "Section is not utils"
depends="$(dpkg-deb -f "$deb" Depends)"
[[ "$depends" == *libc6* ]] || fail "Depends was not computed by dpkg-shlibdeps: '$depends'"
step "Depends: $depends"

step "dpkg -i"
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; dpkg -P edgeship >/dev/null 2>&1 || true; fail "dpkg -i (missing dependencies?)"; }
installed=1
dpkg -L edgeship | sort >"$work/files.txt"

[[ "$(command -v edgeship)" == /usr/bin/edgeship ]] || fail "edgeship is not /usr/bin/edgeship on PATH"
file -L /usr/bin/edgeship | grep "ELF.*, stripped" >/dev/null || fail "/usr/bin/edgeship is not a stripped ELF binary: $(file -L /usr/bin/edgeship)"
edgeship version | grep "^edgeship $version" >/dev/null || fail "edgeship version: $(edgeship version 2>&1 | head -1)"
step "$(edgeship version | head -1)"
man -w edgeship >/dev/null || fail "man -w edgeship finds no page"
man -w edgeship-convert >/dev/null || fail "man -w edgeship-convert finds no page"
[[ "$(man -w edgeship)" == /usr/share/man/man1/edgeship.1.gz ]] || fail "man -w edgeship: $(man -w edgeship)"
MANWIDTH=80 man edgeship 2>/dev/null | grep "EXIT STATUS" >/dev/null || fail "man edgeship does not render"
# Every command has its page installed.
n_pages=$(grep -c '^/usr/share/man/man1/edgeship.*\.1\.gz$' "$work/files.txt")
n_built=$(ls "$build"/man/gz/*.1.gz | wc -l)
((n_pages == n_built && n_pages > 10)) || fail "$n_pages man pages installed, $n_built built"

# bash-completion loads the installed file on demand and completes from the live command tree.
bash --norc --noprofile -c '
  set -u
  source /usr/share/bash-completion/bash_completion
  __load_completion edgeship || { echo "bash-completion found no completion for edgeship"; exit 1; }
  complete -p edgeship | grep -- "-F _edgeship" >/dev/null || { echo "complete -p edgeship: not loaded"; exit 1; }
  COMP_WORDS=(edgeship conv); COMP_CWORD=1; _edgeship
  [[ "${COMPREPLY[*]}" == convert ]] || { echo "completing \"edgeship conv\" gave [${COMPREPLY[*]}]"; exit 1; }
' >&2 || fail "bash completion"
[[ -s /usr/share/zsh/vendor-completions/_edgeship ]] || fail "zsh completion missing"
[[ -s /usr/share/fish/vendor_completions.d/edgeship.fish ]] || fail "fish completion missing"
[[ -s /usr/share/edgeship/templates/solution/deployment.template.json ]] || fail "templates missing"
diff -r "$root/templates" /usr/share/edgeship/templates >/dev/null || fail "installed templates differ from templates/"
[[ -s /usr/share/doc/edgeship/README.md && -s /usr/share/doc/edgeship/reference/README.md ]] || fail "docs missing"

step "dpkg -P"
dpkg -P edgeship >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -P"; }
installed=0
if dpkg-query -W -f='${Status}' edgeship 2>/dev/null | grep -Eq "ok (installed|config-files|half)"; then
  fail "edgeship still known to dpkg after dpkg -P: $(dpkg-query -W -f='${Status}' edgeship)"
fi
left=()
while IFS= read -r f; do
  # Shared directories (/usr, /usr/share/man/man1, …) belong to other packages too and stay.
  if [[ -e "$f" && ! -d "$f" ]]; then left+=("$f"); fi
  if [[ -d "$f" && "$f" == *edgeship* ]]; then left+=("$f"); fi
done <"$work/files.txt"
((${#left[@]} == 0)) || fail "left behind after purge: ${left[*]}"
[[ ! -e /usr/bin/edgeship ]] || fail "/usr/bin/edgeship still there after purge"
step "ok: $(wc -l <"$work/files.txt") paths installed and removed"
