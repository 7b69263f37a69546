#!/usr/bin/env bash
# e2e.registry.build: `edgeship build` and `edgeship export` on the example solution (made with `edgeship
# init`, as scripts/demo.sh does) against a busybox base image made without Docker and a plain local
# registry on 127.0.0.1; skopeo and GNU tar are the oracles (docs/design/registry.md §8.5, §10.7).
#   OCI layout: per-platform tags + index, config/labels as skopeo reads them, determinism.
#   --push: registry base layers never downloaded (no blob GET), digests as skopeo reads them, multi-arch
#           index; a retrained model re-uploads only the model layer (+ config + manifest).
#   export: a docker-archive skopeo reads, with RepoTags = the module's tag.
source "${REGISTRY_LIB:?run through ctest (tests/e2e/registry.cmake) or set REGISTRY_LIB}"

ES=${EDGESHIP_EXE:?}
SRC=${EDGESHIP_SOURCE_DIR:?}
MODEL=$SRC/examples/predictive-maintenance/model.onnx
export SOURCE_DATE_EPOCH=1700000000
unset CONTAINER_REGISTRY_SERVER CONTAINER_TAG

step "scaffold the example solution and make busybox base images (amd64, arm64)"
"$ES" init "$WORK/pm" --module scoring --model "$MODEL" --platforms amd64,arm64v8 > /dev/null
make_base "$WORK/base" amd64 amd64 > /dev/null
make_base "$WORK/base" arm64 arm64 > /dev/null
step "no base given: the runtime's official image, read from the base registry (unreachable here) -> exit 1, nothing written"
EDGESHIP_BASE_REGISTRY=127.0.0.1:1 expect_exit 1 --err "^edgeship: error: build scoring amd64: base image 127.0.0.1:1/library/python:3.11-slim-bookworm: " \
  "$ES" build --solution "$WORK/pm" --oci-layout "$WORK/never"
assert_file_absent "$WORK/never" "layout after a failed build"
MJ="$WORK/pm/modules/scoring/module.json"
"$PY" - "$MJ" "$WORK/base" <<'PY'
import json, sys
p, base = sys.argv[1], sys.argv[2]
d = json.load(open(p))
d["edgeship"] = {"baseImage": {"amd64": f"oci:{base}:amd64", "arm64v8": f"oci:{base}:arm64"}}
json.dump(d, open(p, "w"), indent=2)
PY
model_sha=$(sha256sum "$MODEL" | cut -d' ' -f1)

expect_exit 1 --err "base image oci:.*:amd64 is linux/amd64, not linux/arm64" --lines 1 \
  "$ES" build --solution "$WORK/pm" --oci-layout "$WORK/never" --base "oci:$WORK/base:amd64"
assert_file_absent "$WORK/never" "layout after a failed build"

step "build both platforms into an OCI layout"
expect_exit 0 "$ES" build --solution "$WORK/pm" --oci-layout "$WORK/out" --json
cp "$LAST_OUT" "$WORK/build1.json"
amd_digest=$(jget "$WORK/build1.json" 'd["images"][0]["digest"]')
assert_eq "$(jget "$WORK/build1.json" 'd["images"][0]["reference"]')" "localhost:5000/scoring:0.0.1-amd64" "amd64 reference"
assert_eq "$(jget "$WORK/build1.json" 'd["images"][1]["reference"]')" "localhost:5000/scoring:0.0.1-arm64v8" "arm64 reference"
assert_eq "$(jget "$WORK/build1.json" 'd["indexes"][0]["reference"]')" "localhost:5000/scoring:0.0.1" "index reference"
assert_eq "$(skopeo_digest "oci:$WORK/out:0.0.1-amd64")" "$amd_digest" "skopeo's digest of 0.0.1-amd64"
sk_inspect "oci:$WORK/out:0.0.1-amd64" > "$WORK/inspect.json"
assert_eq "$(jget "$WORK/inspect.json" 'd["Architecture"]')" amd64 "Architecture"
assert_eq "$(jget "$WORK/inspect.json" 'd["Labels"]["com.edgeship.model.sha256"]')" "$model_sha" "model label"
assert_eq "$(jget "$WORK/inspect.json" 'd["Labels"]["org.opencontainers.image.version"]')" 0.0.1 "version label"
assert_eq "$(jget "$WORK/inspect.json" 'd["Created"]')" "2023-11-14T22:13:20Z" "Created"
assert_eq "$(jget "$WORK/inspect.json" '[e for e in d["Env"] if e.startswith("MODEL_PATH=")][0]')" "MODEL_PATH=/app/model/model.onnx" "Env"
assert_eq "$(jget "$WORK/inspect.json" 'len(d["Layers"])')" 4 "layers (busybox + deps + model + app)"
assert_eq "$(jget "$WORK/build1.json" '[l["role"] for l in d["images"][0]["layers"]]')" '["base", "deps", "model", "app"]' "layer roles"
sk_inspect --config "oci:$WORK/out:0.0.1-amd64" > "$WORK/config.json"
assert_eq "$(jget "$WORK/config.json" 'd["config"]["Cmd"]')" '["python3", "-m", "app.main"]' "Cmd"
assert_eq "$(jget "$WORK/config.json" '[e for e in d["config"]["Env"] if e.startswith("PYTHONPATH=")][0]')" "PYTHONPATH=/app/site-packages" "deps on PYTHONPATH"
assert_eq "$(jget "$WORK/config.json" 'd["config"]["WorkingDir"]')" /app "WorkingDir"
assert_eq "$(jget "$WORK/config.json" 'd["config"]["User"]')" 10001:10001 "User"
assert_eq "$(jget "$WORK/config.json" 'sorted(d["config"]["ExposedPorts"])')" '["8080/tcp"]' "ExposedPorts"
sk_inspect --raw "oci:$WORK/out:0.0.1" > "$WORK/index.json"
assert_eq "$(jget "$WORK/index.json" '[m["platform"]["architecture"] for m in d["manifests"]]')" '["amd64", "arm64"]' "index platforms"
step "the model and app layers hold what the Dockerfile copies (GNU tar)"
model_layer=$(jget "$WORK/build1.json" 'd["images"][0]["layers"][2]["digest"]' | cut -d: -f2)
app_layer=$(jget "$WORK/build1.json" 'd["images"][0]["layers"][3]["digest"]' | cut -d: -f2)
deps_layer=$(jget "$WORK/build1.json" 'd["images"][0]["layers"][1]["digest"]' | cut -d: -f2)
# the stand-in pip (tests/tools/fake-deps) installed for linux/amd64 into /app/site-packages
tar -xzOf "$WORK/out/blobs/sha256/$deps_layer" app/site-packages/fakepkg/args | grep -qE -- '--platform manylinux_2_36_x86_64 .*--platform manylinux2014_x86_64 --platform manylinux2010_x86_64 --platform manylinux1_x86_64 --python-version 3.11 --implementation cp --only-binary=:all:' ||
  fail "deps layer: pip was not asked for cp3.11 manylinux x86_64 wheels only"
assert_eq "$(tar -tzf "$WORK/out/blobs/sha256/$model_layer" | tr '\n' ' ')" "app/ app/model/ app/model/model.onnx " "model layer"
tar -tzf "$WORK/out/blobs/sha256/$app_layer" | grep -x 'app/app/main.py' >/dev/null || fail "app layer lacks app/app/main.py"
tar -tzf "$WORK/out/blobs/sha256/$app_layer" | grep 'module.json\|Dockerfile' >/dev/null && fail "app layer holds ignored files"
sk_copy "oci:$WORK/out:0.0.1-arm64v8" "oci:$WORK/copy:arm" || fail "skopeo copy of the arm64 image"

step "determinism: a second build gives the same digests"
expect_exit 0 "$ES" build --solution "$WORK/pm" --oci-layout "$WORK/out2" --json
assert_eq "$(jget "$LAST_OUT" 'd["indexes"][0]["digest"]')" "$(jget "$WORK/build1.json" 'd["indexes"][0]["digest"]')" "index digest"

step "a local base is named by its digest, not its path: the same build from another directory, the same digests"
mkdir -p "$WORK/elsewhere/deeper" && cp -r "$WORK/base" "$WORK/elsewhere/deeper/runtime"
expect_exit 0 "$ES" build scoring --solution "$WORK/pm" --platform amd64 --base "oci:$WORK/elsewhere/deeper/runtime:amd64" \
  --oci-layout "$WORK/there" --json
assert_eq "$(jget "$LAST_OUT" 'd["images"][0]["digest"]')" "$amd_digest" "digest with the base in another directory"
sk_inspect "oci:$WORK/there:0.0.1-amd64" > "$WORK/there.json"
assert_eq "$(jget "$WORK/there.json" '"org.opencontainers.image.base.name" in d["Labels"]')" false "base.name label of a local base"
assert_eq "$(jget "$WORK/there.json" 'd["Labels"]["org.opencontainers.image.base.digest"]')" "$(skopeo_digest "oci:$WORK/base:amd64")" "base.digest label"
grep -rlF -- "$WORK" "$WORK/there/blobs" && fail "a blob of the layout names the build directory"

step "push both platforms and the index to a plain registry"
reg_start plain
export CONTAINER_REGISTRY_SERVER=$REG_ADDR   # the environment beats .env (docs/design/iothub.md §1.1)
expect_exit 0 "$ES" build --solution "$WORK/pm" --push --plain-http --json
cp "$LAST_OUT" "$WORK/push1.json"
assert_eq "$(jget "$WORK/push1.json" 'd["images"][0]["reference"]')" "$REG_ADDR/scoring:0.0.1-amd64" "pushed reference"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/scoring:0.0.1-amd64")" "$(jget "$WORK/push1.json" 'd["images"][0]["digest"]')" "pushed amd64 digest"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/scoring:0.0.1")" "$(jget "$WORK/push1.json" 'd["indexes"][0]["digest"]')" "pushed index digest"
assert_eq "$(skopeo_config_digest "docker://$REG_ADDR/scoring:0.0.1-arm64v8")" "$(jget "$WORK/push1.json" 'd["images"][1]["config_digest"]')" "pushed config"
sk_inspect --raw "docker://$REG_ADDR/scoring:0.0.1" > "$WORK/rindex.json"
assert_eq "$(jget "$WORK/rindex.json" 'len(d["manifests"])')" 2 "registry index entries"

step "a registry base: its layers are never downloaded when pushing to the registry that holds them"
sk_copy "oci:$WORK/base:amd64" "docker://$REG_ADDR/runtime/busybox:1"
expect_exit 0 "$ES" build scoring --solution "$WORK/pm" --platform amd64 --base "$REG_ADDR/runtime/busybox:1" --push --plain-http --json
cp "$LAST_OUT" "$WORK/push2.json"
base_layer=$(jget "$WORK/push2.json" 'd["images"][0]["layers"][0]["digest"]')
assert_eq "$(reg_log_count "\"GET /v2/[^ ]*/blobs/$base_layer")" 0 "base layer downloads"
base_size=$(jget "$WORK/push2.json" 'd["images"][0]["layers"][0]["size"]')
skipped=$(jget "$WORK/push2.json" 'd["images"][0]["bytes_skipped"]')
[ "$skipped" -ge "$base_size" ] || fail "base layer not skipped/mounted: skipped $skipped < $base_size"
assert_eq "$(skopeo_digest "docker://$REG_ADDR/scoring:0.0.1-amd64")" "$(jget "$WORK/push2.json" 'd["images"][0]["digest"]')" "registry-base digest"

step "a retrained model re-uploads only the model layer (+ config + manifest)"
cp "$MODEL" "$WORK/retrained.onnx" && printf 'retrained' >> "$WORK/retrained.onnx"
posts_before=$(reg_log_count '"POST /v2/scoring/blobs/uploads/')
expect_exit 0 "$ES" build scoring --solution "$WORK/pm" --platform amd64 --base "$REG_ADDR/runtime/busybox:1" \
  --model "$WORK/retrained.onnx" --push --plain-http --json
cp "$LAST_OUT" "$WORK/push3.json"
new_model=$(jget "$WORK/push3.json" 'd["images"][0]["layers"][2]["size"]')
uploaded=$(jget "$WORK/push3.json" 'd["images"][0]["bytes_uploaded"]')
[ "$uploaded" -ge "$new_model" ] && [ "$uploaded" -le $((new_model + 65536)) ] ||
  fail "bytes uploaded $uploaded, expected the model layer ($new_model) + at most 64 KiB"
assert_eq "$(jget "$WORK/push3.json" 'd["images"][0]["layers"][3]["digest"]')" "$(jget "$WORK/push2.json" 'd["images"][0]["layers"][3]["digest"]')" "app layer unchanged"
assert_eq "$(jget "$WORK/push3.json" 'd["images"][0]["layers"][1]["digest"]')" "$(jget "$WORK/push2.json" 'd["images"][0]["layers"][1]["digest"]')" "deps layer unchanged (not rebuilt, not uploaded)"
assert_eq "$(( $(reg_log_count '"POST /v2/scoring/blobs/uploads/') - posts_before ))" 2 "uploads (model layer + config)"
assert_eq "$(sk_inspect "docker://$REG_ADDR/scoring:0.0.1-amd64" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["Labels"]["com.edgeship.model.sha256"])')" \
  "$(sha256sum "$WORK/retrained.onnx" | cut -d' ' -f1)" "model label after the retrain"

step "an unchanged model is not read again: its sha256 comes from the digest memo (docs/build.md)"
sleep 2.1   # the memo trusts only a file unchanged for 2 s (racily-clean rule)
args=(build scoring --solution "$WORK/pm" --platform amd64 --base "$REG_ADDR/runtime/busybox:1" --model "$WORK/retrained.onnx" --push --plain-http --json)
expect_exit 0 "$ES" "${args[@]}" -v   # hashes the file (memo: seen, no digest yet) and remembers it
grep -q 'from the digest memo' "$LAST_ERR" && fail "digest memo used for a file changed 2 s before it was remembered"
expect_exit 0 "$ES" "${args[@]}" -v
grep -q 'model sha256 from the digest memo' "$LAST_ERR" || { cat "$LAST_ERR" >&2; fail "digest memo not used for an unchanged model"; }
assert_eq "$(jget "$LAST_OUT" 'd["images"][0]["model"]["sha256"]')" "$(sha256sum "$WORK/retrained.onnx" | cut -d' ' -f1)" "model sha256 from the memo"
assert_eq "$(jget "$LAST_OUT" 'd["images"][0]["digest"]')" "$(jget "$WORK/push3.json" 'd["images"][0]["digest"]')" "same image as the build that read the model"
assert_eq "$(jget "$LAST_OUT" 'd["images"][0]["bytes_uploaded"]')" 0 "bytes uploaded for an unchanged model"
printf 'again' >> "$WORK/retrained.onnx"   # changed: the memo no longer applies
expect_exit 0 "$ES" "${args[@]}" -v
grep -q 'from the digest memo' "$LAST_ERR" && fail "digest memo used for a changed model"
assert_eq "$(jget "$LAST_OUT" 'd["images"][0]["model"]["sha256"]')" "$(sha256sum "$WORK/retrained.onnx" | cut -d' ' -f1)" "model sha256 after a change"

step "export: a docker-archive for an air-gapped gateway"
unset CONTAINER_REGISTRY_SERVER
expect_exit 0 "$ES" export scoring --solution "$WORK/pm" --archive "$WORK/scoring.tar" --platform amd64 --json
sk_inspect "docker-archive:$WORK/scoring.tar" > "$WORK/archive.json"
assert_eq "$(jget "$WORK/archive.json" 'd["Labels"]["com.edgeship.model.sha256"]')" "$model_sha" "archive model label"
assert_eq "$(jget "$WORK/archive.json" 'len(d["Layers"])')" 4 "archive layers (base, deps, model, app)"
tar -xOf "$WORK/scoring.tar" manifest.json > "$WORK/archive-manifest.json"
assert_eq "$(jget "$WORK/archive-manifest.json" 'd[0]["RepoTags"]')" '["localhost:5000/scoring:0.0.1-amd64"]' "RepoTags"
members=$(tar -tf "$WORK/scoring.tar" | sort | tr '\n' ' ')
assert_match "$members" '^([0-9a-f]{64}\.json |[0-9a-f]{64}\.tar ){5}manifest\.json $' "archive members"
expect_exit 2 --err "holds one image" "$ES" build --solution "$WORK/pm" --archive "$WORK/two.tar"
assert_file_absent "$WORK/two.tar" "archive after a refused build"
step "ok"
