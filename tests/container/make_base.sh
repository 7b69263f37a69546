#!/bin/bash
# Make a runtime base image for the container tests from Debian packages, without Docker (issue 13 item 4).
#
#   make_base.sh KIND ARCH OUT_OCI_LAYOUT_DIR      KIND: node | python   ARCH: amd64 | arm64
#
# Writes an OCI image layout OUT with one image tagged ARCH and prints its reference (oci:OUT:ARCH) on
# stdout. The image stands in for the runtime's official slim image (templates/runtimes/*/runtime.json):
#   node    Debian bookworm's nodejs + ca-certificates on the Essential set; a `node` user and group
#           with uid/gid 1000 and home /home/node, as the official node image has. Cmd ["node"].
#   python  Debian bookworm's python3.11 + python3-numpy (+ python-is-python3, so `python` runs as in the
#           official image) on the Essential set. No extra user (the runtime's user is numeric). Cmd ["python3"].
# Nothing of ours is installed: no node_modules, no site-packages. Env is PATH only, as Debian's own
# images have (no NODE_VERSION / PYTHON_VERSION).
#
# amd64 is made with `mmdebstrap --variant=essential` (maintainer scripts run: it is the host's
# architecture). arm64 is made on amd64 without emulation: `--variant=extract` unpacks the same packages
# plus the Essential set and runs nothing; the few files maintainer scripts would have made (passwd and
# group from base-passwd, /bin/sh) are written by a hook. It never runs here; its files and its config
# (architecture arm64, variant v8) are what the tests need.
#
# Cached under ${XDG_CACHE_HOME:-$HOME/.cache}/edgeship-tests/bases/<key>, key = sha256 of the cache
# version, KIND, ARCH, suite, mirrors and package list. Built in a temporary directory beside the cache
# entry and renamed into place, under flock, so parallel tests build it once. OUT gets hard links to the
# cached blobs (immutable, content-addressed) and its own index.json.
#
# Environment: EDGESHIP_TEST_CACHE (instead of the cache dir above), DEBIAN_MIRROR (default
# http://deb.debian.org/debian), DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
set -euo pipefail
CACHE_VERSION=2
kind=${1:?usage: make_base.sh node|python amd64|arm64 OUT_OCI_LAYOUT_DIR}
arch=${2:?usage: make_base.sh node|python amd64|arm64 OUT_OCI_LAYOUT_DIR}
out=${3:?usage: make_base.sh node|python amd64|arm64 OUT_OCI_LAYOUT_DIR}
die() { echo "make_base: $*" >&2; exit 1; }

case "$kind" in
node) pkgs="nodejs ca-certificates"; cmd=node ;;
python) pkgs="python3.11 python3-numpy python-is-python3"; cmd=python3 ;;
*) echo "make_base: unknown KIND '$kind' (node | python)" >&2; exit 2 ;;
esac
case "$arch" in amd64|arm64) ;; *) echo "make_base: unknown ARCH '$arch' (amd64 | arm64)" >&2; exit 2 ;; esac
for tool in mmdebstrap umoci flock sha256sum; do
  command -v "$tool" > /dev/null || die "$tool not installed (scripts/deps/container.txt)"
done
[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap --mode=root; the container tests start dockerd)"

suite=bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
sources=("deb $mirror $suite main" "deb $mirror $suite-updates main" "deb $security $suite-security main")
key=$(printf '%s\n' "v$CACHE_VERSION" "$kind" "$arch" "$suite" "${sources[@]}" "$pkgs" | sha256sum | cut -c1-16)
cache=${EDGESHIP_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgeship-tests}/bases
entry="$cache/$kind-$arch-$key"
mkdir -p "$cache"

build() {
  local tmp; tmp=$(mktemp -d "$cache/.build.$kind-$arch.XXXXXX")
  # shellcheck disable=SC2064 # expand now: the trap must remove this build's dir only
  trap "rm -rf '$tmp'" EXIT
  local started=$SECONDS
  local hook_user='' variant
  # The node user of the official image: uid/gid 1000, home /home/node, shell /bin/bash.
  if [ "$kind" = node ]; then
    hook_user='echo "node:x:1000:1000::/home/node:/bin/bash" >> "$1/etc/passwd";
      echo "node:x:1000:" >> "$1/etc/group";
      if [ -f "$1/etc/shadow" ]; then echo "node:*:19000:0:99999:7:::" >> "$1/etc/shadow"; fi;
      mkdir -p "$1/home/node"; chown 1000:1000 "$1/home/node"; chmod 755 "$1/home/node"'
  fi
  local opts=(--mode=root --architectures="$arch" --format=tar --skip=output/dev --skip=output/mknod
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias'
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
)
  local cleanup='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*.log "$1"/var/cache/ldconfig/aux-cache' 
  if [ "$arch" = amd64 ]; then
    variant=essential
    opts+=(--include="${pkgs// /,}" --customize-hook="$cleanup")
  else
    # No emulation: unpack only. Essential packages by apt pattern, resolved for arm64.
    variant=extract
    opts+=(--include="${pkgs// /,},?essential" --skip=check/qemu --extract-hook="$cleanup"
      --extract-hook='[ -e "$1/etc/passwd" ] || cp "$1/usr/share/base-passwd/passwd.master" "$1/etc/passwd";
        [ -e "$1/etc/group" ] || cp "$1/usr/share/base-passwd/group.master" "$1/etc/group";
        [ -e "$1/bin/sh" ] || [ -L "$1/bin/sh" ] || ln -s dash "$1/bin/sh";
        [ -e "$1/usr/bin/python" ] || [ -L "$1/usr/bin/python" ] || ! [ -e "$1/usr/share/doc/python-is-python3" ] || ln -s python3 "$1/usr/bin/python";
        [ -e "$1/usr/bin/python3" ] || [ -L "$1/usr/bin/python3" ] || ! [ -e "$1/usr/bin/python3.11" ] || ln -s python3.11 "$1/usr/bin/python3";
        [ -e "$1/usr/bin/nodejs" ] || [ -L "$1/usr/bin/nodejs" ] || ! [ -e "$1/usr/bin/node" ] || ln -s node "$1/usr/bin/nodejs"')
  fi
  if [ -n "$hook_user" ]; then
    # mmdebstrap runs no customize hooks for --variant=extract: there, the extract hook is the last step.
    if [ "$variant" = extract ]; then opts+=(--extract-hook="$hook_user"); else opts+=(--customize-hook="$hook_user"); fi
  fi
  echo "make_base: building $kind/$arch from Debian $suite ($pkgs; --variant=$variant) into $entry" >&2
  mmdebstrap --quiet --variant="$variant" "${opts[@]}" "$suite" "$tmp/rootfs.tar" "${sources[@]}" \
    || die "mmdebstrap failed for $kind/$arch"
  local layout="$tmp/oci" created
  created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  umoci init --layout "$layout"
  umoci new --image "$layout:$arch"
  umoci raw add-layer --image "$layout:$arch" --history.created "$created" \
    --history.created_by "mmdebstrap --variant=$variant $suite: $pkgs (edgeship test base)" "$tmp/rootfs.tar"
  umoci config --image "$layout:$arch" --created "$created" --no-history --os linux --architecture "$arch" \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.cmd "$cmd" \
    --config.label "org.opencontainers.image.description=edgeship test base: Debian $suite $pkgs"
  [ "$arch" = amd64 ] || /usr/bin/python3 - "$layout" "$arch" <<'PY'
# umoci has no --variant: arm64 images say variant v8 (as the official arm64v8 images do).
import hashlib, json, os, sys
d, tag = sys.argv[1], sys.argv[2]
def blob(dg): return os.path.join(d, "blobs", *dg.split(":"))
def put(obj):
    b = json.dumps(obj, separators=(",", ":")).encode()
    dg = "sha256:" + hashlib.sha256(b).hexdigest()
    open(blob(dg), "wb").write(b)
    return dg, len(b)
idx = json.load(open(os.path.join(d, "index.json")))
for m in idx["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag:
        continue
    man = json.load(open(blob(m["digest"])))
    cfg = json.load(open(blob(man["config"]["digest"])))
    cfg["variant"] = "v8"
    man["config"]["digest"], man["config"]["size"] = put(cfg)
    m["digest"], m["size"] = put(man)
    m["platform"] = {"architecture": "arm64", "os": "linux", "variant": "v8"}
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
PY
  umoci gc --layout "$layout"
  rm -f "$tmp/rootfs.tar"
  echo "$pkgs" > "$layout/.packages"
  mv "$layout" "$tmp/done"
  mv -T "$tmp/done" "$entry"          # atomic: readers see no entry or a whole one
  echo "make_base: $kind/$arch built in $((SECONDS - started)) s" >&2
}

if [ ! -f "$entry/index.json" ]; then
  exec 9> "$cache/.lock.$kind-$arch-$key"
  flock -w 1800 9 || die "timed out waiting for another build of $kind/$arch"
  [ -f "$entry/index.json" ] || build
  exec 9>&-
fi

# OUT: the blobs hard-linked (never written in place by anyone), index.json and oci-layout copied.
[ ! -e "$out" ] || [ -z "$(ls -A "$out")" ] || die "$out exists and is not empty"
mkdir -p "$out/blobs/sha256"
ln "$entry"/blobs/sha256/* "$out/blobs/sha256/" 2> /dev/null || cp "$entry"/blobs/sha256/* "$out/blobs/sha256/"
cp "$entry/index.json" "$entry/oci-layout" "$out/"
echo "oci:$out:$arch"
