#!/usr/bin/env bash
# End-to-end checks of init / module add / gen / validate through the binary.
#   usage: solution_cli.sh EDGESHIP_EXE SOURCE_DIR CASE
set -euo pipefail
exe=$1 src=$2 case=$3
model="$src/examples/predictive-maintenance/model.onnx"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect CODE STDERR-REGEX -- command…: exit code and a one-line "edgeship: error:" message
expect() {
  local code=$1 pattern=$2; shift 3
  set +e; "$@" >out.txt 2>err.txt; local rc=$?; set -e
  [[ $rc == "$code" ]] || { cat out.txt err.txt >&2; fail "exit $rc, want $code: $*"; }
  if [[ -n $pattern ]]; then
    grep -Eq -- "$pattern" err.txt || { cat err.txt >&2; fail "stderr does not match '$pattern': $*"; }
    [[ $(grep -c '^edgeship: error: ' err.txt) == 1 ]] || { cat err.txt >&2; fail "want exactly one error line"; }
  fi
}

case $case in
demo)
  "$exe" init sol --model "$model" --platforms amd64,arm64v8 > files.txt
  grep -qx 'sol/modules/scoring/Dockerfile.arm64v8' files.txt || fail "init did not list the arm64v8 Dockerfile"
  [[ -f sol/modules/scoring/model/model.onnx ]] || fail "model not copied"
  out=$("$exe" gen --solution sol)
  [[ $out == sol/config/deployment.amd64.json ]] || fail "gen printed '$out'"
  "$exe" validate sol/config/deployment.amd64.json --json > v.json
  /usr/bin/python3 -c 'import json,sys; d=json.load(open("v.json")); sys.exit(0 if d["valid"] and d["errors"]==0 else 1)' \
    || fail "validate: $(cat v.json)"
  "$exe" gen --solution sol --platform arm64v8 --json > g.json
  /usr/bin/python3 - <<'PY' || fail "gen --json: $(cat g.json)"
import json
g = json.load(open("g.json"))
assert g["written"] and g["platform"] == "arm64v8", g
assert [i["tag"] for i in g["images"]] == ["localhost:5000/scoring:0.0.1-arm64v8"], g["images"]
m = json.load(open(g["manifest"]))
assert m["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]["scoring"]["settings"]["image"] == g["images"][0]["tag"]
PY
  # module add keeps the rest of the template; the debug manifest uses the debug image
  "$exe" module add anomaly --model "$model" --solution sol --runtime node-onnxruntime > /dev/null
  "$exe" gen --solution sol --template sol/deployment.debug.template.json > /dev/null
  grep -q '"image": "localhost:5000/anomaly:0.0.1-amd64.debug"' sol/config/deployment.debug.amd64.json || fail "debug image"
  "$exe" validate sol/config/deployment.debug.amd64.json > /dev/null
  ;;
bad_input)
  "$exe" init sol --model "$model" > /dev/null
  expect 2 'cannot serve platform arm32v7' -- "$exe" init other --model "$model" --platforms arm32v7
  [[ ! -e other ]] || fail "refused init left files"
  expect 2 'already exists and is not an empty directory' -- "$exe" init sol
  expect 2 "unknown runtime 'rust'" -- "$exe" init x --runtime rust
  expect 2 '' -- "$exe" module
  # a value with a quote is fine (JSON-safe); an unquoted one that is not JSON is reported at the original position
  CONTAINER_REGISTRY_SERVER='quo"te' expect 3 '' -- "$exe" gen --solution sol
  sed -i 's/"timeToLiveSecs": 7200/"timeToLiveSecs": $TTL/' sol/deployment.template.json
  TTL='7200,' expect 1 'deployment.template.json:[0-9]+:[0-9]+: not valid JSON after variable expansion \(after the value of \$\{TTL\}\)' \
    -- "$exe" gen --solution sol
  expect 1 'undefined variables? \(--strict\): .*deployment.template.json:[0-9]+:[0-9]+ \$TTL' -- "$exe" gen --solution sol --strict
  expect 1 'deployment.template.json:[0-9]+:[0-9]+: not valid JSON \(undefined variable \$TTL\)' -- "$exe" gen --solution sol
  sed -i 's/\$TTL/7200/' sol/deployment.template.json
  expect 1 "platform 'arm64v8' missing from image.tag.platforms" -- "$exe" gen --solution sol --platform arm64v8
  cp sol/deployment.template.json t.json
  sed -i 's/\${MODULES.scoring}/${MODULES.nosuch}/' sol/deployment.template.json
  expect 1 "no module folder 'nosuch'" -- "$exe" gen --solution sol
  cp t.json sol/deployment.template.json
  sed -i 's/"repository"/"repo"/' sol/modules/scoring/module.json
  expect 1 'module.json: image.repository is missing or empty' -- "$exe" gen --solution sol
  [[ ! -e sol/config ]] || fail "a failed gen wrote output"
  printf '{"modulesContent": {"$edgeAgent": {}}' > broken.json
  expect 1 'broken.json:1:[0-9]+: not valid JSON' -- "$exe" validate broken.json
  printf '{"modulesContent": {"$edgeAgent": {"properties.desired": {}}}}' > invalid.json
  expect 3 'invalid.json: [0-9]+ errors' -- "$exe" validate invalid.json
  grep -q '^error: \$.modulesContent: schema: ' out.txt || fail "findings not on stdout: $(cat out.txt)"
  ;;
iotedgedev_parity)
  # our manifests are byte-identical to Python's json.dump(indent=2) and our createOptions chunks to
  # json.dumps(separators=(',', ':')) of the same object (docs/design/iothub.md §2.1 step 7, §3)
  for golden in "$src"/tests/fixtures/golden/manifests/*/*.json; do
    /usr/bin/python3 - "$golden" <<'PY' || fail "parity: $golden"
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
doc = json.loads(text)
assert json.dumps(doc, indent=2) == text, "json.dump(indent=2) differs"
mc = doc.get("content", doc)["modulesContent"]
for key, val in mc["$edgeAgent"].items():
    mods = []
    if key == "properties.desired":
        for g in ("modules", "systemModules"):
            mods += list(val.get(g, {}).values())
    elif key.startswith("properties.desired.modules."):
        mods.append(val)
    for m in mods:
        s = m["settings"]
        chunks = [s[k] for k in sorted(s) if k.startswith("createOptions")]
        if chunks and "".join(chunks):
            joined = "".join(chunks)
            assert all(len(c) <= 512 for c in chunks)
            assert json.dumps(json.loads(joined), separators=(",", ":")) == joined, joined
PY
  done
  ;;
*) fail "unknown case $case" ;;
esac
echo "ok: $case"
