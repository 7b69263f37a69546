#!/usr/bin/python3
"""Parity of `edgeship optimize` outputs with the float32 model in ONNX Runtime (onnxruntime-node through
tests/tools/ort_run.js; docs/design/onnx.md §14, §17). Models are exported at test time with Debian's torch.

  optimize_parity.py CASE EDGESHIP_EXE WORKDIR

Cases: fp16_mlp fp16_cnn dynamic_int8_mlp static_int8_mlp static_int8_cnn opset_13_17 external_data.
Prints the measured figures; exits 1 when a bound is exceeded."""
import json
import os
import subprocess
import sys

import numpy as np

SRC = os.environ.get("EDGESHIP_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
GEN = os.path.join(SRC, "tests", "fixtures", "optimize", "make_models.py")
ORT = os.path.join(SRC, "tests", "tools", "ort_run.js")


def sh(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def generate(kind, out, opset=13):
    if not os.path.exists(os.path.join(out, f"{kind}.onnx")):
        sh(["/usr/bin/python3", GEN, kind, out, "--opset", str(opset)])


def edgeship(exe, *args):
    out = sh([exe, "optimize", *args, "--json"])
    return json.loads(out)


def ort(model, request):
    res = json.loads(sh(["node", ORT, model, request]))
    (name, t), = res["outputs"].items()
    if t["type"] != "float32":
        sys.exit(f"FAIL: output {name} of {model} is {t['type']}, expected float32")
    return np.array(t["data"], dtype=np.float64).reshape(t["dims"])


def check(cond, msg):
    if not cond:
        sys.exit("FAIL: " + msg)


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


def fp16(exe, work, kind):
    generate(kind, work)
    src = os.path.join(work, f"{kind}.onnx")
    out = os.path.join(work, f"{kind}.fp16.onnx")
    req = os.path.join(work, "holdout.json" if kind == "mlp" else "request.json")
    rep = edgeship(exe, src, "-o", out, "--fp16")
    ref = ort(src, req)
    got = ort(out, req)
    err = rel_err(got, ref)
    torch_ref = np.array(json.load(open(os.path.join(work, "torch_holdout.json" if kind == "mlp" else "torch_out.json"))))
    err_torch = rel_err(got.reshape(-1), torch_ref)
    print(f"{kind} fp16: relative error vs fp32 ORT {err:.3e}, vs torch {err_torch:.3e}; "
          f"size {rep['size_before']} -> {rep['size_after']} ({rep['size_ratio']:.2f}x); "
          f"parameter bytes {rep['parameter_bytes_before']} -> {rep['parameter_bytes_after']}")
    check(err <= 1e-2, f"fp16 relative error {err} > 1e-2")
    check(err_torch <= 1e-2, f"fp16 relative error vs torch {err_torch} > 1e-2")
    check(rep["parameter_bytes_after"] * 2 <= rep["parameter_bytes_before"] + 64, "fp16 did not halve the parameters")
    check(rep["fp16"]["nodes_fp16"] > 0, "no node converted")
    if kind == "mlp":
        labels = np.array(json.load(open(os.path.join(work, "holdout_labels.json"))))
        check(np.array_equal(ref.argmax(1) == labels, got.argmax(1) == labels) or
              abs((ref.argmax(1) == labels).mean() - (got.argmax(1) == labels).mean()) <= 0.002,
              "fp16 changed the held-out accuracy")


def accuracy(logits, labels):
    return float((logits.argmax(1) == labels).mean())


def dynamic_int8_mlp(exe, work):
    generate("mlp", work)
    src = os.path.join(work, "mlp.onnx")
    req = os.path.join(work, "holdout.json")
    labels = np.array(json.load(open(os.path.join(work, "holdout_labels.json"))))
    ref = ort(src, req)
    acc_ref = accuracy(ref, labels)
    for per_channel in (False, True):
        out = os.path.join(work, f"mlp.dyn{'_pc' if per_channel else ''}.onnx")
        rep = edgeship(exe, src, "-o", out, "--quantize", "dynamic-int8", *(["--per-channel"] if per_channel else []))
        got = ort(out, req)
        acc = accuracy(got, labels)
        ratio = os.path.getsize(src) / os.path.getsize(out)
        drop = acc_ref - acc
        print(f"mlp dynamic-int8{' per-channel' if per_channel else ''}: file {os.path.getsize(src)} -> "
              f"{os.path.getsize(out)} bytes ({ratio:.2f}x smaller); held-out accuracy {acc_ref:.4f} -> {acc:.4f} "
              f"(drop {drop * 100:+.2f} points over {len(labels)} rows); max relative logit error {rel_err(got, ref):.3e}")
        check(ratio >= 3.0, f"size ratio {ratio:.2f} < 3")
        check(rep["size_ratio"] >= 3.0, "reported size ratio < 3")
        check(drop <= 0.01, f"accuracy drop {drop:.4f} > 0.01")
        check(rep["quantize"]["nodes_quantized"] == 3, "expected 3 Gemm nodes quantized")
        check(rel_err(got, ref) <= 0.05, "int8 logits differ by more than 5% of their range")


def static_int8(exe, work, kind):
    generate(kind, work)
    src = os.path.join(work, f"{kind}.onnx")
    req = os.path.join(work, "holdout.json" if kind == "mlp" else "request.json")
    ref = ort(src, req)
    calibrations = ["calibration.npy", "calibration.json"] if kind == "mlp" else ["calibration.npy"]
    for cal in calibrations:
        for per_channel in (False, True):
            out = os.path.join(work, f"{kind}.qdq.{cal}.{int(per_channel)}.onnx")
            rep = edgeship(exe, src, "-o", out, "--quantize", "static-int8", "--calibration", os.path.join(work, cal),
                           *(["--per-channel"] if per_channel else []))
            got = ort(out, req)
            err = rel_err(got, ref)
            line = (f"{kind} static-int8 (QDQ, {cal}, {'per-channel' if per_channel else 'per-tensor'}): "
                    f"max abs error {np.max(np.abs(got - ref)):.3e} on outputs up to {np.max(np.abs(ref)):.3f} "
                    f"(relative {err:.3e}); size {rep['size_before']} -> {rep['size_after']}")
            if kind == "mlp":
                labels = np.array(json.load(open(os.path.join(work, "holdout_labels.json"))))
                drop = accuracy(ref, labels) - accuracy(got, labels)
                line += f"; accuracy drop {drop * 100:+.2f} points"
                check(drop <= 0.01, f"static-int8 accuracy drop {drop:.4f} > 0.01")
                # 64 JSON rows cover less of the input range than 256 .npy rows: held-out rows
                # outside it clip, so the bound on the largest logit error is looser than dynamic's.
                check(err <= 0.08, f"static-int8 relative error {err:.4f} > 0.08")
            else:
                check(np.max(np.abs(got - ref)) <= 0.05, "static-int8 CNN probabilities differ by more than 0.05")
            print(line)
            check(rep["quantize"]["activations_calibrated"] > 0, "no activation calibrated")
            check(rep["size_ratio"] > 1.5 or kind == "cnn", "QDQ model did not shrink")


def opset_13_17(exe, work):
    generate("cnn", work, 13)
    src = os.path.join(work, "cnn.onnx")
    out = os.path.join(work, "cnn17.onnx")
    rep = edgeship(exe, src, "-o", out, "--opset", "17")
    req = os.path.join(work, "request.json")
    diff = float(np.max(np.abs(ort(out, req) - ort(src, req))))
    import onnx
    m = onnx.load(out)
    opset = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")][0]
    meta = {p.key: p.value for p in m.metadata_props}
    print(f"opset 13 -> 17: max abs diff {diff:.3e}; ir_version {m.ir_version}; metadata {meta}")
    check(opset == 17 and m.ir_version == 8, f"expected opset 17 / IR 8, got {opset} / {m.ir_version}")
    check(rep["opset"] == {"from": 13, "to": 17, "ir_from": 7, "ir_to": 8}, f"report {rep['opset']}")
    check(meta.get("edgeship.optimize.opset") == "13->17", "metadata edgeship.optimize.opset missing")
    check(diff <= 1e-6, f"opset conversion changed outputs by {diff}")


def external_data(exe, work):
    generate("cnn", work)
    src = os.path.join(work, "cnn.onnx")
    out = os.path.join(work, "cnn.ext.onnx")
    rep = edgeship(exe, src, "-o", out, "--external-data")
    data = out + ".data"
    check(os.path.exists(data), "no .data file")
    check(rep["external_data"]["location"] == "cnn.ext.onnx.data", str(rep["external_data"]))
    # Tensors under 1024 bytes stay inline (ORT's size_threshold default); the conv weights move out.
    check(os.path.getsize(out) < os.path.getsize(src) / 2, f"weights still inside the .onnx ({os.path.getsize(out)} bytes)")
    req = os.path.join(work, "request.json")
    ref = ort(src, req)
    diff = float(np.max(np.abs(ort(out, req) - ref)))
    sh([exe, "check", out])  # path-based checker resolves the side file
    # Reading a model with external data: optimize it again (fp16), back to one file, and run it.
    again = os.path.join(work, "cnn.ext.fp16.onnx")
    rep2 = edgeship(exe, out, "-o", again, "--fp16")
    err = rel_err(ort(again, req), ref)
    print(f"external data: {rep['external_data']['tensors']} tensors, {rep['external_data']['bytes']} bytes in "
          f"{rep['external_data']['location']}; ORT max abs diff {diff:.3e}; re-read + fp16 relative error {err:.3e}; "
          f"size counted with external data {rep2['size_before']}")
    check(diff == 0.0, f"external data changed outputs by {diff}")
    check(err <= 1e-2, "fp16 of the external-data model is off")
    check(rep2["size_before"] == os.path.getsize(out) + os.path.getsize(data), "size_before ignores the .data file")


def main():
    case, exe, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    {
        "fp16_mlp": lambda: fp16(exe, work, "mlp"),
        "fp16_cnn": lambda: fp16(exe, work, "cnn"),
        "dynamic_int8_mlp": lambda: dynamic_int8_mlp(exe, work),
        "static_int8_mlp": lambda: static_int8(exe, work, "mlp"),
        "static_int8_cnn": lambda: static_int8(exe, work, "cnn"),
        "opset_13_17": lambda: opset_13_17(exe, work),
        "external_data": lambda: external_data(exe, work),
    }[case]()


if __name__ == "__main__":
    main()
