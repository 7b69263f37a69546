#!/usr/bin/env bash
# Every command's --help ends with an Examples: section showing at least one edgeship command line
# (docs/cli.md); the man pages and the reference take their EXAMPLES from it.
#   packaging_examples.sh EDGESHIP_EXE
set -euo pipefail
exe="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/packaging_commands.sh"
missing=()
n=0
while IFS= read -r path; do
  n=$((n + 1))
  # shellcheck disable=SC2086 # path is a space-separated word list
  help="$("$exe" $path --help)"
  if ! awk '/^Examples:/ { on = 1; next } on && /^$/ { on = 0 } on && /(^| )edgeship / { found = 1 } END { exit !found }' <<<"$help"; then
    missing+=("edgeship $path")
  fi
done < <(list_command_paths "$exe")
((n >= 10)) || { echo "FAIL: only $n commands found"; exit 1; }
if ((${#missing[@]})); then
  printf 'FAIL: no Examples: footer with an edgeship command line in --help of: %s\n' "${missing[@]}"
  exit 1
fi
echo "examples ok: $n commands"
