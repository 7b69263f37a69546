#!/usr/bin/python3
# Helpers for bench/registry/bench_push.sh (run with /usr/bin/python3; standard library only).
#
#   layout_tool.py uncompress SRC SRC_TAG DST DST_TAG [--keep-first K]
#       Copies the image SRC:SRC_TAG (an OCI layout) into the OCI layout DST as DST_TAG with every gzip
#       layer after the first K stored uncompressed (media type …layer.v1.tar, digest = DiffID). The config
#       is unchanged (its diff_ids already are the uncompressed digests). This is the peer's input of
#       docs/design/registry.md §9.5: `skopeo copy` from it has to compress the layers on the fly.
#   layout_tool.py append-tar SRC SRC_TAG DST DST_TAG FILE=PATH_IN_IMAGE…
#       Copies SRC:SRC_TAG into DST with one more uncompressed, reproducible tar layer holding the files
#       (mtime 0, uid/gid 0, mode 0644, parents first). Used when edgeship cannot build the image yet.
#   layout_tool.py make-model OUT.onnx SIZE_MIB SEED
#       An ONNX model (MatMul [1, 32·SIZE] × W[32·SIZE, 8192]) whose weights are SIZE_MIB MiB of float32
#       drawn from N(0, 0.02) with the given seed (numpy + onnx, Debian's python3-numpy/python3-onnx):
#       like trained weights, nearly incompressible (gzip −1 keeps ~93 %, §9.1).
#   layout_tool.py manifest-layers LAYOUT TAG
#       Prints "digest size mediaType" per layer of LAYOUT:TAG.
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile

TAR = "application/vnd.oci.image.layer.v1.tar"
TAR_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_GZ = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def blob_path(layout, digest):
    algo, _, hexpart = digest.partition(":")
    return os.path.join(layout, "blobs", algo, hexpart)


def find_manifest(layout, tag):
    index = json.load(open(os.path.join(layout, "index.json")))
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m
    sys.exit("layout_tool: %s has no tag %s" % (layout, tag))


def write_blob(layout, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = blob_path(layout, digest)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
    return digest


def copy_blob(src, dst, digest):
    s, d = blob_path(src, digest), blob_path(dst, digest)
    os.makedirs(os.path.dirname(d), exist_ok=True)
    if not os.path.exists(d):
        shutil.copyfile(s, d + ".tmp")
        os.replace(d + ".tmp", d)


def stream_blob(layout, make_chunks):
    """Writes a blob from an iterator of byte chunks; returns (digest, size)."""
    tmp = os.path.join(layout, "blobs", "sha256", ".incoming")
    os.makedirs(os.path.dirname(tmp), exist_ok=True)
    h = hashlib.sha256()
    size = 0
    with open(tmp, "wb") as f:
        for chunk in make_chunks():
            h.update(chunk)
            f.write(chunk)
            size += len(chunk)
    digest = "sha256:" + h.hexdigest()
    os.replace(tmp, blob_path(layout, digest))
    return digest, size


def init_layout(dst):
    os.makedirs(os.path.join(dst, "blobs", "sha256"), exist_ok=True)
    lay = os.path.join(dst, "oci-layout")
    if not os.path.exists(lay):
        with open(lay, "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
    idx = os.path.join(dst, "index.json")
    if not os.path.exists(idx):
        with open(idx, "w") as f:
            json.dump({"schemaVersion": 2, "manifests": []}, f)


def tag_manifest(dst, tag, manifest):
    data = json.dumps(manifest, separators=(",", ":")).encode()
    digest = write_blob(dst, data)
    idx_path = os.path.join(dst, "index.json")
    index = json.load(open(idx_path))
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    index["manifests"].append({"mediaType": manifest.get("mediaType", "application/vnd.oci.image.manifest.v1+json"),
                               "digest": digest, "size": len(data),
                               "annotations": {"org.opencontainers.image.ref.name": tag}})
    with open(idx_path + ".tmp", "w") as f:
        json.dump(index, f)
    os.replace(idx_path + ".tmp", idx_path)
    return digest


def uncompress(src, src_tag, dst, dst_tag, keep_first):
    init_layout(dst)
    desc = find_manifest(src, src_tag)
    manifest = json.load(open(blob_path(src, desc["digest"])))
    copy_blob(src, dst, manifest["config"]["digest"])
    layers = []
    for i, layer in enumerate(manifest["layers"]):
        if i < keep_first or layer["mediaType"] not in (TAR_GZ, DOCKER_GZ):
            copy_blob(src, dst, layer["digest"])
            layers.append(layer)
            continue

        def chunks(path=blob_path(src, layer["digest"])):
            with gzip.open(path, "rb") as g:
                while True:
                    b = g.read(1 << 20)
                    if not b:
                        return
                    yield b
        digest, size = stream_blob(dst, chunks)
        out = dict(layer)
        out.update({"mediaType": TAR, "digest": digest, "size": size})
        layers.append(out)
    manifest = dict(manifest)
    manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    manifest["layers"] = layers
    print(tag_manifest(dst, dst_tag, manifest))


def append_tar(src, src_tag, dst, dst_tag, files):
    init_layout(dst)
    desc = find_manifest(src, src_tag)
    manifest = json.load(open(blob_path(src, desc["digest"])))
    config = json.load(open(blob_path(src, manifest["config"]["digest"])))
    for layer in manifest["layers"]:
        copy_blob(src, dst, layer["digest"])
    buf_path = os.path.join(dst, "blobs", "sha256", ".tar")
    with tarfile.open(buf_path, "w", format=tarfile.PAX_FORMAT) as tar:
        dirs = set()
        for spec in sorted(files, key=lambda s: s.split("=", 1)[1]):
            host, inner = spec.split("=", 1)
            parts = inner.strip("/").split("/")
            for k in range(1, len(parts)):
                d = "/".join(parts[:k])
                if d not in dirs:
                    dirs.add(d)
                    ti = tarfile.TarInfo(d + "/")
                    ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, 0
                    tar.addfile(ti)
            ti = tarfile.TarInfo(inner.strip("/"))
            ti.size, ti.mode, ti.mtime = os.path.getsize(host), 0o644, 0
            with open(host, "rb") as f:
                tar.addfile(ti, f)

    def chunks():
        with open(buf_path, "rb") as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    return
                yield b
    digest, size = stream_blob(dst, chunks)
    os.remove(buf_path)
    config["rootfs"]["diff_ids"].append(digest)
    config.setdefault("history", []).append({"created": "1970-01-01T00:00:00Z", "created_by": "bench: model layer"})
    cdata = json.dumps(config, separators=(",", ":")).encode()
    cdigest = write_blob(dst, cdata)
    manifest = dict(manifest)
    manifest["config"] = dict(manifest["config"], digest=cdigest, size=len(cdata))
    manifest["layers"] = manifest["layers"] + [{"mediaType": TAR, "digest": digest, "size": size}]
    print(tag_manifest(dst, dst_tag, manifest))


def make_model(out, size_mib, seed):
    import numpy as np
    import onnx
    from onnx import TensorProto, helper
    rows = size_mib * 32  # rows × 8192 float32 = size_mib MiB
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.02, size=(rows, 8192)).astype(np.float32)
    weight = helper.make_tensor("W", TensorProto.FLOAT, [rows, 8192], w.tobytes(), raw=True)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "bench",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, rows])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8192])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="edgeship-bench")
    model.ir_version = 8
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(model.SerializeToString())
    os.replace(tmp, out)


def manifest_layers(layout, tag):
    desc = find_manifest(layout, tag)
    manifest = json.load(open(blob_path(layout, desc["digest"])))
    for layer in manifest["layers"]:
        print(layer["digest"], layer["size"], layer["mediaType"])


def main(argv):
    if len(argv) >= 6 and argv[1] == "uncompress":
        keep = 0
        if "--keep-first" in argv:
            keep = int(argv[argv.index("--keep-first") + 1])
        uncompress(argv[2], argv[3], argv[4], argv[5], keep)
    elif len(argv) >= 7 and argv[1] == "append-tar":
        append_tar(argv[2], argv[3], argv[4], argv[5], argv[6:])
    elif len(argv) == 5 and argv[1] == "make-model":
        make_model(argv[2], int(argv[3]), int(argv[4]))
    elif len(argv) == 4 and argv[1] == "manifest-layers":
        manifest_layers(argv[2], argv[3])
    else:
        sys.exit(__doc__ if __doc__ else "usage: see the header of layout_tool.py")


if __name__ == "__main__":
    main(sys.argv)
