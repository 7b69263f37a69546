#!/usr/bin/python3
"""Times a command beside `python3 -c pass` (interleaved, same run) and prints medians and the ratio.
usage: timing.py RUNS MODULES COMMAND…   (PYTHON selects the floor's interpreter; default python3)"""
import os
import shutil
import statistics
import subprocess
import sys
import time

runs, modules, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
python = os.environ.get("PYTHON") or shutil.which("python3") or "/usr/bin/python3"
# resolve launcher shims (pyenv) to the real interpreter, so the floor is the interpreter's own start-up
python = subprocess.run([python, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True,
                        check=True).stdout.strip() or python
floor_cmd = [python, "-c", "pass"]


def once(c):
    t0 = time.perf_counter()
    subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


startup_cmd = [cmd[0], "version"]  # the binary's own start-up, for reading the result
for c in (cmd, floor_cmd, startup_cmd):  # warm the page cache
    once(c)
gen, floor, startup = [], [], []
for _ in range(runs):
    gen.append(once(cmd))
    floor.append(once(floor_cmd))
    startup.append(once(startup_cmd))
g, f, s0 = statistics.median(gen), statistics.median(floor), statistics.median(startup)
print("bench/gen: edgeship gen, %s modules: median %.2f ms over %d runs (min %.2f)" % (modules, g * 1e3, runs, min(gen) * 1e3))
print("bench/gen: %s -c pass:           median %.2f ms over %d runs (min %.2f)" % (python, f * 1e3, runs, min(floor) * 1e3))
print("bench/gen: edgeship version (start-up only): median %.2f ms" % (s0 * 1e3))
print("bench/gen: ratio gen / python floor = %.3f (target <= 0.5)" % (g / f))
