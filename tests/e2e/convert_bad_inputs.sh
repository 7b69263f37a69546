#!/usr/bin/env bash
# `edgeship convert` on bad input, as the binary: every case must exit with its documented code, print
# one `edgeship: error: …` line (plus an optional `hint:` line) naming the file/tree/node, and leave
# nothing at -o (issue 3 "Bad input"). Mutations of the committed fixtures use Debian's python3.
set -euo pipefail
edgeship="$1"
src="${EDGESHIP_SOURCE_DIR:?}"
xgb="$src/tests/fixtures/xgboost"
lgbm="$src/tests/fixtures/lightgbm"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0

# expect CODE PATTERN -- ARGS…
expect() {
  local code="$1" pattern="$2"
  shift 3
  local out="$work/out.onnx"
  rm -f "$out"
  set +e
  "$edgeship" convert "$@" -o "$out" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  set -e
  local first
  first="$(head -n1 "$work/stderr")"
  local lines
  lines="$(wc -l <"$work/stderr")"
  if [[ $rc -ne $code ]]; then
    echo "FAIL ($*): exit $rc, expected $code; stderr: $(cat "$work/stderr")"; failures=$((failures + 1)); return
  fi
  if [[ "$first" != "edgeship: error: "* || "$first" != *"$pattern"* ]]; then
    echo "FAIL ($*): stderr '$first' does not match '$pattern'"; failures=$((failures + 1)); return
  fi
  if [[ $lines -gt 2 ]] || { [[ $lines -eq 2 ]] && [[ "$(sed -n 2p "$work/stderr")" != "hint: "* ]]; }; then
    echo "FAIL ($*): more than one error line: $(cat "$work/stderr")"; failures=$((failures + 1)); return
  fi
  if [[ -e "$out" ]] || compgen -G "$work/.out.onnx*" >/dev/null || compgen -G "$work/out.onnx.*" >/dev/null; then
    echo "FAIL ($*): output (or a temporary) left behind"; failures=$((failures + 1)); return
  fi
  if [[ -s "$work/stdout" ]]; then
    echo "FAIL ($*): stdout not empty"; failures=$((failures + 1)); return
  fi
  echo "ok   exit $rc: $first"
}

# mutate NAME PYTHON-EXPRESSION-ON-doc: writes $work/NAME.json from binary.json
mutate() {
  /usr/bin/python3 - "$xgb/binary.json" "$work/$1.json" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
trees = doc["learner"]["gradient_booster"]["model"]["trees"]
exec(sys.argv[3])
json.dump(doc, open(sys.argv[2], "w"))
PY
}

head -c 3000 "$xgb/binary.json" >"$work/truncated.json"
expect 1 "truncated.json: invalid or truncated file at byte" -- "$work/truncated.json"
head -c 3000 "$xgb/binary.ubj" >"$work/truncated.ubj"
expect 1 "truncated.ubj: invalid or truncated file" -- "$work/truncated.ubj"
mutate objective 'doc["learner"]["objective"]["name"] = "survival:aft"'
expect 1 "unsupported objective 'survival:aft'" -- "$work/objective.json"
expect 1 "gblinear boosters are linear models without trees" -- "$xgb/gblinear.json"
mutate lengths 'trees[3]["split_conditions"].pop()'
expect 3 "tree 3: split_conditions has" -- "$work/lengths.json"
mutate child 'trees[4]["right_children"][0] = 77'
expect 3 "tree 4 node 0: right child 77 is out of range" -- "$work/child.json"
mutate cycle 't = trees[0]; l = t["left_children"][0]; t["right_children"][l] = 0'
expect 3 "reached twice from the root" -- "$work/cycle.json"
mutate empty 'm = doc["learner"]["gradient_booster"]["model"]; m["trees"] = []; m["tree_info"] = []'
expect 1 "the model has no trees" -- "$work/empty.json"
expect 1 "missing 'end of trees'" -- "$lgbm/refuse_truncated.txt"
expect 1 "tree 0: linear trees" -- "$lgbm/refuse_linear_tree.txt"
expect 1 "tree 3 node 1: missing type Zero" -- "$lgbm/refuse_zero_missing.txt"
expect 1 "reg_sqrt" -- "$lgbm/refuse_regression_sqrt.txt"
sed 's/^left_child=1 -1 -3 -4$/left_child=1 -1 -3 -9/' "$lgbm/regression.txt" >"$work/leaf.txt"
expect 3 "tree 0 node 3: left child leaf 8 is out of range" -- "$work/leaf.txt"
printf 'not a model\n' >"$work/unknown.bin"
expect 1 "unknown model format" -- "$work/unknown.bin"
expect 1 "nope.json" -- "$work/nope.json"
expect 2 "--opset 12: tree models are written for ai.onnx opsets 13 to 17" -- "$xgb/binary.json" --opset 12
expect 2 "--best-iteration: LightGBM text models store no best_iteration" -- "$lgbm/regression.txt" --best-iteration

# An existing output is left untouched by a failed conversion.
printf 'keep me' >"$work/existing.onnx"
set +e
"$edgeship" convert "$work/empty.json" -o "$work/existing.onnx" 2>/dev/null
set -e
if [[ "$(cat "$work/existing.onnx")" != "keep me" ]]; then
  echo "FAIL: a failed conversion overwrote the existing output"; failures=$((failures + 1))
fi

if [[ $failures -ne 0 ]]; then
  echo "$failures bad-input case(s) failed"
  exit 1
fi
echo "all bad-input cases behave"
