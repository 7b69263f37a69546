#!/usr/bin/env bash
# e2e.registry.ship: `edgeship ship` from a trained model to a module the IoT Hub test double reports
# running, against a plain docker-registry on 127.0.0.1 (skopeo is the oracle) — issue 8 item 5.
#   For an XGBoost model, a scikit-learn Pipeline and a PyTorch (TorchScript) model, each trained here with
#   /usr/bin/python3: ship → exit 0, image pushed (digest as skopeo reads it), manifest applied, device
#   running; a retrained model re-ships uploading only the model layer (+ the config; from --json); an
#   unchanged one re-ships uploading nothing.
#   An at-scale deployment (--deployment/--target-condition), re-run without a conflict.
#   One failure injected at each step: the documented exit code and "ship: step <name>:".
source "${REGISTRY_LIB:?run through ctest (tests/e2e/registry.cmake) or set REGISTRY_LIB}"

ES=${EDGESHIP_EXE:?}
SRC=${EDGESHIP_SOURCE_DIR:?}
TRAIN="$SRC/tests/e2e/registry_ship_models.py"
export SOURCE_DATE_EPOCH=1700000000
unset CONTAINER_REGISTRY_SERVER CONTAINER_TAG IOTHUB_CONNECTION_STRING EDGESHIP_IOTHUB_ENDPOINT EDGESHIP_IOTHUB_CA_FILE

step "start a plain registry, a busybox base image and the IoT Hub double"
reg_start plain
make_base "$WORK/base" amd64 amd64 > /dev/null
make_base "$WORK/base" arm64 arm64 > /dev/null
BASE="oci:$WORK/base:amd64"
# A multi-platform base: an index over the two, tagged "multi" in the same layout.
"$PY" - "$WORK/base" <<'PY'
import hashlib, json, sys
d = sys.argv[1]
idx = json.load(open(f"{d}/index.json"))
by_tag = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in idx["manifests"]}
entries = []
for tag, platform in (("amd64", {"architecture": "amd64", "os": "linux"}),
                      ("arm64", {"architecture": "arm64", "os": "linux", "variant": "v8"})):
    m = {k: v for k, v in by_tag[tag].items() if k != "annotations"}
    m["platform"] = platform
    entries.append(m)
body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries},
                  separators=(",", ":")).encode()
digest = hashlib.sha256(body).hexdigest()
open(f"{d}/blobs/sha256/{digest}", "wb").write(body)
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + digest,
                         "size": len(body), "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(idx, open(f"{d}/index.json", "w"))
PY
cat > "$WORK/scenario.json" <<'JSON'
{"devices": [
  {"id": "gw-xgb", "delay": 0.5}, {"id": "gw-sk", "delay": 0.5}, {"id": "gw-torch", "delay": 0.5},
  {"id": "site-a-1", "tags": {"site": "a"}}, {"id": "site-a-2", "tags": {"site": "a"}},
  {"id": "gw-pullfail", "behavior": "image_pull_failure"}
]}
JSON
mkfifo "$WORK/hub.in"
"$PY" "$SRC/tests/iothub_double/harness.py" serve --scenario "$WORK/scenario.json" --env-out "$WORK/hub.env.json" \
  < "$WORK/hub.in" > "$WORK/hub.log" 2>&1 &
HUB_PID=$!
exec 7> "$WORK/hub.in" # the double runs until this closes
on_exit "exec 7>&-; for _ in \$(seq 1 50); do kill -0 $HUB_PID 2>/dev/null || break; sleep 0.1; done; kill $HUB_PID 2>/dev/null; wait $HUB_PID 2>/dev/null"
WAIT_SECONDS=30 wait_for test -s "$WORK/hub.env.json" || { cat "$WORK/hub.log" >&2; fail "IoT Hub double did not start"; }
IOTHUB_CONNECTION_STRING=$(jget "$WORK/hub.env.json" 'd["IOTHUB_CONNECTION_STRING"]')
EDGESHIP_IOTHUB_ENDPOINT=$(jget "$WORK/hub.env.json" 'd["EDGESHIP_IOTHUB_ENDPOINT"]')
EDGESHIP_IOTHUB_CA_FILE=$(jget "$WORK/hub.env.json" 'd["EDGESHIP_IOTHUB_CA_FILE"]')
export IOTHUB_CONNECTION_STRING EDGESHIP_IOTHUB_ENDPOINT EDGESHIP_IOTHUB_CA_FILE

COMMON=(--registry "$REG_ADDR" --plain-http --base "$BASE" --wait --timeout 60s --interval 1s --json)

# steps FILE: "name=status …" of a --json report
steps() { jget "$1" '" ".join(s["name"] + "=" + s["status"] for s in d["steps"])'; }

# ship_model KIND FILE MODULE DEVICE [convert flags…]
ship_model() {
  local kind=$1 file=$2 module=$3 device=$4; shift 4
  local sol="$WORK/sol-$module" ref="$REG_ADDR/$module:0.0.1-amd64"
  step "$kind: train, ship to $device"
  "$PY" "$TRAIN" "$kind" "$WORK/$file" 1
  expect_exit 0 "$ES" ship "$WORK/$file" --solution "$sol" --module "$module" --device "$device" "${COMMON[@]}" "$@"
  cp "$LAST_OUT" "$WORK/$module-1.json"
  assert_eq "$(steps "$WORK/$module-1.json")" \
    "convert=done check=done solution=done build=done push=done gen=done validate=done deploy=done wait=done" "$kind steps"
  assert_eq "$(jget "$WORK/$module-1.json" 'd["model_digest"]')" "$(sha256_of "$WORK/$file")" "$kind model digest"
  assert_eq "sha256:$(jget "$WORK/$module-1.json" 'd["onnx_sha256"]')" \
    "$(sha256_of "$sol/modules/$module/model/model.onnx")" "$kind ONNX sha256 = the module's model"
  assert_eq "$(jget "$WORK/$module-1.json" 'd["images"][0]["reference"]')" "$ref" "$kind image reference"
  assert_eq "$(skopeo_digest "docker://$ref")" "$(jget "$WORK/$module-1.json" 'd["images"][0]["digest"]')" \
    "$kind digest as skopeo reads it"
  sk_inspect "docker://$ref" > "$WORK/$module-inspect.json"
  assert_eq "$(jget "$WORK/$module-inspect.json" 'd["Labels"]["com.edgeship.model.sha256"]')" \
    "$(jget "$WORK/$module-1.json" 'd["onnx_sha256"]')" "$kind image serves the converted model"
  assert_eq "$(jget "$WORK/$module-1.json" 'd["manifest"]')" "$sol/config/deployment.amd64.json" "$kind manifest"
  grep -q "\"$ref\"" "$sol/config/deployment.amd64.json" || fail "$kind manifest does not run $ref"
  assert_eq "$(jget "$WORK/$module-1.json" 'd["deployment"]')" "{\"kind\": \"device\", \"id\": \"$device\", \"applied\": true}" "$kind deployment"
  assert_eq "$(jget "$WORK/$module-1.json" 'd["rollout"]["outcome"]')" succeeded "$kind rollout"
  [ "$(jget "$WORK/$module-1.json" 'd["bytes_uploaded"] > 0')" = true ] || fail "$kind: nothing uploaded on a first push"

  step "$kind: retrain, re-ship: only the model layer (and the config) is uploaded"
  "$PY" "$TRAIN" "$kind" "$WORK/$file" 2
  expect_exit 0 "$ES" ship "$WORK/$file" --solution "$sol" --module "$module" --device "$device" "${COMMON[@]}" "$@"
  cp "$LAST_OUT" "$WORK/$module-2.json"
  assert_eq "$(steps "$WORK/$module-2.json")" \
    "convert=done check=done solution=done build=done push=done gen=done validate=done deploy=done wait=done" "$kind re-ship steps"
  sk_inspect --raw "docker://$ref" > "$WORK/$module-manifest2.json"
  assert_eq "$(jget "$WORK/$module-2.json" 'd["images"][0]["digest"]')" "$(skopeo_digest "docker://$ref")" "$kind new digest"
  [ "$(jget "$WORK/$module-2.json" 'd["images"][0]["digest"]')" != "$(jget "$WORK/$module-1.json" 'd["images"][0]["digest"]')" ] ||
    fail "$kind: the retrained image has the old digest"
  # Layers: [base…, model, app]. Uploaded: the model layer and the config; skipped: base and app layers.
  local model_layer model_size config config_size
  model_layer=$(jget "$WORK/$module-manifest2.json" 'd["layers"][-2]["digest"]')
  model_size=$(jget "$WORK/$module-manifest2.json" 'd["layers"][-2]["size"]')
  config=$(jget "$WORK/$module-manifest2.json" 'd["config"]["digest"]')
  config_size=$(jget "$WORK/$module-manifest2.json" 'd["config"]["size"]')
  assert_eq "$(jget "$WORK/$module-2.json" 'sorted(o["target"].rsplit("/",1)[1] for s in d["steps"] if s["name"]=="push" for o in s["operations"] if o["method"]=="PUT" and "/blobs/" in o["target"])')" \
    "$("$PY" -c 'import json,sys; print(json.dumps(sorted(sys.argv[1:])))' "$model_layer" "$config")" "$kind blobs uploaded on the re-ship"
  assert_eq "$(jget "$WORK/$module-2.json" 'd["bytes_uploaded"]')" "$((model_size + config_size))" "$kind bytes uploaded"
  assert_eq "$(jget "$WORK/$module-2.json" 'd["bytes_skipped"]')" \
    "$(jget "$WORK/$module-manifest2.json" 'sum(l["size"] for l in d["layers"]) - d["layers"][-2]["size"]')" "$kind bytes skipped"
  echo "figures: $kind first ship $(jget "$WORK/$module-1.json" 'd["bytes_uploaded"]') bytes uploaded;" \
       "re-ship $(jget "$WORK/$module-2.json" 'd["bytes_uploaded"]') uploaded, $(jget "$WORK/$module-2.json" 'd["bytes_skipped"]') skipped;" \
       "ms per step: $(jget "$WORK/$module-2.json" '" ".join("%s=%d" % (s["name"], s["duration_ms"]) for s in d["steps"])')" >&2

  step "$kind: ship again unchanged: nothing is reconverted, rebuilt or uploaded"
  expect_exit 0 "$ES" ship "$WORK/$file" --solution "$sol" --module "$module" --device "$device" "${COMMON[@]}" "$@"
  cp "$LAST_OUT" "$WORK/$module-3.json"
  assert_eq "$(steps "$WORK/$module-3.json")" \
    "convert=skipped check=done solution=skipped build=skipped push=skipped gen=done validate=done deploy=done wait=done" "$kind unchanged steps"
  assert_eq "$(jget "$WORK/$module-3.json" 'd["bytes_uploaded"]')" 0 "$kind bytes uploaded when unchanged"
  assert_eq "$(jget "$WORK/$module-3.json" 'd["images"][0]["digest"]')" "$(jget "$WORK/$module-2.json" 'd["images"][0]["digest"]')" "$kind digest kept"
}

ship_model xgboost model.json xgb gw-xgb
ship_model sklearn model.joblib sk gw-sk --trust-pickle --python /usr/bin/python3
ship_model torch model.pt torch gw-torch --input-shape 1,6 --python /usr/bin/python3

step "at-scale deployment: --deployment with a target condition, then re-run (already there: no conflict)"
DEP=(--solution "$WORK/sol-xgb" --module xgb --deployment pm-v1 --target-condition "tags.site='a'" --priority 10)
expect_exit 0 "$ES" ship "$WORK/model.json" "${DEP[@]}" "${COMMON[@]}"
assert_eq "$(jget "$LAST_OUT" 'd["deployment"]')" '{"kind": "deployment", "id": "pm-v1", "applied": true}' "deployment"
assert_eq "$(jget "$LAST_OUT" 'd["rollout"]["summary"]["succeeded"]')" 2 "devices running"
expect_exit 0 "$ES" ship "$WORK/model.json" "${DEP[@]}" "${COMMON[@]}"
assert_eq "$(jget "$LAST_OUT" '[s["status"] for s in d["steps"] if s["name"]=="deploy"][0]')" skipped "deploy on re-run"

step "--dry-run: the plan lists registry and IoT Hub requests and changes nothing"
expect_exit 0 "$ES" ship "$WORK/model.json" --solution "$WORK/sol-plan" --module plan --device gw-xgb \
  --registry "$REG_ADDR" --plain-http --base "$BASE" --wait --dry-run
grep -qx "  registry PUT /v2/plan/manifests/<version>-amd64  (the amd64 image manifest, last)" "$LAST_OUT" || fail "plan lacks the manifest PUT"
grep -q "^  iothub POST $EDGESHIP_IOTHUB_ENDPOINT/devices/gw-xgb/applyConfigurationContent?api-version=" "$LAST_OUT" || fail "plan lacks the hub request"
assert_file_absent "$WORK/sol-plan" "solution after --dry-run"
assert_eq "$(reg_log_count '/v2/plan/')" 0 "registry requests for the planned repository"

step "--deploy-dry-run: everything but the IoT Hub calls"
posts_before=$("$PY" -c 'import json,sys,ssl,urllib.request as u; e=json.load(open(sys.argv[1])); c=ssl.create_default_context(cafile=e["EDGESHIP_IOTHUB_CA_FILE"]); print(sum(1 for r in json.load(u.urlopen(e["EDGESHIP_DOUBLE_URL"]+"/_double/log", context=c)) if r.get("method")=="POST" and "applyConfigurationContent" in r.get("path","")))' "$WORK/hub.env.json")
expect_exit 0 "$ES" ship "$WORK/model.json" --solution "$WORK/sol-xgb" --module xgb --device gw-xgb --deploy-dry-run \
  --registry "$REG_ADDR" --plain-http --base "$BASE" --json
assert_eq "$(steps "$LAST_OUT")" \
  "convert=skipped check=done solution=skipped build=skipped push=skipped gen=done validate=done deploy=planned wait=skipped" "deploy-dry-run steps"
posts_after=$("$PY" -c 'import json,sys,ssl,urllib.request as u; e=json.load(open(sys.argv[1])); c=ssl.create_default_context(cafile=e["EDGESHIP_IOTHUB_CA_FILE"]); print(sum(1 for r in json.load(u.urlopen(e["EDGESHIP_DOUBLE_URL"]+"/_double/log", context=c)) if r.get("method")=="POST" and "applyConfigurationContent" in r.get("path","")))' "$WORK/hub.env.json")
assert_eq "$posts_after" "$posts_before" "applyConfigurationContent requests during --deploy-dry-run"

step "--oci-layout: an ONNX model (convert skipped) into an image layout; skopeo reads it; a re-run skips build and push"
expect_exit 0 "$ES" ship "$SRC/examples/predictive-maintenance/model.onnx" --solution "$WORK/sol-layout" \
  --oci-layout "$WORK/images" --base "$BASE" --json
assert_eq "$(steps "$LAST_OUT")" \
  "convert=skipped check=done solution=done build=done push=done gen=done validate=done deploy=skipped wait=skipped" "layout steps"
assert_eq "$(skopeo_digest "oci:$WORK/images:0.0.1-amd64")" "$(jget "$LAST_OUT" 'd["images"][0]["digest"]')" "layout digest"
expect_exit 0 "$ES" ship "$SRC/examples/predictive-maintenance/model.onnx" --solution "$WORK/sol-layout" \
  --oci-layout "$WORK/images" --base "$BASE" --json
assert_eq "$(steps "$LAST_OUT")" \
  "convert=skipped check=done solution=skipped build=skipped push=skipped gen=done validate=done deploy=skipped wait=skipped" "layout re-run steps"

step "two platforms: built in one call, the shared layers uploaded once, an index tagged repo:version"
expect_exit 0 "$ES" ship "$SRC/examples/predictive-maintenance/model.onnx" --solution "$WORK/sol-mp" --module mp \
  --platform amd64 --platform arm64v8 --registry "$REG_ADDR" --plain-http --base "oci:$WORK/base:multi" --json
cp "$LAST_OUT" "$WORK/mp.json"
assert_eq "$(steps "$WORK/mp.json")" \
  "convert=skipped check=done solution=done build=done push=done gen=done validate=done deploy=skipped wait=skipped" "two-platform steps"
assert_eq "$(jget "$WORK/mp.json" '[i["reference"] for i in d["images"]]')" "[\"$REG_ADDR/mp:0.0.1-amd64\", \"$REG_ADDR/mp:0.0.1-arm64v8\"]" "image references"
assert_eq "$(jget "$WORK/mp.json" 'd["indexes"][0]["reference"]')" "$REG_ADDR/mp:0.0.1" "index reference"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/mp:0.0.1")" "$(jget "$WORK/mp.json" 'd["indexes"][0]["digest"]')" "index digest"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/mp:0.0.1-arm64v8")" "$(jget "$WORK/mp.json" 'd["images"][1]["digest"]')" "arm64v8 digest"
sk_inspect --raw "docker://$REG_ADDR/mp:0.0.1" > "$WORK/mp-index.json"
assert_eq "$(jget "$WORK/mp-index.json" '[m["digest"] for m in d["manifests"]]')" "$(jget "$WORK/mp.json" '[i["digest"] for i in d["images"]]')" "index entries"
model_size=$(sk_inspect --raw "docker://$REG_ADDR/mp:0.0.1-amd64" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["layers"][-2]["size"])')
[ "$(jget "$WORK/mp.json" 'd["images"][0]["bytes_uploaded"]')" -ge "$model_size" ] || fail "amd64 push did not count the model layer as uploaded"
[ "$(jget "$WORK/mp.json" 'd["images"][1]["bytes_uploaded"]')" -le 65536 ] || fail "arm64v8 push uploaded more than its config"
expect_exit 0 "$ES" ship "$SRC/examples/predictive-maintenance/model.onnx" --solution "$WORK/sol-mp" --module mp \
  --platform amd64 --platform arm64v8 --registry "$REG_ADDR" --plain-http --base "oci:$WORK/base:multi" --json
assert_eq "$(steps "$LAST_OUT")" \
  "convert=skipped check=done solution=skipped build=skipped push=skipped gen=done validate=done deploy=skipped wait=skipped" "two-platform re-run"
assert_eq "$(jget "$LAST_OUT" 'len(d["indexes"])')" 0 "indexes pushed by an up-to-date re-run"
# Without --json the artefacts list names the index beside the per-platform images.
expect_exit 0 "$ES" ship "$SRC/examples/predictive-maintenance/model.onnx" --solution "$WORK/sol-mp2" --module mp2 \
  --platform amd64 --platform arm64v8 --registry "$REG_ADDR" --plain-http --base "oci:$WORK/base:multi"
assert_match "$(grep '^index ' "$LAST_OUT")" "^index +$REG_ADDR/mp2:0\.0\.1@sha256:[0-9a-f]{64}  \(amd64, arm64v8\)\$" "index line of the text report"

step "a failure injected at each step: its exit code, one error line naming the step"
"$PY" "$TRAIN" xgboost "$WORK/ok.json" 3
F=(--registry "$REG_ADDR" --plain-http --base "$BASE")
printf '{"learner": ' > "$WORK/corrupt.json"
expect_exit 1 --err '^edgeship: error: ship: step convert: ' \
  "$ES" ship "$WORK/corrupt.json" --solution "$WORK/f-convert" "${F[@]}"
assert_file_absent "$WORK/f-convert" "solution after a convert failure"
"$PY" "$TRAIN" broken-onnx "$WORK/broken.onnx" 0
expect_exit 3 --err '^edgeship: error: ship: step check: ' \
  "$ES" ship "$WORK/broken.onnx" --solution "$WORK/f-check" "${F[@]}"
expect_exit 2 --err '^edgeship: error: ship: step solution: ' \
  "$ES" ship "$WORK/ok.json" --solution "$WORK/f-solution" --runtime no-such-runtime "${F[@]}"
[ -f "$WORK/.f-solution.edgeship/model.onnx" ] || fail "the conversion was not kept after the solution step failed"
expect_exit 1 --err '^edgeship: error: ship: step build: ' \
  "$ES" ship "$WORK/ok.json" --solution "$WORK/f-build" --registry "$REG_ADDR" --plain-http --base "oci:$WORK/no-such-layout"
closed_port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
expect_exit 1 --err '^edgeship: error: ship: step push: ' \
  "$ES" ship "$WORK/ok.json" --solution "$WORK/f-push" --registry "127.0.0.1:$closed_port" --plain-http --base "$BASE"
[ -f "$WORK/f-push/.edgeship/model.onnx" ] || fail "the conversion was not kept after the push failed"
# gen: a CONTAINER_TAG the tag grammar refuses (no image target, so build does not see it first)
CONTAINER_TAG='bad tag' expect_exit 1 --err '^edgeship: error: ship: step gen: ' \
  "$ES" ship "$WORK/ok.json" --solution "$WORK/f-gen"
# validate: a template that hard-codes another image instead of ${MODULES.scoring}
expect_exit 0 "$ES" ship "$WORK/ok.json" --solution "$WORK/f-validate"
sed -i 's|\${MODULES.scoring}|mcr.microsoft.com/other:1|' "$WORK/f-validate/deployment.template.json"
expect_exit 3 --err '^edgeship: error: ship: step validate: .*no module runs the image just pushed' \
  "$ES" ship "$WORK/ok.json" --solution "$WORK/f-validate" "${F[@]}"
# deploy: a connection string with the wrong key -> 401 -> exit 4
IOTHUB_CONNECTION_STRING="${IOTHUB_CONNECTION_STRING%%SharedAccessKey=*}SharedAccessKey=$(printf 'A%.0s' {1..43})=" \
  expect_exit 4 --err '^edgeship: error: ship: step deploy: ' \
  "$ES" ship "$WORK/ok.json" --solution "$WORK/f-push" --device gw-xgb "${F[@]}"
grep -q 'SharedAccessKey=\|sig=' "$LAST_ERR" && fail "a secret in the error output"
# wait: the device's agent cannot pull the image
expect_exit 1 --err '^edgeship: error: ship: step wait: ' \
  "$ES" ship "$WORK/ok.json" --solution "$WORK/f-push" --device gw-pullfail --wait --timeout 30s --interval 1s "${F[@]}"
echo "registry_ship: ok" >&2
