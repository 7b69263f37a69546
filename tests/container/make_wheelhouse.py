#!/usr/bin/python3
"""A local wheelhouse for the python runtime's dependencies-layer test (issue 13 item 4).

    make_wheelhouse.py OUT_DIR            (or: import make_wheelhouse; make_wheelhouse.build(OUT_DIR))

PyPI is not reachable from the test machines, so the test installs from wheels it builds itself with
Debian's setuptools + wheel (python3-setuptools, python3-wheel; `setup.py bdist_wheel`), served to pip as
PIP_FIND_LINKS=OUT_DIR PIP_NO_INDEX=1:

  espure-1.0.0-py3-none-any.whl                          pure Python: one wheel for every platform
  esplat-1.0.0-cp311-cp311-manylinux_2_17_x86_64.whl     platform wheels, one per architecture; the
  esplat-1.0.0-cp311-cp311-manylinux_2_17_aarch64.whl    module records which one it is (esplat.MACHINE)
  esnoarm-1.0.0-cp311-cp311-manylinux_2_17_x86_64.whl    x86_64 only: no wheel for linux/arm64

manylinux_2_17 is the tag most of PyPI's manylinux wheels carry (numpy's: manylinux_2_17 +
manylinux2014), below the bookworm bases' glibc 2.36. The platform wheels are real binary-distribution wheels (Root-Is-Purelib: false, `--plat-name`, the
interpreter's cp311 ABI tag) whose content is Python only: no cross compiler is needed, and the test
tells them apart by esplat.MACHINE. Wheels are written to OUT_DIR; the builds run in a temporary
directory beside it. Takes 2–4 s.
"""

import os
import shutil
import subprocess
import sys
import tempfile

VERSION = "1.0.0"
# (distribution, platform tags: None = pure Python)
PACKAGES = [
    ("espure", None),
    ("esplat", ["manylinux_2_17_x86_64", "manylinux_2_17_aarch64"]),
    ("esnoarm", ["manylinux_2_17_x86_64"]),
]

SETUP_PY = """\
import setuptools
from setuptools.dist import Distribution


class BinaryDistribution(Distribution):
    # A platform wheel (Root-Is-Purelib: false, the interpreter's ABI tag) without compiling anything.
    def has_ext_modules(self):
        return {binary}


setuptools.setup(name={name!r}, version={version!r}, packages=[{name!r}], distclass=BinaryDistribution)
"""


def _build_one(name, plat, src_root, out_dir):
    src = os.path.join(src_root, f"{name}-{plat or 'any'}")
    os.makedirs(os.path.join(src, name))
    machine = next((m for m in ("x86_64", "aarch64") if plat and plat.endswith(m)), "any")
    with open(os.path.join(src, name, "__init__.py"), "w") as f:
        f.write(f'"""Test package {name} {VERSION} from tests/container/make_wheelhouse.py."""\n'
                f'NAME = {name!r}\nVERSION = {VERSION!r}\nMACHINE = {machine!r}\nWHEEL_PLATFORM = {plat or "any"!r}\n')
    with open(os.path.join(src, "setup.py"), "w") as f:
        f.write(SETUP_PY.format(name=name, version=VERSION, binary=bool(plat)))
    cmd = [sys.executable, "setup.py", "-q", "bdist_wheel", "--dist-dir", out_dir]
    if plat:
        cmd += ["--plat-name", plat]
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", PYTHONDONTWRITEBYTECODE="1")
    p = subprocess.run(cmd, cwd=src, env=env, capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise RuntimeError(f"bdist_wheel {name} {plat}: exit {p.returncode}\n{p.stdout[-2000:]}\n{p.stderr[-4000:]}")


def build(out_dir):
    """Build the wheels into OUT_DIR; returns their file names (sorted)."""
    os.makedirs(out_dir, exist_ok=True)
    src_root = tempfile.mkdtemp(prefix=".wheelhouse-src.", dir=os.path.dirname(os.path.abspath(out_dir)))
    try:
        for name, plats in PACKAGES:
            for plat in plats or [None]:
                _build_one(name, plat, src_root, os.path.abspath(out_dir))
    finally:
        shutil.rmtree(src_root, ignore_errors=True)
    return sorted(f for f in os.listdir(out_dir) if f.endswith(".whl"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: make_wheelhouse.py OUT_DIR", file=sys.stderr)
        sys.exit(2)
    for w in build(sys.argv[1]):
        print(w)
