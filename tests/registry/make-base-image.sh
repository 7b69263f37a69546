#!/bin/bash
# Make a tiny runnable base image as an OCI image layout, without Docker (docs/design/registry.md §10.8):
# umoci + Debian's static busybox. One gzip layer (/bin/busybox and applet links, /tmp, /etc/passwd),
# Cmd ["/bin/sh"], Env PATH, os linux.
#
#   make-base-image.sh OUTDIR [TAG=base] [ARCH=amd64]
#
# OUTDIR is created as an OCI layout when it is not one yet; calling again with another TAG (and ARCH)
# adds a tag to the same layout. For ARCH other than amd64 only the config's architecture changes (the
# binary stays the host's): it is a fixture for multi-platform builds, not something to run.
# Deterministic: fixed mtimes (SOURCE_DATE_EPOCH or 1700000000), fixed created/history dates, owner
# 0:0, so the same TAG/ARCH gives the same digests on the same machine (busybox-static version and
# umoci's gzip permitting). Prints the manifest digest of OUTDIR:TAG on stdout.
set -euo pipefail
out=${1:?usage: make-base-image.sh OUTDIR [TAG] [ARCH]}
tag=${2:-base}
arch=${3:-amd64}
epoch=${SOURCE_DATE_EPOCH:-1700000000}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
  { [ -x /bin/busybox ] && busybox=/bin/busybox; }
[ -x "${busybox:-}" ] || { echo "make-base-image: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
command -v umoci >/dev/null || { echo "make-base-image: umoci not found (apt-get install umoci)" >&2; exit 1; }
case "$arch" in amd64|arm64|arm|386|ppc64le|s390x|riscv64) ;; *) echo "make-base-image: unknown ARCH $arch" >&2; exit 2;; esac

work=$(mktemp -d -t edgeship-base.XXXXXX)
trap 'rm -rf "$work"' EXIT

[ -f "$out/index.json" ] || umoci init --layout "$out"
umoci new --image "$out:$tag"
umoci unpack --rootless --image "$out:$tag" "$work/bundle" > /dev/null
root="$work/bundle/rootfs"
mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/app"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
chmod 755 "$root/bin/busybox"
for a in sh ash ls cat echo env sleep mkdir rm cp mv id pwd test true false sha256sum wc head tail uname; do
  ln -sf busybox "$root/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nmodule:x:1000:1000:module:/app:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nmodule:x:1000:\n' > "$root/etc/group"
chmod 644 "$root/etc/passwd" "$root/etc/group"
find "$root" -exec touch -h -d "@$epoch" {} +
umoci repack --history.created "$created" --history.created_by "edgeship test base: busybox" \
  --image "$out:$tag" "$work/bundle"
# PYTHON_VERSION / NODE_VERSION declare the runtimes as the official python and node images do, so
# build's runtime check (docs/build.md, "The base image") accepts this stand-in: the registry tests move
# images, they never run the module in it (tests/container runs real runtimes).
umoci config --image "$out:$tag" --created "$created" --history.created "$created" \
  --history.created_by "edgeship test base: config" --os linux --architecture "$arch" \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.env PYTHON_VERSION=3.11.9 --config.env NODE_VERSION=20.18.0 \
  --config.cmd /bin/sh --config.workingdir /
umoci gc --layout "$out"
# The digest of the tag as index.json records it.
/usr/bin/python3 - "$out" "$tag" <<'EOF'
import json, sys
idx = json.load(open(sys.argv[1] + "/index.json"))
for m in idx["manifests"]:
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == sys.argv[2]:
        print(m["digest"]); break
else:
    sys.exit("make-base-image: tag %s missing from index.json" % sys.argv[2])
EOF
