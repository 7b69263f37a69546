#!/usr/bin/env bash
# Lists every visible command path ("deployment create") by walking the tree through the hidden
# `edgeship __complete`, i.e. independently of the doc generator. Sourced by the packaging tests.
#   list_command_paths EDGESHIP_EXE
list_command_paths() {
  local exe="$1"
  local -a queue=("")
  local depth=0
  while ((${#queue[@]})) && ((depth < 4)); do # the tree is at most three words deep; bounded anyway
    local -a next=()
    local prefix sub
    for prefix in "${queue[@]}"; do
      # shellcheck disable=SC2086 # prefix is a space-separated word list
      while IFS= read -r sub; do
        [[ -n "$sub" ]] || continue
        local path="${prefix:+$prefix }$sub"
        echo "$path"
        next+=("$path")
      done < <("$exe" __complete $prefix "")
    done
    queue=("${next[@]+"${next[@]}"}")
    depth=$((depth + 1))
  done
}
