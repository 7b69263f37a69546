#!/usr/bin/python3
"""Create a module's container from a deployment manifest the way the IoT Edge runtime does (issue 13 item 4).

    agent_create.py --host unix:///…/docker.sock MANIFEST [--module NAME] [--port N] [--pull] [--start]
                    [--print-body]

MANIFEST is a generated deployment manifest (config/deployment.<platform>.json). For the module (the only
custom module when --module is not given) it reads, as the agent does:
  settings.image         trimmed, ":latest" added when there is no tag; a "$upstream" image is refused
  settings.createOptions createOptions, createOptions01 … createOptionsNN (at most 100, numbered without
                         gaps, sorted by name), concatenated and parsed as JSON ("" / "null" = {})
  env                    {"NAME": {"value": "…"}}
and builds the Engine API create body as aziot-edged does: createOptions is the body; Image = the image;
Env = the module's env merged with createOptions' Env (createOptions wins on the same name; sorted by
name); Labels += net.azure-devices.edge.owner=Microsoft.Azure.Devices.Edge.Agent and
net.azure-devices.edge.original-image=IMAGE; container name = the module name.
docs/design/container-tests.md lists the agent's source for each rule, and the deviations the tests make:
  - HostConfig.NetworkMode "host" and no NetworkingConfig (the agent attaches "azure-iot-edge"; the
    private engine has no bridge), so PortBindings do nothing;
  - PORT is overridden (after the merge) with a free port, so parallel tests do not collide on the host
    network; the module listens on $PORT;
  - no IOTEDGE_* variables and no workload-socket bind (there is no aziot-edged or edgeHub here): the
    module serves HTTP only.

Standard library only; run with /usr/bin/python3. As a module: module_spec(), create_body(), create().
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import engine  # noqa: E402

OWNER_LABEL = ("net.azure-devices.edge.owner", "Microsoft.Azure.Devices.Edge.Agent")
ORIGINAL_IMAGE_LABEL = "net.azure-devices.edge.original-image"
MAX_CHUNKS = 100
SYSTEM_MODULES = ("edgeAgent", "edgeHub")
_IMAGE_RE = re.compile(r"^(?P<repo>([^/]*/)*)(?P<image>[^/:]+)(?P<tag>:[^/:]+)?$")
_CHUNK_RE = re.compile(r"^createOptions(?P<num>[0-9]*)$")


class ManifestError(Exception):
    pass


def normalize_image(image):
    """The agent's DockerConfig.ValidateAndGetImage: trim, refuse $upstream (needs a parent), add :latest."""
    if not isinstance(image, str) or not image.strip():
        raise ManifestError("settings.image is missing or empty")
    image = image.strip()
    if image.startswith("$"):
        raise ManifestError(f"image {image}: $upstream images need a parent device (not supported here)")
    m = _IMAGE_RE.match(image)
    if not m:
        raise ManifestError(f"Image {image} is not in the right format")
    return image if m.group("tag") else image + ":latest"


def join_create_options(settings):
    """createOptions + createOptions01… in name order, validated as the agent's ChunkedProperty does."""
    chunks = sorted(((k, v) for k, v in settings.items() if _CHUNK_RE.match(k)), key=lambda kv: kv[0])
    parts = []
    for i, (key, value) in enumerate(chunks[:MAX_CHUNKS]):
        num = _CHUNK_RE.match(key).group("num")
        if i == 0 and num != "":
            raise ManifestError(f'chunked field "createOptions": expected createOptions first, found {key}')
        if i > 0 and (num == "" or int(num) != i):
            raise ManifestError(f'chunked field "createOptions": expected createOptions{i:02d}, found {key}')
        if isinstance(value, (dict, list)):  # a template-style object (never chunked): take it as JSON
            value = json.dumps(value)
        parts.append("" if value is None else str(value))
    text = "".join(parts)
    if not text.strip() or text.strip().lower() == "null":
        return {}
    try:
        options = json.loads(text)
    except ValueError as e:
        raise ManifestError(f"createOptions is not JSON: {e}") from None
    if not isinstance(options, dict):
        raise ManifestError("createOptions is not a JSON object")
    return options


def module_spec(manifest, module=None):
    """(name, image, createOptions dict, env dict) of one module of a deployment manifest."""
    try:
        modules = manifest["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"]
    except (KeyError, TypeError):
        raise ManifestError('no modulesContent.$edgeAgent["properties.desired"].modules') from None
    if module is None:
        custom = [n for n in modules if n not in SYSTEM_MODULES]
        if len(custom) != 1:
            raise ManifestError(f"name the module (--module): the manifest has {sorted(custom)}")
        module = custom[0]
    if module not in modules:
        raise ManifestError(f"no module {module!r} in the manifest (has {sorted(modules)})")
    m = modules[module]
    if m.get("type", "docker") != "docker":
        raise ManifestError(f"module {module}: type {m.get('type')!r} is not docker")
    settings = m.get("settings") or {}
    env = {}
    for name, val in (m.get("env") or {}).items():
        v = val.get("value") if isinstance(val, dict) else val
        env[name] = "" if v is None else (v if isinstance(v, str) else json.dumps(v))
    return module, normalize_image(settings.get("image")), join_create_options(settings), env


def merge_env(create_env, module_env):
    """aziot-edged's merge_env: the module's env, then createOptions' Env over it; sorted by name."""
    merged = dict(module_env)
    for entry in create_env or []:
        key, _, value = entry.partition("=")
        merged[key] = value
    return [f"{k}={merged[k]}" for k in sorted(merged)]


def create_body(image, create_options, env, port=None, network_mode="host"):
    """The Engine API body of POST /containers/create for this module (deviations: see the module doc)."""
    body = json.loads(json.dumps(create_options))  # a copy
    body["Image"] = image
    merged = merge_env(body.get("Env"), env)
    if port is not None:
        merged = [e for e in merged if not e.startswith("PORT=")] + [f"PORT={port}"]
        merged.sort(key=lambda e: e.partition("=")[0])
    body["Env"] = merged
    labels = dict(body.get("Labels") or {})
    labels[OWNER_LABEL[0]] = OWNER_LABEL[1]
    labels[ORIGINAL_IMAGE_LABEL] = image
    body["Labels"] = labels
    if network_mode is not None:
        host_config = dict(body.get("HostConfig") or {})
        host_config["NetworkMode"] = network_mode
        body["HostConfig"] = host_config
        body.pop("NetworkingConfig", None)
    return body


def split_image(image):
    """repo, tag of a normalized image (a digest reference keeps its @sha256 part in repo, tag "")."""
    if "@" in image:
        return image, ""
    repo, _, tag = image.rpartition(":")
    return repo, tag


def create(client, manifest, module=None, port=None, pull=False, start=False):
    """Create (and optionally pull first, start after) the module's container. Returns (id, name, body)."""
    if isinstance(manifest, str):
        with open(manifest) as f:
            manifest = json.load(f)
    name, image, options, env = module_spec(manifest, module)
    if pull:
        client.pull(*split_image(image))
    body = create_body(image, options, env, port=port)
    cid = client.create(body, name=name)
    if start:
        client.start(cid)
    return cid, name, body


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("manifest")
    ap.add_argument("--host", required=True, help="unix:///path/docker.sock of the engine")
    ap.add_argument("--module")
    ap.add_argument("--port", type=int, help="override PORT (the module listens on $PORT)")
    ap.add_argument("--pull", action="store_true")
    ap.add_argument("--start", action="store_true")
    ap.add_argument("--print-body", action="store_true", help="print the create body instead of creating")
    a = ap.parse_args(argv)
    try:
        with open(a.manifest) as f:
            manifest = json.load(f)
        if a.print_body:
            _, image, options, env = module_spec(manifest, a.module)
            print(json.dumps(create_body(image, options, env, port=a.port), indent=2, sort_keys=True))
            return 0
        if not a.host.startswith("unix://"):
            raise ManifestError("--host must be unix:///PATH")
        cid, _, _ = create(engine.Client(a.host[len("unix://"):]), manifest, a.module, a.port, a.pull, a.start)
        print(cid)
        return 0
    except (ManifestError, engine.EngineError, OSError, ValueError) as e:
        print(f"agent_create: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
