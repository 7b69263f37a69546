#!/usr/bin/env bash
# Dependencies-layer benchmark (issue 13, "Performance"), node-onnxruntime, side by side in one run:
#
#   bench/deps/run.sh [--runs R] [--workdir DIR] [--no-push]
#
# The solution is `edgeship init S --model examples/predictive-maintenance/model.onnx --runtime
# node-onnxruntime --platforms amd64,arm64v8` (its package.json + package-lock.json, as init writes them);
# the bases are tests/registry/make-base-image.sh layouts tagged amd64 and arm64 (`--base oci:BASE:TAG`).
#
#   (1) npm:   `edgeship build --platform amd64 --oci-layout` with an EMPTY deps cache (XDG_CACHE_HOME fresh
#              per run) versus the peer: the same `npm ci` command edgeship runs (npm ci --omit=dev
#              --ignore-scripts --no-audit --no-fund --os=linux --cpu=x64 --loglevel=error) alone, in a fresh
#              directory holding the same package.json and package-lock.json. Both use the same npm cache
#              (the user's ~/.npm, warmed by an untimed install first). Alternating order, R runs, median.
#              Printed: total ÷ npm ci (the whole build: base + deps + model + app + layout), and the deps
#              share ÷ npm ci, where the deps share = fresh-cache build − the same build with the deps layer
#              cached (so the base/model/app/layout part is subtracted). Target ≤ 1.2×.
#              Where the time goes: edgeship's npm is a timing wrapper (one sh + two `date` forks) that
#              records when the npm child starts and ends, so each build splits into before npm / npm /
#              after npm (prune + tar + gzip of node_modules + the other layers + removing the scratch
#              tree). Once, on the peer's node_modules: the prune replayed with rm -rf, GNU tar | igzip -1
#              of the pruned tree and rm -rf of it, for reference.
#   (2) model-only change: build --push --plain-http --json into a local registry (Debian's
#              docker-registry on 127.0.0.1, tests/registry/lib.sh) through tests/registry/fault-proxy.py,
#              then a new model file (same ONNX plus a doc_string) and build --push --json again:
#              deps layer rebuilt (−v says "cached", same digest) and deps-layer bytes uploaded (request
#              bodies to the deps digest, counted by the proxy; --json bytes_uploaded printed beside). Target 0.
#   (3) arm64v8 on amd64 (no QEMU: npm --cpu=arm64, nothing executed): fresh-cache build --platform
#              arm64v8 versus --platform amd64 (alternating with (1)). Target within 10 %.
#
# Times: wall clock of the whole command via $EPOCHREALTIME, median [min] over R runs (default 3). Nothing
# here asserts anything about time; the script fails only when a command fails or (2)'s layers are not as
# expected. EDGESHIP_NPM set (e.g. tests/tools/fake-deps/npm for the ctest smoke) replaces npm for both
# sides. Environment: EDGESHIP_EXE (default: the newest build*/cli/edgeship in the tree), REGISTRY_LIB.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
runs=3 workdir="" do_push=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --no-push) do_push=0; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "bench_deps: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench_deps: --runs must be a positive integer" >&2; exit 2; }
if [ -z "${EDGESHIP_EXE:-}" ]; then
  EDGESHIP_EXE=$(ls -t "$ROOT"/build*/cli/edgeship 2>/dev/null | head -1 || true)
fi
[ -x "${EDGESHIP_EXE:-}" ] || { echo "bench_deps: no edgeship binary (set EDGESHIP_EXE)" >&2; exit 1; }
EDGESHIP_EXE=$(cd "$(dirname "$EDGESHIP_EXE")" && pwd)/$(basename "$EDGESHIP_EXE")

# The npm both sides use, resolved before lib.sh moves HOME: the user's npm cache stays the one in use.
REAL_NPM=${EDGESHIP_NPM:-npm}
case $REAL_NPM in /*) ;; */*) REAL_NPM=$(cd "$(dirname "$REAL_NPM")" && pwd)/$(basename "$REAL_NPM") ;;
  *) REAL_NPM=$(command -v "$REAL_NPM") || { echo "bench_deps: npm not found" >&2; exit 1; } ;; esac
export npm_config_cache=${npm_config_cache:-$HOME/.npm}
unset EDGESHIP_NPM

if [ -n "$workdir" ]; then
  mkdir -p "$workdir"; export REGISTRY_TEST_DIR="$(cd "$workdir" && pwd)/run"
fi
# shellcheck source=../../tests/registry/lib.sh
source "${REGISTRY_LIB:-$ROOT/tests/registry/lib.sh}"
E=$EDGESHIP_EXE

# --- helpers (as bench/registry/bench_push.sh) ------------------------------------------------------------
declare -A TIMES
add() { TIMES[$1]="${TIMES[$1]:-} $2"; }
elapsed() { "$PY" -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
median() { "$PY" -c "import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print('%.2f [%.2f]' % (statistics.median(v), min(v)) if v else 'n/a')" $1; }
med() { "$PY" -c "import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(statistics.median(v) if v else '')" $1; }
ratio() { if [ -n "$1" ] && [ -n "$2" ]; then "$PY" -c "import sys; print('%.2f' % (float(sys.argv[1]) / float(sys.argv[2])) if float(sys.argv[2]) > 0 else 'n/a')" "$1" "$2"; else echo n/a; fi; }
# timed NAME CMD…: stdout → $WORK/NAME.out, stderr → $WORK/NAME.err; appends the seconds to NAME.
timed() {
  local name=$1; shift
  local t0 t1
  t0=$EPOCHREALTIME
  if ! "$@" > "$WORK/$name.out" 2> "$WORK/$name.err"; then
    echo "bench_deps: $name failed: $*" >&2; tail -20 "$WORK/$name.err" >&2; exit 1
  fi
  t1=$EPOCHREALTIME
  LAST_T0=$t0 LAST_T1=$t1
  add "$name" "$(elapsed "$t0" "$t1")"
}

# npm timing wrapper: edgeship runs it as its npm; it records "start end" of each install.
NPM_TIMES="$WORK/npm-times"; : > "$NPM_TIMES"
cat > "$WORK/npm-timed" <<EOF
#!/bin/sh
if [ "\$1" = --version ]; then exec "$REAL_NPM" "\$@"; fi
t0=\$(date +%s.%N)
"$REAL_NPM" "\$@"; rc=\$?
echo "\$t0 \$(date +%s.%N)" >> "$NPM_TIMES"
exit \$rc
EOF
chmod +x "$WORK/npm-timed"

# --- inputs ------------------------------------------------------------------------------------------------
step "edgeship: $E; npm: $REAL_NPM ($("$REAL_NPM" --version)); npm cache: $npm_config_cache; $runs run(s)"
SOL="$WORK/sol"
"$E" -q init "$SOL" --model "$ROOT/examples/predictive-maintenance/model.onnx" --runtime node-onnxruntime \
  --platforms amd64,arm64v8 --registry 127.0.0.1:5000 > "$WORK/init.out" 2> "$WORK/init.err" ||
  { cat "$WORK/init.err" >&2; fail "edgeship init"; }
MOD="$SOL/modules/scoring"
[ -s "$MOD/package-lock.json" ] || fail "init wrote no package-lock.json"
make_base "$WORK/base" amd64 amd64 > /dev/null
make_base "$WORK/base" arm64 arm64 > /dev/null
declare -A BASE=([amd64]="oci:$WORK/base:amd64" [arm64v8]="oci:$WORK/base:arm64")
declare -A CPU=([amd64]=x64 [arm64v8]=arm64)

# es_build NAME PLATFORM CACHE_DIR: timed `edgeship build` into a fresh layout with the given deps cache;
# records the npm child's span (before / npm / after) when npm ran.
es_build() {
  local name=$1 plat=$2 cache=$3 n0
  rm -rf "$WORK/layout-$name"
  n0=$(wc -l < "$NPM_TIMES" 2>/dev/null || echo 0)
  timed "$name" env XDG_CACHE_HOME="$cache" EDGESHIP_NPM="$WORK/npm-timed" "$E" -v build --solution "$SOL" \
    --platform "$plat" --base "${BASE[$plat]}" --oci-layout "$WORK/layout-$name" --json
  grep -E "dependencies layer sha256" "$WORK/$name.err" | tail -1 > "$WORK/$name.depsline"
  if [ "$(wc -l < "$NPM_TIMES" 2>/dev/null || echo 0)" -gt "$n0" ]; then
    read -r a b < <(tail -1 "$NPM_TIMES")
    add "$name.before" "$(elapsed "$LAST_T0" "$a")"
    add "$name.npm" "$(elapsed "$a" "$b")"
    add "$name.after" "$(elapsed "$b" "$LAST_T1")"
  fi
  rm -rf "$WORK/layout-$name"
}
# peer_npm NAME PLATFORM: the same npm ci edgeship runs, alone, in a fresh directory
peer_npm() {
  local name=$1 plat=$2 d="$WORK/peer"
  rm -rf "$d"; mkdir -p "$d"; cp "$MOD/package.json" "$MOD/package-lock.json" "$d/"
  timed "$name" env -C "$d" npm_config_update_notifier=false "$REAL_NPM" ci --omit=dev --ignore-scripts \
    --no-audit --no-fund --os=linux --cpu="${CPU[$plat]}" --loglevel=error
}

# Warm npm's cache for both platforms' packages (untimed), and check edgeship runs the command we time.
step "warming npm's cache (untimed)"
peer_npm warm amd64; peer_npm warm arm64v8
rm -rf "$WORK/c-check"; es_build check amd64 "$WORK/c-check"
grep -q "ci --omit=dev --ignore-scripts --no-audit --no-fund --os=linux --cpu=x64 --loglevel=error" "$WORK/check.err" ||
  step "note: edgeship's npm command line differs from the peer's: $(grep -o 'running .*' "$WORK/check.err" | head -1)"

for run in $(seq 1 "$runs"); do
  step "run $run/$runs"
  c_amd="$WORK/cache-amd-$run" c_arm="$WORK/cache-arm-$run"
  rm -rf "$c_amd" "$c_arm"
  sync
  if [ $((run % 2)) = 1 ]; then
    es_build es_amd64 amd64 "$c_amd"; peer_npm npm_amd64 amd64
    es_build es_arm64 arm64v8 "$c_arm"; peer_npm npm_arm64 arm64v8
  else
    peer_npm npm_arm64 arm64v8; es_build es_arm64 arm64v8 "$c_arm"
    peer_npm npm_amd64 amd64; es_build es_amd64 amd64 "$c_amd"
  fi
  # the same builds with the deps layer cached: the base/model/app/layout part
  es_build es_amd64_cached amd64 "$c_amd"
  es_build es_arm64_cached arm64v8 "$c_arm"
  grep -q cached "$WORK/es_amd64_cached.depsline" || fail "second amd64 build did not use the cached deps layer"
  # per-run ratios (each build against the npm ci run next to it): less sensitive to a shared machine's
  # load drifting between runs than the ratio of the medians
  last() { echo "${TIMES[$1]##* }"; }
  add pair_amd "$(ratio "$(last es_amd64)" "$(last npm_amd64)")"
  add pair_arm "$(ratio "$(last es_arm64)" "$(last es_amd64)")"
  step "run $run: build $(last es_amd64) s, npm ci $(last npm_amd64) s; arm64v8 build $(last es_arm64) s, npm ci --cpu=arm64 $(last npm_arm64) s"
done
amd_line=$(sed 's/^.*dependencies layer //' "$WORK/es_amd64.depsline")
arm_line=$(sed 's/^.*dependencies layer //' "$WORK/es_arm64.depsline")

# --- profile, once, on the peer's last amd64 install (replayed steps, for reference) ---------------------
prof=""
if [ -d "$WORK/peer/node_modules" ]; then
  peer_npm npm_prof amd64
  nm="$WORK/peer/node_modules"
  sz_all=$(du -sm "$nm" | cut -f1)
  t0=$EPOCHREALTIME
  for d in "$nm"/onnxruntime-node/bin/napi-v*/ "$nm"/fake/bin/napi-v*/; do
    [ -d "$d" ] || continue
    for o in "$d"*/; do
      [ -d "$o" ] || continue
      if [ "$(basename "$o")" != linux ]; then rm -rf "$o"; continue; fi
      for c in "$o"*/; do [ -d "$c" ] && [ "$(basename "$c")" != x64 ] && rm -rf "$c"; done
    done
  done
  t1=$EPOCHREALTIME; t_prune=$(elapsed "$t0" "$t1")
  sz_pruned=$(du -sm "$nm" | cut -f1); files=$(find "$nm" -type f | wc -l)
  t0=$EPOCHREALTIME
  tar --sort=name -C "$WORK/peer" -cf - node_modules | igzip -1 -c > "$WORK/nm.tgz" 2>/dev/null ||
    tar --sort=name -C "$WORK/peer" -cf - node_modules | gzip -1 -c > "$WORK/nm.tgz"
  t1=$EPOCHREALTIME; t_tgz=$(elapsed "$t0" "$t1")
  sz_tgz=$(( $(stat -c %s "$WORK/nm.tgz") / 1048576 ))
  t0=$EPOCHREALTIME; rm -rf "$WORK/peer" "$WORK/nm.tgz"; t1=$EPOCHREALTIME; t_rm=$(elapsed "$t0" "$t1")
  prof="node_modules ${sz_all} MiB as npm installs it, ${sz_pruned} MiB / $files files after the prune
      replayed on the peer's tree: prune (rm -rf of other platforms) ${t_prune} s, tar | igzip -1 ${t_tgz} s (${sz_tgz} MiB), rm -rf of the tree ${t_rm} s"
fi

# --- (2) model-only change with --push ---------------------------------------------------------------------
push_line="skipped (--no-push)"
if [ "$do_push" = 1 ]; then
  step "model-only change: build --push, new model, build --push again (through the counting proxy)"
  reg_start plain
  proxy_start "http://$REG_ADDR"
  sed -i "s|^CONTAINER_REGISTRY_SERVER=.*|CONTAINER_REGISTRY_SERVER=$PROXY_ADDR|" "$SOL/.env"
  c_push="$WORK/cache-push"; rm -rf "$c_push"
  push() {  # NAME
    timed "$1" env XDG_CACHE_HOME="$c_push" EDGESHIP_NPM="$WORK/npm-timed" "$E" -v build --solution "$SOL" \
      --platform amd64 --base "${BASE[amd64]}" --push --plain-http --json
  }
  push push1
  "$PY" - "$ROOT/examples/predictive-maintenance/model.onnx" "$MOD/model/model.onnx" <<'EOF'
import sys
d = open(sys.argv[1], "rb").read()
s = b"bench/deps: retrained"          # ModelProto.doc_string (field 6) appended: another valid model
open(sys.argv[2], "wb").write(d + b"\x32" + bytes([len(s)]) + s)
EOF
  cp "$PROXY_LOG" "$WORK/push1.proxy"
  p0=$(wc -l < "$PROXY_LOG"); r0=$(wc -l < "$REG_LOG")
  push push2
  tail -n +$((p0 + 1)) "$PROXY_LOG" > "$WORK/push2.proxy"
  tail -n +$((r0 + 1)) "$REG_LOG" > "$WORK/push2.reglog"
  deps_digest=$("$PY" - "$WORK/push1.out" "$WORK/push2.out" <<'EOF'
import json, sys
a = json.load(open(sys.argv[1]))["images"][0]; b = json.load(open(sys.argv[2]))["images"][0]
role = lambda img, r: [l for l in img["layers"] if l["role"] == r]
assert role(a, "model")[0]["digest"] != role(b, "model")[0]["digest"], "the model layer did not change"
assert role(a, "deps") and role(a, "deps")[0]["digest"] == role(b, "deps")[0]["digest"], "the deps layer changed"
print(role(b, "deps")[0]["digest"], role(b, "deps")[0]["size"])
EOF
) || fail "unexpected layers after the model change"
  read -r deps_digest deps_size <<< "$deps_digest"
  depsline2=$(grep -E "dependencies layer sha256" "$WORK/push2.err" | tail -1 | sed 's/^.*dependencies layer //')
  rebuilt=$([[ "$depsline2" == *cached* ]] && echo 0 || echo "$deps_size")
  npm_runs2=$(grep -c "running .* ci " "$WORK/push2.err" || true)
  # Request bodies sent for the deps blob: the proxy logs one line per exchange (METHOD PATH -> STATUS in=N);
  # an upload session (POST, PATCH…, PUT ?digest=) is tied to its digest by the UUID in its path.
  count_blob() {  # PROXY_LINES DIGEST → "bytes sessions head_status"
    "$PY" - "$1" "$2" <<'PYEOF'
import re, sys
lines = open(sys.argv[1]).read().splitlines(); dg = sys.argv[2]
sess, by_uuid, head = {}, {}, []
for ln in lines:
    f = ln.split()
    if len(f) < 6 or f[2] not in ("POST", "PATCH", "PUT", "HEAD"): continue
    n = int(re.search(r"in=(\d+)", ln).group(1)) if "in=" in ln else 0
    m = re.search(r"/blobs/uploads/([0-9a-f-]{36})", f[3])
    if m: by_uuid[m.group(1)] = by_uuid.get(m.group(1), 0) + n
    d = re.search(r"digest=(sha256(?::|%3A)[0-9a-f]{64})", f[3])
    if d and d.group(1).replace("%3A", ":") == dg:
        sess[m.group(1) if m else ln] = n if not m else None
    if f[2] == "HEAD" and f[3].endswith("/blobs/" + dg): head.append(f[5])
total = sum(by_uuid[k] if v is None else v for k, v in sess.items())
print(total, len(sess), ",".join(head) or "-")
PYEOF
  }
  read -r deps_up deps_sessions deps_head <<< "$(count_blob "$WORK/push2.proxy" "$deps_digest")"
  read -r deps_up1 deps_sessions1 _ <<< "$(count_blob "$WORK/push1.proxy" "$deps_digest")"
  wire=$(awk '$3 ~ /^(PATCH|PUT|POST)$/ { for (i=1;i<=NF;i++) if ($i ~ /^in=/) { sub("in=","",$i); s+=$i } } END { print s+0 }' "$WORK/push2.proxy")
  patches=$(grep -c '"PATCH ' "$WORK/push2.reglog" || true)
  put_deps=$(grep -c "\"PUT [^ ]*digest=$deps_digest" "$WORK/push2.reglog" || true)
  reported=$("$PY" -c '
import json,sys
d=json.load(open(sys.argv[1])); out=[]
def walk(v, path):
    if isinstance(v, dict):
        for k, x in v.items():
            if k == "bytes_uploaded": out.append("%s=%s" % (path or "total", x))
            else: walk(x, path + ("." if path else "") + k)
    elif isinstance(v, list):
        for i, x in enumerate(v): walk(x, "%s[%d]" % (path, i))
walk(d, ""); print(", ".join(out) or "none")' "$WORK/push2.out")
  push_line="deps layer $deps_digest ($deps_size B): rebuilt $rebuilt B (-v: ${depsline2}; npm runs: $npm_runs2), uploaded $deps_up B ($deps_sessions upload session(s); HEAD of it: $deps_head)
      (first push, for comparison: deps layer uploaded $deps_up1 B in $deps_sessions1 session(s))
      whole rebuild push: $wire B of request bodies on the wire; registry access log: $patches PATCH, $put_deps PUT naming the deps digest
      --json bytes_uploaded: $reported
      times: first build --push $(median "${TIMES[push1]}") s, after the model change $(median "${TIMES[push2]}") s"
fi

# --- report ------------------------------------------------------------------------------------------------
m() { med "${TIMES[$1]:-}"; }
sub() { "$PY" -c "import sys; print('%.3f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$1" "$2"; }
es_amd=$(m es_amd64) es_arm=$(m es_arm64) npm_amd=$(m npm_amd64) npm_arm=$(m npm_arm64)
cached_amd=$(m es_amd64_cached) cached_arm=$(m es_arm64_cached)
share_amd=$(sub "$es_amd" "$cached_amd") share_arm=$(sub "$es_arm" "$cached_arm")
r1=$(ratio "$es_amd" "$npm_amd") r1s=$(ratio "$share_amd" "$npm_amd")
r3=$(ratio "$es_arm" "$es_amd") r3s=$(ratio "$share_arm" "$share_amd") r3n=$(ratio "$npm_arm" "$npm_amd")
verdict() { "$PY" -c "import sys; print('met' if sys.argv[1] != 'n/a' and float(sys.argv[1]) <= float(sys.argv[2]) else 'NOT met')" "$1" "$2"; }
verdict3() { "$PY" -c "import sys; print('met' if sys.argv[1] != 'n/a' and abs(float(sys.argv[1]) - 1) <= 0.10 else 'NOT met')" "$1"; }
cat <<EOF

edgeship dependencies-layer benchmark — node-onnxruntime ($(cd "$MOD" && "$PY" -c 'import json; print(", ".join("%s %s" % kv for kv in json.load(open("package.json"))["dependencies"].items()))')), ${runs} run(s), median [min] seconds
  machine: $(nproc) cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); npm $("$REAL_NPM" --version), cache warm for both sides
  (1) amd64 deps layer vs npm ci alone (same package.json/lockfile, same flags, same npm cache)
      edgeship build, empty deps cache    $(median "${TIMES[es_amd64]:-}")   ${amd_line}
        split by the npm child          before npm $(median "${TIMES[es_amd64.before]:-}")   npm ci $(median "${TIMES[es_amd64.npm]:-}")   after npm (prune, tar+gzip, other layers, cleanup) $(median "${TIMES[es_amd64.after]:-}")
      edgeship build, deps layer cached   $(median "${TIMES[es_amd64_cached]:-}")   (base + model + app + layout: subtracted below)
      npm ci alone                        $(median "${TIMES[npm_amd64]:-}")
      ratio total build ÷ npm ci          ${r1}×   (target ≤ 1.2: $(verdict "$r1" 1.2))
      ratio deps share ÷ npm ci           ${r1s}×   (deps share = fresh − cached = ${share_amd} s; target ≤ 1.2: $(verdict "$r1s" 1.2))
      per-run ratios total ÷ npm ci       $(echo ${TIMES[pair_amd]:-})   median $(median "${TIMES[pair_amd]:-}")×
      profile                             ${prof:-n/a}
  (2) model-only change, build --push     ${push_line}
  (3) arm64v8 vs amd64, empty deps cache  arm64v8 $(median "${TIMES[es_arm64]:-}")   amd64 $(median "${TIMES[es_amd64]:-}")   ${arm_line}
        split by the npm child          before npm $(median "${TIMES[es_arm64.before]:-}")   npm ci $(median "${TIMES[es_arm64.npm]:-}")   after npm $(median "${TIMES[es_arm64.after]:-}")
      deps layer cached                   arm64v8 $(median "${TIMES[es_arm64_cached]:-}")   amd64 $(median "${TIMES[es_amd64_cached]:-}")
      npm ci alone --cpu=arm64            $(median "${TIMES[npm_arm64]:-}")   (arm64 ÷ x64 for npm alone: ${r3n}×)
      ratio arm64v8 ÷ amd64 (total)       ${r3}×   (target within 10 %: $(verdict3 "$r3"))
      per-run ratios arm64v8 ÷ amd64      $(echo ${TIMES[pair_arm]:-})   median $(median "${TIMES[pair_arm]:-}")×
      ratio arm64v8 ÷ amd64 (deps share)  ${r3s}×   (deps share arm64v8 ${share_arm} s)
EOF
