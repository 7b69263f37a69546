#!/usr/bin/env bash
# Push benchmark (issue 6; docs/design/registry.md §9.5): edgeship against skopeo, side by side in one run,
# against local plain-HTTP registries (Debian's docker-registry on 127.0.0.1, tests/registry fixtures).
#
#   bench/registry/bench_push.sh [--size-mib N] [--runs R] [--workdir DIR]
#
#   (a) cold:  `edgeship build --solution S --platform amd64 --base oci:BASE:base --push --plain-http --json`
#              of a module whose model layer is N MiB (default 256) of float32 weights N(0, 0.02), into a
#              fresh registry, with a fresh HOME/XDG cache; versus `skopeo copy` of the same image from an
#              OCI layout holding its app and model layers uncompressed (skopeo compresses on the fly) into
#              another fresh registry, its blob-info cache deleted first. Target: edgeship ≤ 0.6× skopeo.
#              Printed beside it, the registry's floor: the model layer's compressed bytes alone, sent by curl
#              as one streamed PATCH into a fresh registry. The registry hashes and stores every byte of a
#              blob on one goroutine, so no client that uploads the layer can beat that time; floor ÷ skopeo
#              is the best ratio any client can show on this machine.
#   (b) warm:  everything already in the registry: `edgeship push oci:LAYOUT:TAG HOST/REPO:TAG --plain-http
#              --json` versus skopeo's re-push of its layout (blob-info cache kept, as a user would have
#              it), WARM_REPEAT (default 10) times per run for each tool, alternating. Target ≤ 0.5×.
#              `edgeship build --push` again is printed too, for information: the bench's model
#              file is copied just before the cold run, so its digest memo is not trusted yet and the
#              model is read and hashed again (an older model file is not read at all: docs/build.md).
#   (c) delta: only the model changes (same size, another seed); `edgeship build --push` through
#              tests/registry/fault-proxy.py (no faults: it counts request body bytes). Target: bytes
#              uploaded ≤ the new model layer + 64 KiB. edgeship's --json bytes_uploaded is printed beside.
#
# Times are medians (min in brackets) over R runs (default 3; warm: R × WARM_REPEAT samples), wall clock of
# the whole command, taken with $EPOCHREALTIME (no fork inside the timed span). The
# machine is shared: run it when it is otherwise idle. Nothing here asserts anything about time; the
# script fails only when a push fails or a pushed image does not read back with skopeo.
# Without `edgeship build`/`push` (not built yet) the corresponding rows say "n/a" and skopeo is measured.
# Environment: EDGESHIP_EXE (default: the newest build*/cli/edgeship in the tree), REGISTRY_LIB.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
size=256 runs=3 workdir="" WARM_REPEAT=${WARM_REPEAT:-10}
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) size=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    -h|--help) sed -n '2,31p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "bench_push: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ "$size" =~ ^[1-9][0-9]*$ ]] || { echo "bench_push: --size-mib must be a positive integer" >&2; exit 2; }
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench_push: --runs must be a positive integer" >&2; exit 2; }
workdir=${workdir:-$ROOT/out/bench-registry}
mkdir -p "$workdir/cache"
CACHE=$(cd "$workdir/cache" && pwd)
if [ -z "${EDGESHIP_EXE:-}" ]; then
  EDGESHIP_EXE=$(ls -t "$ROOT"/build*/cli/edgeship 2>/dev/null | head -1 || true)
fi
export REGISTRY_TEST_DIR="$(cd "$workdir" && pwd)/run"
# shellcheck source=../../tests/registry/lib.sh
source "${REGISTRY_LIB:-$ROOT/tests/registry/lib.sh}"
LT="$HERE/layout_tool.py"
BLOBCACHE=/var/lib/containers/cache/blob-info-cache-v1.boltdb   # skopeo's, for root (§12 notes)

elapsed() { "$PY" -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
# timed NAME CMD…: runs CMD (stdout → $WORK/NAME.out, stderr → $WORK/NAME.err), appends the seconds to
# the list NAME; fails the bench when CMD fails.
declare -A TIMES
timed() {
  local name=$1; shift
  local t0 t1
  # $EPOCHREALTIME (bash 5) instead of $(date …): no fork and exec inside the timed span, which added
  # ~2 ms to every sample and pulled the ratios of the millisecond-scale warm runs towards 1.
  t0=$EPOCHREALTIME
  if ! "$@" > "$WORK/$name.out" 2> "$WORK/$name.err"; then
    echo "bench_push: $name failed: $*" >&2; tail -20 "$WORK/$name.err" >&2; exit 1
  fi
  t1=$EPOCHREALTIME
  TIMES[$name]="${TIMES[$name]:-} $(elapsed "$t0" "$t1")"
}
median() { "$PY" -c "import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print('%.3f [%.3f]' % (statistics.median(v), min(v)) if v else 'n/a')" $1; }
med() { "$PY" -c "import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(statistics.median(v) if v else '')" $1; }
ratio() { if [ -n "$1" ] && [ -n "$2" ]; then "$PY" -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" "$1" "$2"; else echo n/a; fi; }

have() { [ -n "${EDGESHIP_EXE:-}" ] && [ -x "$EDGESHIP_EXE" ] && "$EDGESHIP_EXE" "$1" --help > /dev/null 2>&1; }
HAVE_BUILD=0 HAVE_PUSH=0
have build && HAVE_BUILD=1
have push && HAVE_PUSH=1
step "edgeship: ${EDGESHIP_EXE:-none} (build: $HAVE_BUILD, push: $HAVE_PUSH); model layer ${size} MiB; $runs run(s)"

# --- inputs (cached across runs of the bench) ------------------------------------------------------------
for seed in 1 2; do
  m="$CACHE/model-${size}m-s$seed.onnx"
  if [ ! -s "$m" ]; then step "generating $m"; "$PY" "$LT" make-model "$m" "$size" "$seed"; fi
done
MODEL1="$CACHE/model-${size}m-s1.onnx" MODEL2="$CACHE/model-${size}m-s2.onnx"
make_base "$WORK/base" base amd64 > /dev/null
base_layers=$("$PY" "$LT" manifest-layers "$WORK/base" base | wc -l)

# The skopeo input: the image edgeship builds (same files, same config), layers after the base stored
# uncompressed; without `edgeship build`, the base plus one uncompressed tar layer holding the model.
SOL_TEMPLATE="$WORK/solution"
if [ "$HAVE_BUILD" = 1 ]; then
  "$EDGESHIP_EXE" init "$SOL_TEMPLATE" --module scoring --model "$MODEL1" --platforms amd64 \
    --registry 127.0.0.1:5000 > "$WORK/init.out" 2> "$WORK/init.err" || { cat "$WORK/init.err" >&2; fail "edgeship init"; }
  "$EDGESHIP_EXE" build --solution "$SOL_TEMPLATE" --platform amd64 --base "oci:$WORK/base:base" \
    --oci-layout "$WORK/es-layout" --json > "$WORK/es-layout.json" 2> "$WORK/es-layout.err" ||
    { cat "$WORK/es-layout.err" >&2; fail "edgeship build --oci-layout"; }
  es_tag=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"])' "$WORK/es-layout")
  "$PY" "$LT" uncompress "$WORK/es-layout" "$es_tag" "$WORK/sk-layout" img --keep-first "$base_layers" > /dev/null
  es_model_digest=$(jget "$WORK/es-layout.json" '[l["digest"] for l in d["images"][0]["layers"] if l["role"] == "model"][0]')
else
  "$PY" "$LT" append-tar "$WORK/base" base "$WORK/sk-layout" img "$MODEL1=app/model/model.onnx" > /dev/null
fi
"$PY" "$LT" manifest-layers "$WORK/sk-layout" img > "$WORK/sk-layers.txt"
step "skopeo input: $(awk '{printf "%s %s B; ", $3, $2}' "$WORK/sk-layers.txt")"

# set_registry SOL ADDR: point the solution's .env at ADDR
set_registry() { sed -i "s|^CONTAINER_REGISTRY_SERVER=.*|CONTAINER_REGISTRY_SERVER=$2|" "$1/.env"; }
es_build_push() {  # SOL HOMEDIR
  HOME=$2 XDG_CACHE_HOME=$2/.cache DOCKER_CONFIG=$2/.docker "$EDGESHIP_EXE" build --solution "$1" \
    --platform amd64 --base "oci:$WORK/base:base" --push --plain-http --json
}
sk_push() { sk copy -q --dest-tls-verify=false "oci:$WORK/sk-layout:img" "docker://$1"; }
# floor_patch ADDR LAYOUT DIGEST: POST an upload, one streamed PATCH of the blob, PUT ?digest= (curl)
floor_patch() {
  local loc blob="$2/blobs/sha256/${3#sha256:}"
  loc=$(curl -sf -D - -o /dev/null -X POST "http://$1/v2/bench/floor/blobs/uploads/" | tr -d '\r' |
    awk 'tolower($1) == "location:" { print $2 }')
  case $loc in http*) ;; *) loc="http://$1$loc" ;; esac
  loc=$(curl -sf -D - -o /dev/null -X PATCH -H 'Content-Type: application/octet-stream' -T "$blob" "$loc" |
    tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
  case $loc in http*) ;; *) loc="http://$1$loc" ;; esac
  curl -sf -o /dev/null -X PUT "$loc&digest=$3"
}

for run in $(seq 1 "$runs"); do
  step "run $run/$runs: cold"
  # edgeship: fresh registry, fresh copy of the solution, fresh HOME (no cache of any kind)
  if [ "$HAVE_BUILD" = 1 ]; then
    reg_start plain; ES_ADDR=$REG_ADDR ES_DIR=$REG_DIR ES_LOG=$REG_LOG
    rm -rf "$WORK/sol" "$WORK/home-es"; cp -a "$SOL_TEMPLATE" "$WORK/sol"; mkdir -p "$WORK/home-es"
    set_registry "$WORK/sol" "$ES_ADDR"
    sync
    timed es_cold es_build_push "$WORK/sol" "$WORK/home-es"
    cp "$WORK/es_cold.out" "$WORK/es_cold.json"
  fi
  # skopeo: fresh registry, blob-info cache deleted
  reg_start plain; SK_ADDR=$REG_ADDR SK_DIR=$REG_DIR SK_LOG=$REG_LOG
  rm -f "$BLOBCACHE"; sync
  timed sk_cold sk_push "$SK_ADDR/bench/model:1"
  skopeo_digest "docker://$SK_ADDR/bench/model:1" > /dev/null || fail "skopeo cannot read back its push"
  step "run $run/$runs: warm (everything present)"
  ES_WARM_REF=""
  if [ "$HAVE_BUILD" = 1 ]; then
    ES_WARM_REF=$(jget "$WORK/es_cold.json" 'd["images"][0]["reference"]')
    assert_eq "$(skopeo_digest "docker://$ES_WARM_REF")" "$(jget "$WORK/es_cold.json" 'd["images"][0]["digest"]')" \
      "manifest digest of edgeship's cold push, read by skopeo"
    [ "$HAVE_PUSH" = 1 ] && es_n0=$(wc -l < "$ES_LOG")
  fi
  n0=$(wc -l < "$SK_LOG")
  # Warm pushes take milliseconds: WARM_REPEAT samples per run for each tool, alternating, so one
  # hiccup of the shared machine does not decide the median.
  for _ in $(seq 1 "$WARM_REPEAT"); do
    timed sk_warm sk_push "$SK_ADDR/bench/model:1"
    if [ "$HAVE_BUILD" = 1 ] && [ "$HAVE_PUSH" = 1 ]; then
      timed es_warm_push "$EDGESHIP_EXE" push "oci:$WORK/es-layout:$es_tag" "$ES_WARM_REF" --plain-http --json
    fi
  done
  SK_WARM_PATCH=$(tail -n +$((n0 + 1)) "$SK_LOG" | grep -c '"PATCH ' || true)
  if [ "$HAVE_BUILD" = 1 ]; then
    if [ "$HAVE_PUSH" = 1 ]; then
      ES_WARM_PATCH=$(tail -n +$((es_n0 + 1)) "$ES_LOG" | grep -c '"PATCH ' || true)
    fi
    timed es_warm_build es_build_push "$WORK/sol" "$WORK/home-es"
  fi
  if [ "$HAVE_BUILD" = 1 ]; then
    # Where edgeship's cold time goes: the local build alone, and a push of the built layout to a
    # fresh registry (same bytes as the cold build+push uploads).
    rm -rf "$WORK/es-layout2" "$WORK/home-es2"; mkdir -p "$WORK/home-es2"
    timed es_build_only env HOME="$WORK/home-es2" XDG_CACHE_HOME="$WORK/home-es2/.cache" "$EDGESHIP_EXE" build \
      --solution "$WORK/sol" --platform amd64 --base "oci:$WORK/base:base" --oci-layout "$WORK/es-layout2" --json
    if [ "$HAVE_PUSH" = 1 ]; then
      reg_start plain; P_DIR=$REG_DIR
      timed es_push_cold "$EDGESHIP_EXE" push "oci:$WORK/es-layout:$es_tag" "$REG_ADDR/bench/model:1" --plain-http --json
      reg_stop "$P_DIR"
    fi
    # The registry's own floor: the model layer's bytes alone (the bulk of every cold push), sent by curl
    # as one streamed PATCH (-T: Content-Length, no chunking) into a fresh registry, then PUT ?digest=.
    # No client that uploads this layer can finish sooner: the registry hashes (Go 1.19's sha256, no SHA-NI)
    # and stores every byte on one goroutine, sharing the 2 cores with the client.
    reg_start plain; F_DIR=$REG_DIR F_ADDR=$REG_ADDR
    timed floor_model_patch floor_patch "$F_ADDR" "$WORK/es-layout" "$es_model_digest"
    reg_stop "$F_DIR"
  fi
  if [ "$run" -lt "$runs" ]; then
    [ "$HAVE_BUILD" = 1 ] && reg_stop "$ES_DIR"
    reg_stop "$SK_DIR"
  fi
done

# --- (c) only the model changes: bytes on the wire, counted by the proxy -------------------------------
delta_line="n/a (edgeship build not available)"
if [ "$HAVE_BUILD" = 1 ]; then
  step "model change: rebuild and push through the counting proxy"
  proxy_start "http://$ES_ADDR"
  set_registry "$WORK/sol" "$PROXY_ADDR"
  cp "$MODEL2" "$WORK/sol/modules/scoring/model/model.onnx"
  timed es_delta es_build_push "$WORK/sol" "$WORK/home-es"
  cp "$WORK/es_delta.out" "$WORK/es_delta.json"
  # The new model layer (role "model" in --json) must be new, every other layer the same as before.
  model_layer=$("$PY" -c '
import json,sys
new=json.load(open(sys.argv[1]))["images"][0]; old=json.load(open(sys.argv[2]))["images"][0]
role=lambda img, r: [l for l in img["layers"] if l["role"] == r]
m_new, m_old = role(new, "model")[0], role(old, "model")[0]
assert m_new["digest"] != m_old["digest"], "the model layer did not change"
others=lambda img: [l["digest"] for l in img["layers"] if l["role"] != "model"]
assert others(new) == others(old), "layers other than the model changed"
print(m_new["size"])' "$WORK/es_delta.json" "$WORK/es_cold.json") || fail "unexpected layers after the model change"
  ref2=$(jget "$WORK/es_delta.json" 'd["images"][0]["reference"]')
  assert_eq "$(skopeo_digest "docker://$ref2")" "$(jget "$WORK/es_delta.json" 'd["images"][0]["digest"]')" \
    "manifest digest after the model change, read by skopeo"
  wire=$(awk '$3 ~ /^(PATCH|PUT|POST)$/ { for (i=1;i<=NF;i++) if ($i ~ /^in=/) { sub("in=","",$i); s+=$i } } END { print s+0 }' "$PROXY_LOG")
  reported=$("$PY" -c '
import json,sys
def walk(v):  # the outermost bytes_uploaded numbers (per image), summed; None when there are none
    if isinstance(v, dict):
        if isinstance(v.get("bytes_uploaded"), int):
            return v["bytes_uploaded"]
        v = list(v.values())
    if isinstance(v, list):
        found = [x for x in (walk(y) for y in v) if x is not None]
        return sum(found) if found else None
    return None
r = walk(json.load(open(sys.argv[1])))
print("?" if r is None else r)' "$WORK/es_delta.json" 2>/dev/null || echo "?")
  over=$((wire - model_layer))
  verdict=$([ "$over" -le 65536 ] && echo "met" || echo "NOT met")
  delta_line="$wire B on the wire (edgeship --json bytes_uploaded: $reported), new model layer $model_layer B, overhead $over B (target ≤ 65536: $verdict)"
fi

# --- report ---------------------------------------------------------------------------------------------
es_cold=$(med "${TIMES[es_cold]:-}") sk_cold=$(med "${TIMES[sk_cold]:-}")
es_warm=$(med "${TIMES[es_warm_push]:-}") sk_warm=$(med "${TIMES[sk_warm]:-}")
rfloor=$(ratio "$(med "${TIMES[floor_model_patch]:-}")" "$sk_cold")
rc=$(ratio "$es_cold" "$sk_cold") rw=$(ratio "$es_warm" "$sk_warm") rwb=$(ratio "$(med "${TIMES[es_warm_build]:-}")" "$sk_warm")
cat <<EOF

edgeship push benchmark — model layer ${size} MiB float32 N(0,0.02), ${runs} run(s), median [min] seconds
  machine: $(nproc) cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)
  (a) cold build+push     edgeship $(median "${TIMES[es_cold]:-}")   skopeo copy $(median "${TIMES[sk_cold]:-}")   ratio ${rc}× (target ≤ 0.6)
      of which            build --oci-layout alone $(median "${TIMES[es_build_only]:-}")   push of that layout to a fresh registry $(median "${TIMES[es_push_cold]:-}")
      registry floor      the model layer alone, one curl PATCH into a fresh registry $(median "${TIMES[floor_model_patch]:-}")   best ratio any client can reach: ${rfloor}×
  (b) warm re-push        edgeship $(median "${TIMES[es_warm_push]:-}")   skopeo copy $(median "${TIMES[sk_warm]:-}")   ratio ${rw}× (target ≤ 0.5)
                          PATCH requests in the last run's warm pushes: edgeship ${ES_WARM_PATCH:-n/a}, skopeo ${SK_WARM_PATCH:-n/a}
      warm build --push   edgeship $(median "${TIMES[es_warm_build]:-}")   (model file copied just before the run: read and hashed again)   ratio ${rwb}×
  (c) model changed       ${delta_line}
EOF
