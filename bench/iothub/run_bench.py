#!/usr/bin/python3
"""IoT Hub rollout-polling benchmark: a fleet in the test double, polled the way `deployment status` /
`--wait` do (query API, one request per page) and, side by side, by a per-device twin-read peer.

Prints requests per poll cycle (against the target 1 + ceil(devices / page size)), median time per
cycle, and how much of the cycle the double spent inside its request handlers.

    bench/iothub/run_bench.py --bench build-iothub/bench/iothub/bench_iothub [--devices 2000] [--page-size 100] [--cycles 5]
"""

import argparse
import json
import math
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "iothub_double"))
from harness import Double  # noqa: E402


def manifest():
    return {"modulesContent": {
        "$edgeAgent": {"properties.desired": {
            "schemaVersion": "1.1", "runtime": {"type": "docker", "settings": {"minDockerVersion": "v1.25"}},
            "systemModules": {"edgeAgent": {"type": "docker", "settings": {"image": "agent:1.4"}},
                              "edgeHub": {"type": "docker", "status": "running", "restartPolicy": "always",
                                          "settings": {"image": "hub:1.4"}}},
            "modules": {"score": {"type": "docker", "status": "running", "restartPolicy": "always",
                                  "settings": {"image": "score:2", "createOptions": "{}"}}}}},
        "$edgeHub": {"properties.desired": {"schemaVersion": "1.2", "routes": {}}}}}


def run_mode(bench, hub, mode, args):
    hub.control("reset_stats")
    env = dict(os.environ)
    env.update(hub.env())
    p = subprocess.run([bench, "--mode", mode, "--deployment", "bench", "--cycles", str(args.cycles),
                        "--page-size", str(args.page_size)], env=env, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        raise SystemExit("bench_iothub failed: " + p.stderr)
    result = json.loads(p.stdout)
    stats = hub.control("stats")
    result["double_handler_ms_per_cycle"] = stats["handler_seconds"] * 1000.0 / args.cycles
    result["double_requests"] = stats["requests"]
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", required=True)
    ap.add_argument("--devices", type=int, default=2000)
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--cycles", type=int, default=5)
    ap.add_argument("--skip-peer", action="store_true")
    args = ap.parse_args()
    scenario = {"fleet": {"count": args.devices, "prefix": "dev", "tags": {"env": "prod"}},
                "max_page_size": 1000,
                "configurations": [{"id": "bench", "schemaVersion": "2.0", "content": manifest(),
                                    "targetCondition": "tags.env='prod'", "priority": 1}]}
    with Double(scenario, start_timeout=120) as hub:
        q = run_mode(args.bench, hub, "query", args)
        peer = None if args.skip_peer else run_mode(args.bench, hub, "twin", args)
    target = 1 + math.ceil(args.devices / args.page_size)
    print("IoT Hub rollout polling: %d devices, page size %d, %d cycles" % (args.devices, args.page_size, args.cycles))
    print("%-34s %14s %14s" % ("", "query (edgeship)", "twin-per-device"))
    print("%-34s %14d %14s" % ("requests per cycle", q["requests_per_cycle"], peer["requests_per_cycle"] if peer else "-"))
    print("%-34s %14d" % ("target: 1 + ceil(devices/page)", target))
    print("%-34s %14.1f %14s" % ("median ms per cycle", q["median_ms_per_cycle"],
                                 "%.1f" % peer["median_ms_per_cycle"] if peer else "-"))
    print("%-34s %14.1f %14s" % ("double handler ms per cycle", q["double_handler_ms_per_cycle"],
                                 "%.1f" % peer["double_handler_ms_per_cycle"] if peer else "-"))
    share = q["double_handler_ms_per_cycle"] / q["median_ms_per_cycle"] if q["median_ms_per_cycle"] else 0
    print("%-34s %13.0f%% %14s" % ("double's share of the cycle", 100 * share,
                                   "%.0f%%" % (100 * peer["double_handler_ms_per_cycle"] / peer["median_ms_per_cycle"])
                                   if peer and peer["median_ms_per_cycle"] else "-"))
    if peer:
        print("ratio peer/query: requests %.1fx, time %.1fx" % (peer["requests_per_cycle"] / q["requests_per_cycle"],
                                                                 peer["median_ms_per_cycle"] / q["median_ms_per_cycle"]))
    print(json.dumps({"query": q, "peer": peer, "target_requests_per_cycle": target}))
    if q["requests_per_cycle"] > target:
        print("FAIL: requests per cycle above the target", file=sys.stderr)
        return 1
    if q["targeted"] != args.devices or q["succeeded"] != args.devices:
        print("FAIL: the poll did not see the whole fleet succeed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
