#!/usr/bin/python3
"""e2e.container.python_module: the python runtime's dependencies layer with the real pip, and as much of
the Python module as can run in a real container engine (issue 13 item 4).

ONNX Runtime's wheels cannot be had here (PyPI is not reachable from these machines), so the module's
own requirements (onnxruntime, numpy, azure-iot-device) are replaced by a local wheelhouse the test
builds (make_wheelhouse.py: a pure-Python wheel, a platform wheel per architecture, a package with an
x86_64 wheel only), given to pip as PIP_FIND_LINKS=DIR PIP_NO_INDEX=1. The proof therefore stops where
onnxruntime would be imported: the module itself is started and must fail with exactly
"ModuleNotFoundError: No module named 'onnxruntime'".

  1. the Debian python base (make_base.sh: python3.11 + numpy, no site-packages of ours) is pushed to a
     local registry as library/python:3.11-slim-bookworm and arm64v8/python:3.11-slim-bookworm, so the
     default-base path (no --base, EDGESHIP_BASE_REGISTRY) reads them, and the Python version (3.11,
     from the layers: Debian's image has no PYTHON_VERSION) is read from the base;
  2. `edgeship init` scaffolds a python-onnxruntime solution for amd64 and arm64v8 (a small ONNX model
     written with Debian's onnx);
  3. requirements.txt = espure, esplat, esnoarm: `edgeship build --push` fails with one `edgeship:
     error:` line naming esnoarm and linux/arm64/v8, exit 1, and nothing is pushed (no repository but
     the bases in the registry's catalog);
  4. requirements.txt = espure, esplat: `edgeship build --push` with the real pip (/usr/bin/pip3, from
     tests/e2e/container.cmake); each platform's pushed image has a layer with /app/site-packages holding
     espure and the esplat wheel of its own architecture (read from the registry: arm64 cannot run here,
     there is no QEMU);
  5. the private engine pulls the amd64 image; a container with the image's own config (User, Env,
     WorkingDir) but Cmd = a `python3 -c` script imports espure and esplat (PYTHONPATH and the layer),
     numpy (from the base), prints the Python version and its uid: 3.11, uid 10001, esplat's x86_64
     wheel from /app/site-packages;
  6. the real module (the image's Cmd, `python3 -m app.main`) is started: it must exit non-zero with
     ModuleNotFoundError for onnxruntime as the only error (app code, model path and numpy are fine).
Figures (time per phase) are printed on stderr.
Environment: EDGESHIP_EXE, EDGESHIP_PIP, CONTAINER_TEST_DIR (from tests/e2e/container.cmake);
PYTHON_MODULE_E2E_TEMPLATE_DIR=DIR passes --template-dir DIR to init and build (debugging only, e.g. a
copy of templates/ with another image.deps.pip_platform in runtimes/python-onnxruntime/runtime.json).

The platform wheels are tagged manylinux_2_17_<arch>, as most of PyPI's are (numpy's manylinux wheels carry
manylinux_2_17 + manylinux2014): a base with glibc 2.36 (bookworm) must accept every manylinux_2_N with
N <= 36, and pip accepts only the exact tags it is given with --platform (it expands manylinux2014 to
2010/1 but no manylinux_2_N to lower N), so edgeship has to pass them all.
"""

import gzip
import io
import json
import os
import re
import sys
import tarfile
import time
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import fail, step, timed  # noqa: E402
import engine  # noqa: E402
import make_wheelhouse  # noqa: E402

MODULE = "pyscore"
SITE = "app/site-packages"  # the layer's path (runtime.json image.deps.to, without the leading /)
PLATFORMS = {"amd64": ("amd64", "x86_64"), "arm64v8": ("arm64", "aarch64")}  # edgeship → (OCI arch, wheel)
RUNTIME_UID = 10001
RUNTIME_GID = 10001  # runtime.json image.user "10001:10001": not the root group

PROBE = r"""
import json, os, sys
import espure, esplat, numpy
print(json.dumps({
    "python": "%d.%d.%d" % sys.version_info[:3], "uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(),
    "pythonpath": os.environ.get("PYTHONPATH"),
    "espure": [espure.VERSION, espure.__file__],
    "esplat": [esplat.MACHINE, esplat.WHEEL_PLATFORM, esplat.__file__],
    "numpy": [numpy.__version__, numpy.__file__],
}))
"""


def write_model(path):
    """A 6-feature logistic model (MatMul + Add + Sigmoid), written with Debian's onnx."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.linspace(-1, 1, 6, dtype=np.float32).reshape(6, 1), "w")
    b = numpy_helper.from_array(np.array([0.1], dtype=np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["features", "w"], ["z0"]), helper.make_node("Add", ["z0", "b"], ["z"]),
         helper.make_node("Sigmoid", ["z"], ["probability"])],
        "pyscore", [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 6])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="python_module_e2e")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def edgeship(args, env, check=True, timeout=900):
    return common.run([os.environ["EDGESHIP_EXE"], *args], env=env, timeout=timeout, check=check)


# ------------------------------------------------------------------------------------- registry reads

def reg_get(reg, path, accept=None):
    req = urllib.request.Request(f"http://{reg.addr}/v2/{path}", headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def catalog(reg):
    status, body = reg_get(reg, "_catalog")
    if status != 200:
        fail(f"registry catalog: HTTP {status}: {body[:300]!r}")
    return sorted(json.loads(body).get("repositories") or [])


INDEX_TYPES = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"


def image_site_packages(reg, repo, digest):
    """(config, {path: bytes} of the .py files under /app/site-packages) of the image manifest DIGEST."""
    status, body = reg_get(reg, f"{repo}/manifests/{digest}", MANIFEST_TYPES)
    if status != 200:
        fail(f"{repo}@{digest}: HTTP {status}")
    manifest = json.loads(body)
    status, body = reg_get(reg, f"{repo}/blobs/{manifest['config']['digest']}")
    config = json.loads(body)
    files, layers_with_site = {}, 0
    for layer in manifest["layers"]:
        if layer["size"] > 64 << 20:  # the base (tens of MB) is not ours; the deps layer is a few kB
            continue
        status, blob = reg_get(reg, f"{repo}/blobs/{layer['digest']}")
        if status != 200:
            fail(f"{repo} layer {layer['digest']}: HTTP {status}")
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob)), mode="r:") as tf:
            found = False
            for m in tf.getmembers():
                name = m.name.lstrip("./")
                if name.startswith(SITE + "/"):
                    found = True
                    if m.isfile() and name.endswith(".py"):
                        files[name] = tf.extractfile(m).read()
            layers_with_site += found
    if layers_with_site != 1:
        fail(f"{repo}@{digest}: {layers_with_site} layers hold /{SITE} (want exactly one: the dependencies layer)")
    return config, files


def check_pushed_image(reg, repo, digest, platform):
    arch, machine = PLATFORMS[platform]
    config, files = image_site_packages(reg, repo, digest)
    if config.get("architecture") != arch:
        fail(f"{platform}: pushed image's config says architecture {config.get('architecture')}")
    env = dict(e.split("=", 1) for e in config.get("config", {}).get("Env", []))
    if env.get("PYTHONPATH") != "/" + SITE:
        fail(f"{platform}: image Env PYTHONPATH={env.get('PYTHONPATH')!r}, want /{SITE}")
    plat_init = files.get(f"{SITE}/esplat/__init__.py", b"").decode()
    if f"MACHINE = {machine!r}" not in plat_init:
        fail(f"{platform}: /{SITE}/esplat/__init__.py is not the {machine} wheel's:\n{plat_init or '(missing)'}")
    if f"{SITE}/espure/__init__.py" not in files:
        fail(f"{platform}: /{SITE}/espure missing from the dependencies layer ({sorted(files)})")
    print(f"figures: {platform} image: dependencies layer holds {sorted(files)}; esplat wheel for {machine}",
          file=sys.stderr)
    return config


# ------------------------------------------------------------------------------------------ container

def run_to_exit(eng, body, timeout):
    """Create + start a container (host network), wait until it exits (bounded): (inspect, stdout, stderr)."""
    cid = eng.api.create(body)
    try:
        eng.api.start(cid)
        end = time.monotonic() + timeout
        while True:
            info = eng.api.inspect(cid)
            if not info["State"]["Running"]:
                break
            if time.monotonic() > end:
                out, err = eng.api.logs(cid)
                fail(f"container still running after {timeout} s\n--- stdout:\n{out[-2000:]}\n--- stderr:\n{err[-2000:]}")
            time.sleep(0.1)
        out, err = eng.api.logs(cid)
        return info, out, err
    finally:
        eng.api.remove(cid, force=True)


def main():
    started = time.monotonic()
    if os.geteuid() != 0:
        print("SKIP: the container tests start dockerd and need root", file=sys.stderr)
        return 125
    if not os.environ.get("EDGESHIP_EXE"):
        print("FAIL: EDGESHIP_EXE not set (run through ctest: tests/e2e/container.cmake)", file=sys.stderr)
        return 1
    engine.install_signal_handlers()
    work = common.Work("container-python-module")
    ok = False
    figures = {}
    try:
        with timed("wheelhouse"):
            wheels = make_wheelhouse.build(work.path("wheelhouse"))
        print("figures: wheelhouse " + " ".join(wheels), file=sys.stderr)
        model = work.path("model.onnx")
        write_model(model)
        sol = work.path("sol")
        tmpl = ["--template-dir", os.environ["PYTHON_MODULE_E2E_TEMPLATE_DIR"]] \
            if os.environ.get("PYTHON_MODULE_E2E_TEMPLATE_DIR") else []
        with timed("make_base python amd64+arm64"):
            for arch in ("amd64", "arm64"):
                common.make_base("python", arch, work.path(f"base-check-{arch}"))
        with common.Registry() as reg:
            with timed("push_base"):
                for arch, name in (("amd64", "library"), ("arm64", "arm64v8")):
                    pushed = common.push_base("python", arch, reg.addr, work)
                    if pushed != f"{reg.addr}/{name}/python:3.11-slim-bookworm":
                        fail(f"base pushed as {pushed}")
            bases = catalog(reg)
            env = dict(os.environ, EDGESHIP_BASE_REGISTRY=reg.addr, SOURCE_DATE_EPOCH="1700000000",
                       XDG_CACHE_HOME=os.path.join(work.dir, "edgeship-cache"),
                       PIP_FIND_LINKS=work.path("wheelhouse"), PIP_NO_INDEX="1",
                       PIP_CACHE_DIR=os.path.join(work.dir, "pip-cache"))
            for k in ("CONTAINER_REGISTRY_SERVER", "CONTAINER_TAG", "IOTHUB_CONNECTION_STRING", "PIP_INDEX_URL",
                      "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE"):
                env.pop(k, None)
            print(f"figures: pip {common.run([env.get('EDGESHIP_PIP', 'pip3'), '--version'], env=env).stdout.strip()}",
                  file=sys.stderr)
            step(f"edgeship init {MODULE} (python-onnxruntime, amd64 + arm64v8, registry {reg.addr})")
            edgeship(["init", sol, "--model", model, "--module", MODULE, "--runtime", "python-onnxruntime",
                      "--platforms", "amd64,arm64v8", "--registry", reg.addr, *tmpl], env)
            requirements = os.path.join(sol, "modules", MODULE, "requirements.txt")
            if not os.path.isfile(requirements):
                fail(f"init wrote no {requirements}")
            build = ["build", MODULE, "--solution", sol, "--push", "--plain-http", "--json", *tmpl]

            step("requirements: espure, esplat, esnoarm (no aarch64 wheel) → the arm64v8 build fails, nothing pushed")
            with open(requirements, "w") as f:
                f.write("# python_module_e2e.py: the test's wheelhouse (onnxruntime cannot be had here)\n"
                        "espure==1.0.0\nesplat==1.0.0\nesnoarm==1.0.0\n")
            t0 = time.monotonic()
            p = edgeship(build, env, check=False)
            figures["failing build"] = time.monotonic() - t0
            lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
            errors = [ln for ln in lines if ln.startswith("edgeship: error:")]
            if p.returncode != 1 or len(errors) != 1:
                fail(f"want exit 1 and one 'edgeship: error:' line, got exit {p.returncode}:\n{p.stderr[-3000:]}")
            want = re.compile(rf"^edgeship: error: build {MODULE}\b.*: dependencies layer \(python-onnxruntime, "
                              r"linux/arm64/v8\): pip install: no wheel of esnoarm(==1\.0\.0)? for CPython 3\.11 on "
                              r"linux/arm64/v8$")
            if not want.match(errors[0]):
                fail(f"error line names the wrong thing:\n  {errors[0]}\nwant it to match:\n  {want.pattern}")
            print(f"figures: failing build stderr: {' | '.join(lines)}", file=sys.stderr)
            if p.stdout.strip():
                fail(f"a failed build printed a result on stdout: {p.stdout[:500]}")
            after = catalog(reg)
            status, _ = reg_get(reg, f"{MODULE}/tags/list")
            if after != bases or status != 404:
                fail(f"a failed build pushed something: catalog {after} (before {bases}), {MODULE} tags HTTP {status}")

            step("requirements: espure, esplat → edgeship build --push (real pip, wheelhouse)")
            with open(requirements, "w") as f:
                f.write("# python_module_e2e.py: the test's wheelhouse (onnxruntime cannot be had here)\n"
                        "espure==1.0.0\nesplat==1.0.0\n")
            t0 = time.monotonic()
            p = edgeship(build, env)
            figures["build+push"] = time.monotonic() - t0
            report = json.loads(p.stdout)
            images = report["images"] if isinstance(report, dict) else report
            by_platform = {}
            for im in images:
                by_platform[im["platform"]] = im
            print(f"figures: built {sorted(by_platform)}", file=sys.stderr)

            configs = {}
            for platform in PLATFORMS:
                im = next((v for k, v in by_platform.items() if k == platform or k.startswith(
                    f"linux/{PLATFORMS[platform][0]}")), None)
                if im is None:
                    fail(f"no {platform} image in build's report: {json.dumps(images)[:1500]}")
                ref = im["reference"]
                repo = ref.split("/", 1)[1].rsplit(":", 1)[0]
                configs[platform] = check_pushed_image(reg, repo, im["digest"], platform)
            amd64_ref = next(v for k, v in by_platform.items() if "amd64" in k)["reference"]

            eng = engine.Engine(work.path("engine"), keep_logs_in=work.dir)
            eng.__enter__()
            try:
                figures["engine start"] = eng.start_seconds
                step(f"docker pull {amd64_ref}")
                repo, _, tag = amd64_ref.rpartition(":")
                t0 = time.monotonic()
                eng.api.pull(repo, tag)
                figures["pull"] = time.monotonic() - t0
                pulled = eng.api.image_inspect(amd64_ref)
                if pulled["Architecture"] != "amd64":
                    fail(f"pulled image is {pulled['Architecture']}")
                cfg = pulled["Config"]
                if str(cfg.get("User")) != f"{RUNTIME_UID}:{RUNTIME_GID}":
                    fail(f"image User {cfg.get('User')!r}, want {RUNTIME_UID}:{RUNTIME_GID}")

                step("container: the image's config, Cmd = python3 -c (imports the wheelhouse packages and numpy)")
                t0 = time.monotonic()
                info, out, err = run_to_exit(eng, {"Image": amd64_ref, "Cmd": ["python3", "-c", PROBE],
                                                   "HostConfig": {"NetworkMode": "host"}}, 60)
                figures["probe container"] = time.monotonic() - t0
                if info["State"]["ExitCode"] != 0:
                    fail(f"probe exited {info['State']['ExitCode']}\n--- stdout:\n{out}\n--- stderr:\n{err}")
                got = json.loads(out.strip().splitlines()[-1])
                print(f"figures: probe in the container: {json.dumps(got)}", file=sys.stderr)
                if not got["python"].startswith("3.11."):
                    fail(f"the container runs Python {got['python']}, the layer was built for 3.11")
                if got["uid"] != RUNTIME_UID or got["gid"] != RUNTIME_GID:
                    fail(f"the container runs as {got['uid']}:{got['gid']}, want {RUNTIME_UID}:{RUNTIME_GID} (runtime.json image.user)")
                if got["esplat"][0] != "x86_64" or not got["esplat"][2].startswith(f"/{SITE}/"):
                    fail(f"esplat: {got['esplat']}, want the x86_64 wheel from /{SITE}")
                if not got["espure"][1].startswith(f"/{SITE}/"):
                    fail(f"espure imported from {got['espure'][1]}, want /{SITE}")
                if got["numpy"][1].startswith(f"/{SITE}/"):
                    fail(f"numpy came from the dependencies layer ({got['numpy'][1]}), want the base's")

                step("container: the module itself (python3 -m app.main): must stop at import onnxruntime only")
                port = common.free_port()
                t0 = time.monotonic()
                info, out, err = run_to_exit(eng, {"Image": amd64_ref, "Env": [f"PORT={port}"],
                                                   "HostConfig": {"NetworkMode": "host"}}, 60)
                figures["module container"] = time.monotonic() - t0
                code = info["State"]["ExitCode"]
                tail = [ln for ln in err.splitlines() if ln.strip()]
                print(f"figures: module: exit {code}, last stderr line {tail[-1] if tail else ''!r}", file=sys.stderr)
                if info["Config"]["Cmd"] != ["python3", "-m", "app.main"]:
                    fail(f"the image's Cmd is {info['Config']['Cmd']}")
                expected = "ModuleNotFoundError: No module named 'onnxruntime'"
                if code == 0 or not tail or tail[-1] != expected:
                    fail(f"the module should fail only for want of onnxruntime ({expected}); exit {code}\n"
                         f"--- stdout:\n{out[-2000:]}\n--- stderr:\n{err[-4000:]}")
                other = [ln for ln in tail if "Error" in ln and ln != expected and not ln.startswith("Traceback")]
                if other:
                    fail(f"the module reported other errors before onnxruntime: {other}")
            finally:
                t0 = time.monotonic()
                eng.close()
                figures["engine stop"] = time.monotonic() - t0
        ok = True
        print("PASS python_module", file=sys.stderr)
    except (common.TestFailure, engine.EngineError, RuntimeError) as e:
        print(f"FAIL: {e}", file=sys.stderr)
    finally:
        work.finish(ok)
        figures["test"] = time.monotonic() - started
        print("figures: " + ", ".join(f"{k} {v:.2f} s" for k, v in figures.items()), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
