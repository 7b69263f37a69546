#!/usr/bin/env bash
# The library's rules (STYLE.md §2, in the spirit of crane's depcheck_test.go):
#  1. nothing in lib/ includes CLI11, prints to the terminal, or reads the environment itself;
#  2. module dependencies point one way: each lib/<m> includes only itself and the modules its
#     lib/<m>/CMakeLists.txt links (edgeship::<dep> or edgeship_<dep>, PUBLIC or PRIVATE), and those
#     links form no cycle. The link lines are the one statement of the module graph: a new dependency is
#     added there, deliberately, and this script reads it (it keeps no list of its own).
set -uo pipefail
root="$1"
cd "$root/lib" || exit 1
status=0

# grep, minus comment lines ("file:line:   // …").
code_grep() { grep -rnE "$@" --include='*.cpp' --include='*.hpp' --include='*.h' . | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(//|/?\*)' || true; }

hits=$(code_grep '#include[[:space:]]*<CLI/')
[[ -z "$hits" ]] || { echo "FAIL: lib/ must not include CLI11:"; echo "$hits"; status=1; }
hits=$(code_grep 'std::(cout|cerr|clog)[[:space:]]*<<|[^a-z_:.](printf|puts|perror)\(|fprintf\((stdout|stderr)')
[[ -z "$hits" ]] || { echo "FAIL: lib/ must not print to the terminal (use core::Logger):"; echo "$hits"; status=1; }
hits=$(code_grep '[^a-z_]getenv\(|secure_getenv\(|[^a-z_]environ[^a-z_]')
[[ -z "$hits" ]] || { echo "FAIL: lib/ must not read the environment (it is passed in as core::Environment):"; echo "$hits"; status=1; }

# The module graph from the CMake link lines. Comments are dropped; edgeship_<name>( is a CMake
# function (edgeship_module, edgeship_embed_templates), edgeship_settings/edgeship_warnings are
# the build's flag targets, and ${…} never matches [a-z_].
declare -A links=()
modules=()
for dir in */; do
  m="${dir%/}"
  modules+=("$m")
  cm="$m/CMakeLists.txt"
  if [[ ! -f "$cm" ]] || ! grep -qE "^[^#]*edgeship_module\([[:space:]]*$m([[:space:]]|\)|$)" "$cm"; then
    echo "FAIL: lib/$m has no dependency rule: lib/$m/CMakeLists.txt must declare edgeship_module($m …) with its links"
    status=1; continue
  fi
  deps=$(sed -E 's/#.*//' "$cm" | grep -oE 'edgeship(::|_)[a-z_]+[[:space:]]*\(?' | grep -v '($' |
         sed -E 's/^edgeship(::|_)//; s/[[:space:]]+$//' | grep -vxE "settings|warnings|$m" | sort -u | tr '\n' ' ')
  for dep in $deps; do
    if [[ ! -d "$dep" ]]; then
      echo "FAIL: lib/$m/CMakeLists.txt links edgeship::$dep, which is not a module under lib/"; status=1
    fi
  done
  links[$m]=" $deps"
done

# Includes of another module must be backed by a link line.
for m in "${modules[@]}"; do
  [[ -v "links[$m]" ]] || continue
  while IFS= read -r line; do
    dep="$(sed -E 's/.*#include[[:space:]]*"([a-z_]+)\/.*/\1/' <<<"${line#*:*:}")"
    [[ "$dep" == "$m" || -z "$dep" ]] && continue
    [[ -d "$dep" ]] || continue   # not one of our modules (e.g. "edgeship/version_info.hpp")
    if [[ "${links[$m]} " != *" $dep "* ]]; then
      echo "FAIL: lib/$m includes lib/$dep, which lib/$m/CMakeLists.txt does not link: $line"; status=1
    fi
  done < <(grep -rnE '#include[[:space:]]*"[a-z_]+/' "$m" || true)
done

# No cycles: a depth-first walk; a module met again while still on the path closes a cycle.
declare -A state=()   # 1 = on the current path, 2 = done
path=()
visit() {
  local m="$1" d
  state[$m]=1; path+=("$m")
  for d in ${links[$m]:-}; do
    [[ -v "links[$d]" ]] || continue
    if [[ "${state[$d]:-0}" == 1 ]]; then
      local cycle="" p on=0
      for p in "${path[@]}"; do [[ "$p" == "$d" ]] && on=1; ((on)) && cycle+="$p -> "; done
      echo "FAIL: the module links form a cycle: ${cycle}$d"; status=1
    elif [[ "${state[$d]:-0}" == 0 ]]; then
      visit "$d"
    fi
  done
  unset 'path[${#path[@]}-1]'
  state[$m]=2
}
for m in "${modules[@]}"; do
  [[ -v "links[$m]" && "${state[$m]:-0}" == 0 ]] && visit "$m"
done

[[ $status -eq 0 ]] && echo "depcheck: ${#modules[@]} modules follow the rules (module graph from lib/*/CMakeLists.txt)"
exit $status
