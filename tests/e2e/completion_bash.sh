#!/usr/bin/env bash
# Loads the generated bash completion into a bash shell and completes a subcommand and an option, the
# way bash-completion would call the function.
set -euo pipefail
edgeship="$1"
bindir="$(mktemp -d)"; trap 'rm -rf "$bindir"' EXIT
ln -s "$edgeship" "$bindir/edgeship"
PATH="$bindir:$PATH" bash --norc --noprofile -c '
  set -eu
  source <(edgeship completion bash)
  complete -p edgeship | grep -q -- "-F _edgeship"
  COMP_WORDS=(edgeship ins); COMP_CWORD=1; _edgeship
  [[ "${COMPREPLY[*]}" == "inspect" ]] || { echo "FAIL: got [${COMPREPLY[*]}] for \"edgeship ins\""; exit 1; }
  COMP_WORDS=(edgeship inspect --js); COMP_CWORD=2; _edgeship
  [[ "${COMPREPLY[*]}" == "--json" ]] || { echo "FAIL: got [${COMPREPLY[*]}] for \"edgeship inspect --js\""; exit 1; }
  COMP_WORDS=(edgeship completion ""); COMP_CWORD=2; _edgeship
  echo "bash completion ok"
'
# zsh and fish scripts must at least parse in their shells when those are installed by the test command.
if command -v zsh >/dev/null; then "$edgeship" completion zsh | zsh -n || { echo "FAIL: zsh script does not parse"; exit 1; }; fi
if command -v fish >/dev/null; then "$edgeship" completion fish | fish --no-execute || { echo "FAIL: fish script does not parse"; exit 1; }; fi
