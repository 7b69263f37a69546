#!/usr/bin/env bash
# The library's rules (STYLE.md §2, in the spirit of crane's depcheck_test.go):
#  1. nothing in lib/ includes CLI11, prints to the terminal, or reads the environment itself;
#  2. module dependencies point one way: each lib/<m> includes only the modules listed for it below.
set -uo pipefail
root="$1"
cd "$root/lib" || exit 1
status=0

# What each module may include besides itself. A new module must be added here deliberately.
declare -A allowed=(
  [core]=""
  [model]="core"
  [optimize]="core model"
  [http]="core"
  [oci]="core"
  [registry]="core http oci"
  [iothub]="core http"
  [engine]="core http"
  [templates]="core"
  [manifest]="core templates"
  [solution]="core templates manifest model"
  [imagebuild]="core oci solution templates registry"
  [pipeline]="core model optimize http oci registry iothub templates manifest solution imagebuild"
)

# grep, minus comment lines ("file:line:   // …").
code_grep() { grep -rnE "$@" --include='*.cpp' --include='*.hpp' --include='*.h' . | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(//|/?\*)' || true; }

hits=$(code_grep '#include[[:space:]]*<CLI/')
[[ -z "$hits" ]] || { echo "FAIL: lib/ must not include CLI11:"; echo "$hits"; status=1; }
hits=$(code_grep 'std::(cout|cerr|clog)[[:space:]]*<<|[^a-z_:.](printf|puts|perror)\(|fprintf\((stdout|stderr)')
[[ -z "$hits" ]] || { echo "FAIL: lib/ must not print to the terminal (use core::Logger):"; echo "$hits"; status=1; }
hits=$(code_grep '[^a-z_]getenv\(|secure_getenv\(|[^a-z_]environ[^a-z_]')
[[ -z "$hits" ]] || { echo "FAIL: lib/ must not read the environment (it is passed in as core::Environment):"; echo "$hits"; status=1; }

for dir in */; do
  m="${dir%/}"
  if [[ ! -v "allowed[$m]" ]]; then
    echo "FAIL: lib/$m has no dependency rule; add it to tests/e2e/depcheck.sh"; status=1; continue
  fi
  while IFS= read -r line; do
    dep="$(sed -E 's/.*#include[[:space:]]*"([a-z_]+)\/.*/\1/' <<<"${line#*:*:}")"
    [[ "$dep" == "$m" || -z "$dep" ]] && continue
    [[ -d "$dep" ]] || continue   # not one of our modules (e.g. "edgeship/version_info.hpp")
    if [[ " ${allowed[$m]} " != *" $dep "* ]]; then
      echo "FAIL: lib/$m depends on lib/$dep, which its rule does not allow: $line"; status=1
    fi
  done < <(grep -rnE '#include[[:space:]]*"[a-z_]+/' "$m" || true)
done
[[ $status -eq 0 ]] && echo "depcheck: $(ls -d */ | wc -l) modules follow the rules"
exit $status
