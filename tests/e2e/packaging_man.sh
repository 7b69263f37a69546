#!/usr/bin/env bash
# The generated man pages: one per command and subcommand (compared with the tree as `__complete`
# sees it), each with the sections a man page needs, rendering without a single groff warning
# (`groff -man -Tutf8 -ww`), through man-db (`man -l`), and with a NAME line man-db can index (lexgrog).
#   packaging_man.sh EDGESHIP_EXE MAN_DIR
set -euo pipefail
exe="$1"; dir="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/packaging_commands.sh"
fail() { echo "FAIL: $*"; exit 1; }
[[ -s "$dir/edgeship.1" ]] || fail "$dir/edgeship.1 missing (is the edgeship_man target built?)"
for tool in groff man lexgrog; do command -v "$tool" >/dev/null || fail "$tool not installed (scripts/deps/packaging.txt)"; done

mapfile -t paths < <(list_command_paths "$exe")
((${#paths[@]} >= 10)) || fail "only ${#paths[@]} commands found through __complete"
expected=(edgeship.1)
for p in "${paths[@]}"; do expected+=("edgeship-${p// /-}.1"); done
for page in "${expected[@]}"; do
  [[ -f "$dir/$page" ]] || fail "no man page $page"
done
mapfile -t actual < <(cd "$dir" && ls -1 ./*.1 | sed 's|^\./||')
((${#actual[@]} == ${#expected[@]})) || fail "${#actual[@]} pages in $dir, ${#expected[@]} commands (+ edgeship.1): $(
  comm -3 <(printf '%s\n' "${actual[@]}" | sort) <(printf '%s\n' "${expected[@]}" | sort) | tr -s '\t\n' '  ')"
grep -q '__docgen' "$dir"/*.1 && fail "the hidden __docgen command leaked into the pages"

tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
for page in "${expected[@]}"; do
  f="$dir/$page"
  for section in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" "SEE ALSO"; do
    grep -q "^\.SH $section\$" "$f" || fail "$page has no $section section"
  done
  if [[ "$page" != edgeship.1 ]]; then
    grep -q '^\.SH EXAMPLES$' "$f" || fail "$page has no EXAMPLES section: add an Examples: footer to that command"
  fi
  LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$f" 2>"$tmp/groff.err" || fail "groff failed on $page"
  [[ ! -s "$tmp/groff.err" ]] || { cat "$tmp/groff.err"; fail "groff warnings on $page"; }
  MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings=w -l "$f" >"$tmp/out.txt" 2>"$tmp/man.err" || fail "man -l failed on $page"
  [[ ! -s "$tmp/man.err" ]] || { cat "$tmp/man.err"; fail "man -l warnings on $page"; }
  name="${page%.1}"
  grep -q "^NAME" "$tmp/out.txt" || fail "man -l $page: no NAME heading in the output"
  lexgrog "$f" | grep "\"$name - " >/dev/null || fail "lexgrog cannot read the NAME line of $page: $(lexgrog "$f")"
done
# The root page lists every command and points at every top-level page.
man -l "$dir/edgeship.1" >"$tmp/root.txt" 2>/dev/null
for p in "${paths[@]}"; do
  grep -q -- "$p" "$tmp/root.txt" || fail "edgeship.1 does not list '$p'"
done
grep -q "EDGESHIP_COLOR" "$tmp/root.txt" || fail "edgeship.1 has no ENVIRONMENT entry from the settings catalog"
# Option help text is carried over: convert's --output.
man -l "$dir/edgeship-convert.1" 2>/dev/null | grep -- "--output" >/dev/null || fail "edgeship-convert.1 lacks --output"
echo "man pages ok: ${#expected[@]} pages"
