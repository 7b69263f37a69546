#!/usr/bin/python3
"""A strict IoT Hub service test double over HTTPS (docs/design/iothub.md §13).

Run with /usr/bin/python3 (Debian's interpreter). It serves the REST endpoints edgeship uses on
127.0.0.1 with a certificate made at test time, and enforces the reference's rules so client bugs
surface in tests:

  auth         SharedAccessSignature parse, known skn, sr segment-prefix of host + path, se in the
               future (with an optional clock offset), sig recomputed (both %2F and %2f signings)
  api-version  400 when missing or unknown
  body         400 when a POST/PUT body is not JSON or Content-Type is not application/json
  ids          raw and percent-encoded path segments; 404 DeviceNotFound / ModuleNotFound
  apply        applyConfigurationContent: 204; 400 for a non-edge device; bumps desired $version of
               every twin it writes; no pre-existing user-module identities required
  configs      create-only without If-Match (200; 409 ConfigurationAlreadyExists); update with If-Match:
               a quoted etag, "*" or bare * (another unquoted value: 409), 412 on mismatch; DELETE with
               or without If-Match; content is immutable; 204 on delete; at most 100 (free: 10); etag,
               timestamps, systemMetrics
  twin rules   string values <= 4096 bytes, desired <= 32 KB (403 DeviceModelMaxPropertiesExceeded),
               keys without '.', '$', space or control characters, depth <= 10, contiguous
               createOptionsNN chunks
  targeting    configurations.<id>.status Applied/Targeted by priority, ties by creation time;
               layered deployments merged over the base; evaluated asynchronously: a create, update
               or delete reaches the devices targeting_seconds later (scenario key, default 0.4 s), as
               the hub evaluates target conditions in the background (configurations given in the
               scenario are in place from the start)
  throttle     429 ThrottlingException: the iothub-errorcode header, the body's ErrorCode and the
               errorCode number (429001) agree, and so do Retry-After and the body's "Wait N seconds"
               (N: scenario key retry_after, default 1); 5xx storms
  query        POST /devices/query, JSON array, x-ms-max-item-count pages, x-ms-continuation
  errors       classic or JSON-in-Message bodies, always with iothub-errorcode; the numbers are
               IotHubServiceErrorCode's (Azure/azure-iot-sdk-csharp previews/v2,
               iothub/service/src/Exceptions/IotHubServiceErrorCode.cs: DeviceNotFound 404001 :130,
               ModuleNotFound 404010 :144, ConfigurationNotFound 404301 :160, PreconditionFailed 412001
               :198, ThrottlingException 429001 :239, ServerError 500001 :279); a name without a number
               there gets status * 1000

Simulated edge agents report on $edgeAgent after a per-device delay, according to a behaviour:
success, image_pull_failure (500 for ever), slow_pull (500 "The operation was canceled" for
pull_seconds, then 200), startup_backoff (one backoff at start-up, then running), crash_loop (backoff
with restarts every restart_seconds until MaxRestartCount 20, then failed), config_error,
never_connects, old_agent (version 1.1.18, otherwise success: like agents before 1.2.0 it keeps
lastDesiredVersion when a new desired version holds the modules it already runs, Azure/iotedge#4166). Like the real agent (Azure/iotedge DockerConfig.cs ValidateAndGetImage) the reported
image is the desired one trimmed, with ":latest" added when untagged and "$upstream" rewritten to
parent.local. Timings (scenario keys, seconds) are short so e2e cases stay fast. Test hooks live under
/_double/ (no auth; not an IoT Hub path): log, stats, set, report, reset_stats.

Usage: iothub_double.py --cert C --key K --scenario S.json --port-file F
"""

import argparse
import base64
import copy
import datetime
import email.utils
import hashlib
import hmac
import http.server
import json
import os
import random
import re
import socketserver
import ssl
import sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import query as hubquery  # noqa: E402

API_VERSIONS = {"2020-09-30", "2021-04-12", "2024-03-31"}
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$")
CONFIG_ID_RE = re.compile(r"^[a-z0-9\-+%_*!']{1,128}$")
KEY_BAD = re.compile(r"[.$ \x00-\x1f\x7f]")
CREATE_OPTIONS_RE = re.compile(r"^createOptions(\d\d)?$")
# IotHubServiceErrorCode (Azure/azure-iot-sdk-csharp previews/v2, iothub/service/src/Exceptions/
# IotHubServiceErrorCode.cs). Names the SDK does not number (ConfigurationAlreadyExists,
# DeviceModelMaxPropertiesExceeded) get status * 1000, which names nothing.
ERROR_NUMBERS = {
    "ArgumentInvalid": 400004, "IotHubFormatError": 400006, "IotHubUnauthorizedAccess": 401002,
    "IotHubQuotaExceeded": 403002, "DeviceNotFound": 404001, "ModuleNotFound": 404010,
    "ConfigurationNotFound": 404301, "RequestTimeout": 408000, "DeviceAlreadyExists": 409001,
    "PreconditionFailed": 412001, "ThrottlingException": 429001, "ThrottlingBacklogTimeout": 429003,
    "ServerError": 500001, "ServiceUnavailable": 503001,
}


class HubError(Exception):
    def __init__(self, status, name, text):
        super().__init__(text)
        self.status = status
        self.name = name
        self.text = text


class _Answered(Exception):
    """The handler already wrote its answer (a 429 from throttle mode)."""
    def __init__(self, status):
        super().__init__(status)
        self.status = status


class Drop(Exception):
    """Close the connection without answering (after the request took effect)."""


def agent_image(image):
    """The image the edge agent reports for a desired one (Azure/iotedge DockerConfig.cs:93-114)."""
    image = image.strip()
    if image.startswith("$upstream"):
        image = "parent.local" + image[len("$upstream"):]
    if image and ":" not in image.rsplit("/", 1)[-1] and "@" not in image:
        image += ":latest"
    return image


def now_iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def etag_for(n):
    return base64.b64encode(str(n).encode()).decode()


def deep_merge(dst, patch):
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            deep_merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)
    return dst


def set_path(doc, dotted, value):
    parts = dotted.split(".")
    cur = doc
    for p in parts[:-1]:
        if not isinstance(cur.get(p), dict):
            cur[p] = {}
        cur = cur[p]
    cur[parts[-1]] = copy.deepcopy(value)


def check_twin_rules(module, desired):
    """docs/design/iothub.md §11.2 and §13 twin rules."""
    def walk(node, depth, path):
        if depth > 10:
            raise HubError(400, "ArgumentInvalid", "Nesting depth of %s exceeds 10" % path)
        if isinstance(node, dict):
            keys = list(node.keys())
            for k in keys:
                if len(k.encode()) > 1024:
                    raise HubError(400, "ArgumentInvalid", "Property key length should be maximum 1024 bytes")
                if KEY_BAD.search(k):
                    raise HubError(400, "ArgumentInvalid",
                                   "Property name '%s' contains an invalid character ('.', '$', space or control)" % k)
                walk(node[k], depth + 1, path + "." + k)
            chunks = sorted(int(m.group(1) or 0) for m in (CREATE_OPTIONS_RE.match(k) for k in keys) if m)
            if chunks and chunks != list(range(len(chunks))):
                raise HubError(400, "ArgumentInvalid",
                               "createOptions chunks of %s are not contiguous" % path)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, depth + 1, "%s[%d]" % (path, i))
        elif isinstance(node, str):
            if len(node.encode()) > 4096:
                raise HubError(400, "ArgumentInvalid", "Property or Tag value should be maximum 4096 bytes")
    walk(desired, 1, module)
    size = len(json.dumps(desired, separators=(",", ":")).encode())
    if size > 32 * 1024:
        raise HubError(403, "DeviceModelMaxPropertiesExceeded",
                       "'Properties.Desired' size should be less than 32768 bytes (module %s: %d)" % (module, size))


def content_to_twins(modules_content):
    """modulesContent -> {module: desired} plus layered {module: [(path, value)]}."""
    full, layered = {}, {}
    if not isinstance(modules_content, dict):
        raise HubError(400, "ArgumentInvalid", "modulesContent must be an object")
    for module, body in modules_content.items():
        if not isinstance(body, dict):
            raise HubError(400, "ArgumentInvalid", "content of module %s must be an object" % module)
        for key, value in body.items():
            if key == "properties.desired":
                if not isinstance(value, dict):
                    raise HubError(400, "ArgumentInvalid", "properties.desired of %s must be an object" % module)
                full[module] = value
            elif key.startswith("properties.desired."):
                layered.setdefault(module, []).append((key[len("properties.desired."):], value))
            else:
                raise HubError(400, "ArgumentInvalid", "unexpected key '%s' in module %s" % (key, module))
    return full, layered


class Twin:
    def __init__(self, device_id, module_id):
        self.device_id = device_id
        self.module_id = module_id
        self.desired = {}
        self.desired_version = 1
        self.reported = {}
        self.reported_version = 1
        self.version = 1

    def set_desired(self, desired):
        self.desired = copy.deepcopy(desired)
        self.desired_version += 1
        self.version += 1


class Device:
    def __init__(self, hub, device_id, edge, tags=None, behavior="success", delay=0.0):
        self.id = device_id
        self.hub = hub
        self.edge = edge
        self.tags = tags or {}
        self.behavior = behavior
        self.delay = float(delay)
        self.keys = (base64.b64encode(os.urandom(32)).decode(), base64.b64encode(os.urandom(32)).decode())
        self.generation = str(random.randint(10**17, 10**18))
        self.etag_n = 1
        self.twins = {}
        self.managed_by_device_content = False
        self.applied_configs = {}  # id -> "Applied" | "Targeted"
        self.changed_at = None  # when $edgeAgent's desired last changed
        self.agent_reported = {}
        self.agent_seen_version = None
        self.agent_applied = None  # the desired modules the agent last reconciled (old_agent)
        self.overrides = []  # (at_time, patch) from /_double/report
        if edge:
            self.twins["$edgeAgent"] = Twin(device_id, "$edgeAgent")
            self.twins["$edgeHub"] = Twin(device_id, "$edgeHub")

    def identity(self):
        return {
            "deviceId": self.id, "generationId": self.generation, "etag": etag_for(self.etag_n),
            "connectionState": "Disconnected" if self.behavior == "never_connects" or not self.edge else "Connected",
            "status": "enabled", "statusReason": None,
            "connectionStateUpdatedTime": "0001-01-01T00:00:00Z", "statusUpdatedTime": "0001-01-01T00:00:00Z",
            "lastActivityTime": "0001-01-01T00:00:00Z", "cloudToDeviceMessageCount": 0,
            "authentication": {"symmetricKey": {"primaryKey": self.keys[0], "secondaryKey": self.keys[1]},
                               "x509Thumbprint": {"primaryThumbprint": None, "secondaryThumbprint": None},
                               "type": "sas"},
            "capabilities": {"iotEdge": self.edge},
        }

    def write_content(self, full, layered, t):
        for module, desired in full.items():
            twin = self.twins.setdefault(module, Twin(self.id, module))
            twin.set_desired(desired)
        for module, items in layered.items():
            twin = self.twins.setdefault(module, Twin(self.id, module))
            d = copy.deepcopy(twin.desired)
            for path, value in items:
                set_path(d, path, value)
            twin.set_desired(d)
        if "$edgeAgent" in full or "$edgeAgent" in layered:
            self.changed_at = t

    # --- the simulated edge agent -------------------------------------------------------------
    def refresh_agent(self, t):
        agent = self.twins.get("$edgeAgent")
        if agent is None or self.behavior == "never_connects":
            return
        want = agent.desired_version
        if self.changed_at is not None and self.agent_seen_version != want and t - self.changed_at >= self.delay:
            self.agent_seen_version = want
            previous = self.agent_reported
            self.agent_reported = self.simulate(agent, want, t)
            spec = {k: agent.desired.get(k) for k in ("modules", "systemModules", "runtime")}
            if self.behavior == "old_agent" and previous.get("lastDesiredVersion") is not None and \
                    spec == self.agent_applied:
                # Before 1.2.0 an empty reconcile plan left the agent's current config (and so the reported
                # lastDesiredVersion) where it was (Azure/iotedge Agent.cs before commit 087de0b).
                self.agent_reported["lastDesiredVersion"] = previous["lastDesiredVersion"]
            self.agent_applied = spec
        elapsed = t - (self.changed_at or t) - self.delay
        if self.behavior == "crash_loop" and self.agent_reported.get("modules"):
            for m in self.agent_reported["modules"].values():
                if m.get("runtimeStatus") in ("backoff", "failed"):
                    n = min(20, 1 + int(elapsed / self.hub.timing("restart_seconds", 0.1)))
                    m["restartCount"] = n
                    m["runtimeStatus"] = "failed" if n >= 20 else "backoff"
        if self.behavior == "startup_backoff" and self.agent_reported.get("modules"):
            if elapsed >= self.hub.timing("backoff_seconds", 1.0):
                for m in self.agent_reported["modules"].values():
                    if m.get("runtimeStatus") == "backoff":
                        m.update({"runtimeStatus": "running", "statusDescription": "running"})
        if self.behavior == "slow_pull" and self.agent_seen_version is not None and \
                self.agent_reported.get("lastDesiredStatus", {}).get("code") == 500 and \
                elapsed >= self.hub.timing("pull_seconds", 1.5):
            self.agent_reported = self.simulate(self.twins["$edgeAgent"], self.agent_seen_version, t, pulled=True)

    def simulate(self, agent, version, t, pulled=False):
        d = agent.desired
        prev = self.agent_reported
        agent_version = "1.1.18" if self.behavior == "old_agent" else "1.4.20"
        rep = {"schemaVersion": "1.1", "version": {"version": agent_version, "build": "1", "commit": "test"},
               "lastDesiredVersion": version,
               "runtime": {"platform": {"os": "linux", "architecture": "x86_64", "version": "1.4.20"},
                           "type": "docker", "settings": d.get("runtime", {}).get("settings", {})}}

        def running(spec, status=None):
            return {"runtimeStatus": status or spec.get("status", "running"), "status": spec.get("status", "running"),
                    "restartPolicy": spec.get("restartPolicy", "always"), "exitCode": 0, "restartCount": 0,
                    "statusDescription": "running", "lastStartTimeUtc": now_iso(t), "lastExitTimeUtc": now_iso(0),
                    "version": spec.get("version", "1.0"),
                    "settings": {"image": agent_image(spec.get("settings", {}).get("image", "")),
                                 "imageHash": "sha256:" + hashlib.sha256(
                                     spec.get("settings", {}).get("image", "").encode()).hexdigest()}}

        sysmods = d.get("systemModules", {})
        rep["systemModules"] = {
            "edgeAgent": dict(running(sysmods.get("edgeAgent", {}), "running")),
            "edgeHub": running(sysmods.get("edgeHub", {})),
        }
        mods = d.get("modules", {})
        if self.behavior == "slow_pull" and not pulled:
            rep["lastDesiredStatus"] = {"code": 500, "description": "Error calling Create module score: "
                                        "The operation was canceled."}
            rep["modules"] = copy.deepcopy(prev.get("modules", {}))
        elif self.behavior == "image_pull_failure":
            rep["lastDesiredStatus"] = {"code": 500, "description": "Error calling Create module: failed to pull "
                                        "image: manifest unknown for " +
                                        ", ".join(m.get("settings", {}).get("image", "") for m in mods.values())}
            rep["modules"] = copy.deepcopy(prev.get("modules", {}))  # old images keep running, new ones absent
        elif self.behavior == "config_error":
            rep["lastDesiredStatus"] = {"code": 400, "description": "ConfigFormatError: createOptions is not JSON"}
            rep["modules"] = copy.deepcopy(prev.get("modules", {}))
        else:
            rep["lastDesiredStatus"] = {"code": 200, "description": ""}
            rep["modules"] = {}
            for name, spec in mods.items():
                m = running(spec)
                if self.behavior in ("crash_loop", "startup_backoff") and spec.get("status", "running") == "running":
                    m.update({"runtimeStatus": "backoff", "exitCode": 139, "restartCount": 1,
                              "statusDescription": "module exited with code 139 (segmentation fault)"})
                rep["modules"][name] = m
        return rep

    def agent_twin_reported(self, t):
        self.refresh_agent(t)
        rep = copy.deepcopy(self.agent_reported)
        for at, patch in self.overrides:
            if t >= at:
                deep_merge(rep, patch)
        rep["$version"] = self.twins["$edgeAgent"].reported_version
        return rep


class Hub:
    def timing(self, key, default):
        return float(self.scenario.get(key, default))

    def __init__(self, scenario):
        self.lock = threading.RLock()
        self.scenario = scenario
        self.host = scenario.get("hub_host", "testhub.azure-devices.net").lower()
        self.policies = scenario["policies"]
        self.clock_offset = float(scenario.get("clock_offset", 0))
        self.free = bool(scenario.get("free", False))
        self.max_page = int(scenario.get("max_page_size", 100))
        self.error_form = scenario.get("error_form", "classic")
        self.throttle = int(scenario.get("throttle", 0))  # next N requests get 429 (-1: all)
        self.throttle_ops = scenario.get("throttle_ops")  # None: every operation
        self.storm = scenario.get("storm")  # {"status": 503, "count": N}
        self.drop = scenario.get("drop")  # {"method": "PUT", "prefix": "/configurations/", "count": 1}
        self.devices = {}
        self.configs = {}
        self.config_seq = 0
        self.retarget_at = None  # when the background evaluation of target conditions runs next
        self.log = []
        self.handler_seconds = 0.0
        self.cursors = {}
        for d in scenario.get("devices", []):
            self.add_device(d["id"], d.get("edge", True), d.get("tags"), d.get("behavior", "success"), d.get("delay", 0))
        fleet = scenario.get("fleet")
        if fleet:
            for i in range(int(fleet["count"])):
                self.add_device("%s%05d" % (fleet.get("prefix", "dev"), i), fleet.get("edge", True),
                                fleet.get("tags"), fleet.get("behavior", "success"), fleet.get("delay", 0))
        for c in scenario.get("configurations", []):
            self.create_config(c, self.now())
            self.retarget(self.now())

    def now(self):
        return time.time() + self.clock_offset

    def add_device(self, device_id, edge, tags, behavior, delay):
        dev = Device(self, device_id, edge, tags, behavior, delay)
        self.devices[device_id] = dev
        return dev

    # --- configurations ---------------------------------------------------------------------
    def config_view(self, c):
        out = copy.deepcopy(c["body"])
        cid = c["body"]["id"]
        applied = [d for d in self.devices.values() if d.applied_configs.get(cid) == "Applied"]
        targeted = [d for d in self.devices.values() if cid in d.applied_configs]
        q = "from devices.modules where moduleId='$edgeAgent' and configurations.[[%s]].status = 'Applied'" % cid
        out.update({
            "etag": etag_for(c["etag_n"]),
            "createdTimeUtc": now_iso(c["created"]),
            "lastUpdatedTimeUtc": now_iso(c["updated"]),
            "contentType": "assignment",
            "systemMetrics": {
                "queries": {
                    "targetedCount": "select deviceId from devices where capabilities.iotEdge = true and " +
                                     (c["body"].get("targetCondition") or "false"),
                    "appliedCount": "select deviceId " + q,
                    "reportedSuccessfulCount": "select deviceId " + q + " and properties.desired.$version = "
                    "properties.reported.lastDesiredVersion and properties.reported.lastDesiredStatus.code = 200",
                    "reportedFailedCount": "select deviceId " + q + " and properties.desired.$version = "
                    "properties.reported.lastDesiredVersion and properties.reported.lastDesiredStatus.code != 200",
                },
                "results": {"targetedCount": len(targeted), "appliedCount": len(applied)},
            },
        })
        out.setdefault("metrics", {"queries": {}})
        out["metrics"]["results"] = {}
        return out

    def validate_config_body(self, body, cid):
        if not isinstance(body, dict):
            raise HubError(400, "ArgumentInvalid", "configuration must be an object")
        if body.get("id") != cid:
            raise HubError(400, "ArgumentInvalid", "configuration id in the body does not match the URL")
        if body.get("schemaVersion") not in (None, "1.0", "2.0"):
            raise HubError(400, "ArgumentInvalid", "unknown schemaVersion")
        content = body.get("content")
        if not isinstance(content, dict) or not any(content.get(k) is not None for k in ("modulesContent",
                                                                                         "deviceContent",
                                                                                         "moduleContent")):
            raise HubError(400, "ArgumentInvalid", "content must have modulesContent, deviceContent or moduleContent")
        if not isinstance(body.get("priority", 0), int):
            raise HubError(400, "ArgumentInvalid", "priority must be an integer")
        if not isinstance(body.get("targetCondition", ""), str):
            raise HubError(400, "ArgumentInvalid", "targetCondition must be a string")
        try:
            hubquery.parse_condition(body.get("targetCondition", ""))
        except hubquery.QueryError as e:
            raise HubError(400, "ArgumentInvalid", "targetCondition: %s" % e)
        for name, q in (body.get("metrics") or {}).get("queries", {}).items():
            try:
                hubquery.parse_query(q)
            except hubquery.QueryError as e:
                raise HubError(400, "ArgumentInvalid", "metric %s: %s" % (name, e))
        if content.get("modulesContent") is not None:
            full, layered = content_to_twins(content["modulesContent"])
            for module, desired in full.items():
                check_twin_rules(module, desired)
            for module, items in layered.items():
                for path, value in items:
                    check_twin_rules(module, {path.split(".")[-1]: value} if not isinstance(value, dict) else value)

    def create_config(self, body, t):
        cid = body["id"]
        self.config_seq += 1
        self.configs[cid] = {"body": copy.deepcopy(body), "etag_n": 1, "created": t, "updated": t,
                             "seq": self.config_seq}
        self.configs[cid]["body"].pop("etag", None)
        self.schedule_retarget(t)

    def schedule_retarget(self, t):
        """The hub evaluates target conditions in the background: devices learn of a change later."""
        self.retarget_at = t + self.timing("targeting_seconds", 0.4)

    def run_due_retarget(self, t):
        if self.retarget_at is not None and t >= self.retarget_at:
            self.retarget_at = None
            self.retarget(t)

    def retarget(self, t):
        """docs/design/iothub.md §5 / §13: highest priority base deployment applies, ties to the newest; layered merge."""
        conds = {}
        for cid, c in self.configs.items():
            if not isinstance(c["body"].get("content", {}).get("modulesContent"), dict):
                conds[cid] = None  # a device configuration (ADM, modulesContent null): not an edge deployment
                continue
            try:
                conds[cid] = hubquery.parse_condition(c["body"].get("targetCondition", ""))
            except hubquery.QueryError:
                conds[cid] = None
        for dev in self.devices.values():
            if not dev.edge or dev.managed_by_device_content:
                continue
            doc = self.device_twin(dev)
            matching = [c for cid, c in self.configs.items()
                        if conds[cid] is not None and hubquery.evaluate(conds[cid], doc)]
            base = [c for c in matching if not self.is_layered(c)]
            layers = [c for c in matching if self.is_layered(c)]
            base.sort(key=lambda c: (c["body"].get("priority", 0), c["seq"]), reverse=True)
            layers.sort(key=lambda c: (c["body"].get("priority", 0), c["seq"]))
            status = {}
            for c in matching:
                status[c["body"]["id"]] = "Targeted"
            chosen = base[:1]
            if chosen:
                top = chosen[0]["body"].get("priority", 0)
                chosen += [c for c in layers if c["body"].get("priority", 0) > top]
            for c in chosen:
                status[c["body"]["id"]] = "Applied"
            old = {k for k, v in dev.applied_configs.items() if v == "Applied"}
            dev.applied_configs = status
            new = {k for k, v in status.items() if v == "Applied"}
            if new != old and chosen:
                full, _ = content_to_twins(chosen[0]["body"]["content"].get("modulesContent", {}))
                merged = {m: copy.deepcopy(d) for m, d in full.items()}
                for c in chosen[1:]:
                    _, layered = content_to_twins(c["body"]["content"].get("modulesContent", {}))
                    for module, items in layered.items():
                        for path, value in items:
                            set_path(merged.setdefault(module, {}), path, value)
                dev.write_content(merged, {}, t)

    @staticmethod
    def is_layered(c):
        mc = c["body"].get("content", {}).get("modulesContent", {})
        return any(k.startswith("properties.desired.") for v in mc.values() if isinstance(v, dict) for k in v)

    # --- twins ----------------------------------------------------------------------------------
    def device_twin(self, dev):
        return {"deviceId": dev.id, "etag": etag_for(dev.etag_n), "deviceEtag": etag_for(dev.etag_n),
                "version": 1, "status": "enabled", "connectionState": dev.identity()["connectionState"],
                "capabilities": {"iotEdge": dev.edge}, "tags": copy.deepcopy(dev.tags),
                "properties": {"desired": {"$version": 1}, "reported": {"$version": 1}}}

    def module_twin(self, dev, module_id, t):
        twin = dev.twins[module_id]
        reported = dev.agent_twin_reported(t) if module_id == "$edgeAgent" else dict(twin.reported,
                                                                                     **{"$version": twin.reported_version})
        desired = copy.deepcopy(twin.desired)
        desired["$version"] = twin.desired_version
        out = {"deviceId": dev.id, "moduleId": module_id, "etag": etag_for(twin.version),
               "deviceEtag": etag_for(dev.etag_n), "status": "enabled", "version": twin.version,
               "connectionState": dev.identity()["connectionState"],
               "properties": {"desired": desired, "reported": reported}}
        if dev.applied_configs and module_id in ("$edgeAgent", "$edgeHub"):
            out["configurations"] = {cid: {"status": s} for cid, s in dev.applied_configs.items()}
        return out


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; without TCP_NODELAY, Nagle + delayed ACK add ~40 ms per
    # keep-alive response, which would dominate every timing the benchmark reports.
    disable_nagle_algorithm = True
    server_version = "iothub-double/1.0"
    hub = None  # set in main

    def log_message(self, fmt, *args):  # keep stderr quiet; the request log is the record
        pass

    def date_time_string(self, timestamp=None):
        return email.utils.formatdate(self.hub.now() if timestamp is None else timestamp, usegmt=True)

    # --- plumbing -------------------------------------------------------------------------------
    def send_json(self, status, payload, headers=None):
        if getattr(self, "dropping", False):
            return status
        body = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)
        return status

    def send_error_body(self, err, headers=None):
        hub = self.hub
        tracking = uuid.uuid4().hex
        stamp = datetime.datetime.fromtimestamp(hub.now(), datetime.timezone.utc).strftime("%m/%d/%Y %H:%M:%S")
        if hub.error_form == "json":
            inner = {"errorCode": ERROR_NUMBERS.get(err.name, err.status * 1000), "trackingId": tracking + "-G:0",
                     "message": err.text, "timestampUtc": now_iso(hub.now())}
            payload = {"Message": json.dumps(inner), "ExceptionMessage": ""}
        else:
            payload = {"Message": "ErrorCode:%s;%s" % (err.name, err.text),
                       "ExceptionMessage": "Tracking ID:%s-G:0-TimeStamp:%s" % (tracking, stamp)}
        return self.send_json(err.status, payload, dict(headers or {}, **{"iothub-errorcode": err.name}))

    def handle_any(self):
        started = time.perf_counter()
        hub = self.hub
        raw_path = self.path
        parsed = urllib.parse.urlsplit(raw_path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        entry = {"method": self.command, "path": parsed.path, "query": parsed.query,
                 "has_auth": "Authorization" in self.headers,
                 "content_type": self.headers.get("Content-Type"), "if_match": self.headers.get("If-Match"),
                 "max_item_count": self.headers.get("x-ms-max-item-count"),
                 "continuation": self.headers.get("x-ms-continuation"),
                 "user_agent": self.headers.get("User-Agent"), "body_bytes": len(body)}
        status = 500
        self.dropping = False
        try:
            if parsed.path.startswith("/_double/"):
                status = self.control(parsed.path[len("/_double/"):], body)
                return
            with hub.lock:
                status = self.dispatch(parsed, body, entry)
        except Drop:
            status = 0
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
        except _Answered as a:
            entry["error"] = "ThrottlingException"
            status = a.status
        except HubError as err:
            entry["error"] = err.name
            status = self.send_error_body(err)
        except Exception as e:  # a double bug: make it loud
            entry["error"] = "double crashed: %r" % e
            status = self.send_error_body(HubError(500, "ServerError", "double crashed: %r" % e))
        finally:
            if not parsed.path.startswith("/_double/"):
                took = time.perf_counter() - started
                entry["status"] = status
                entry["ms"] = round(took * 1000, 3)
                with hub.lock:
                    hub.handler_seconds += took
                    hub.log.append(entry)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = handle_any

    # --- rules applied to every request -----------------------------------------------------------
    def check_auth(self, path, entry):
        hub = self.hub
        header = self.headers.get("Authorization", "")
        fail = HubError(401, "IotHubUnauthorizedAccess", "Unauthorized")
        if not header.startswith("SharedAccessSignature "):
            entry["auth_error"] = "no SharedAccessSignature"
            raise fail
        fields = {}
        for part in header[len("SharedAccessSignature "):].split("&"):
            if "=" in part:
                k, v = part.split("=", 1)
                fields[k.strip()] = urllib.parse.unquote(v.strip())
        for k in ("sr", "sig", "se"):
            if k not in fields:
                entry["auth_error"] = "missing " + k
                raise fail
        skn = fields.get("skn", "")
        if skn not in hub.policies:
            entry["auth_error"] = "unknown policy"
            raise fail
        try:
            se = int(fields["se"])
        except ValueError:
            entry["auth_error"] = "bad se"
            raise fail
        if se <= hub.now():
            entry["auth_error"] = "expired"
            raise fail
        sr = fields["sr"].lower()
        target = hub.host + urllib.parse.unquote(path)
        if not (target == sr or target.startswith(sr.rstrip("/") + "/")):
            entry["auth_error"] = "sr is not a prefix of the request"
            raise fail
        key = base64.b64decode(hub.policies[skn])
        ok = False
        for encoded in {urllib.parse.quote(fields["sr"], safe=""),
                        re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(),
                               urllib.parse.quote(fields["sr"], safe=""))}:
            expected = base64.b64encode(hmac.new(key, ("%s\n%s" % (encoded, fields["se"])).encode(),
                                                 hashlib.sha256).digest()).decode()
            ok = ok or hmac.compare_digest(expected, fields["sig"])
        if not ok:
            entry["auth_error"] = "bad signature"
            raise fail
        entry["skn"] = skn

    def dispatch(self, parsed, body, entry):
        hub = self.hub
        t = hub.now()
        segments = [urllib.parse.unquote(s) for s in parsed.path.split("/")[1:]]
        hub.run_due_retarget(t)
        op = self.operation(segments)
        entry["op"] = op
        if hub.storm and hub.storm.get("count", -1) != 0:
            if hub.storm.get("count", -1) > 0:
                hub.storm["count"] -= 1
            st = int(hub.storm.get("status", 503))
            raise HubError(st, {503: "ServiceUnavailable", 408: "RequestTimeout"}.get(st, "ServerError"),
                           "The service is temporarily unavailable")
        if hub.throttle != 0 and (hub.throttle_ops is None or op in hub.throttle_ops):
            if hub.throttle > 0:
                hub.throttle -= 1
            self.throttled({"configuration": "ConfigurationWrite", "query": "Query"}.get(op, "CRUD"))
        self.check_auth(parsed.path, entry)
        params = urllib.parse.parse_qs(parsed.query)
        version = params.get("api-version", [None])[0]
        entry["api_version"] = version
        if version is None:
            raise HubError(400, "ArgumentInvalid", "api-version is required")
        if version not in API_VERSIONS:
            raise HubError(400, "ArgumentInvalid", "api-version '%s' is not supported" % version)
        payload = None
        if self.command in ("POST", "PUT", "PATCH"):
            ctype = (self.headers.get("Content-Type") or "").lower()
            if not ctype.startswith("application/json"):
                raise HubError(400, "IotHubFormatError", "Content-Type must be application/json")
            try:
                payload = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise HubError(400, "IotHubFormatError", "the request body is not JSON")
        drop = hub.drop
        self.dropping = bool(drop and drop.get("count", 0) > 0 and self.command == drop.get("method") and
                             parsed.path.startswith(drop.get("prefix", "")))
        status = self.route(segments, payload, params, t)
        if self.dropping:
            # The request took effect, but its answer is lost: close without writing anything.
            drop["count"] -= 1
            raise Drop()
        return status

    def throttled(self, kind):
        # docs/design/iothub.md §11.1 / §13: 429 ThrottlingException. Header, body and number name the same error, and
        # Retry-After says what the body says.
        wait = int(self.hub.scenario.get("retry_after", 1))
        err = HubError(429, "ThrottlingException", "The request has been throttled. Wait %d seconds and try "
                                                   "again. Operation type: %s" % (wait, kind))
        self.send_error_body(err, {"Retry-After": str(wait)})
        raise _Answered(429)

    @staticmethod
    def operation(segments):
        if segments and segments[0] == "configurations":
            return "configuration"
        if segments[:2] == ["devices", "query"]:
            return "query"
        if segments and segments[0] == "twins":
            return "twin_read"
        if len(segments) >= 3 and segments[2] == "applyConfigurationContent":
            return "apply"
        return "registry"

    def device(self, device_id):
        if not DEVICE_ID_RE.match(device_id):
            raise HubError(400, "ArgumentInvalid", "device id '%s' is not valid" % device_id)
        dev = self.hub.devices.get(device_id)
        if dev is None:
            raise HubError(404, "DeviceNotFound", "Device %s not found" % device_id)
        return dev

    def route(self, s, payload, params, t):
        hub = self.hub
        m = self.command
        # devices ------------------------------------------------------------------------------
        if s[:1] == ["devices"] and len(s) == 2 and s[1] != "query":
            if m == "GET":
                return self.send_json(200, self.device(s[1]).identity())
            if m == "PUT":
                if not DEVICE_ID_RE.match(s[1]):
                    raise HubError(400, "ArgumentInvalid", "device id '%s' is not valid" % s[1])
                if not isinstance(payload, dict) or payload.get("deviceId") != s[1]:
                    raise HubError(400, "ArgumentInvalid", "deviceId in the body must match the URL")
                if s[1] in hub.devices:
                    if self.headers.get("If-Match") is None:
                        raise HubError(409, "DeviceAlreadyExists", "A device with ID '%s' is already registered"
                                       % s[1])
                    return self.send_json(200, hub.devices[s[1]].identity())
                edge = bool((payload.get("capabilities") or {}).get("iotEdge", False))
                b = hub.scenario.get("new_device", {})
                dev = hub.add_device(s[1], edge, None, b.get("behavior", "success"), b.get("delay", 0))
                hub.retarget(t)
                return self.send_json(200, dev.identity())
        if s[:1] == ["devices"] and len(s) == 3 and s[2] == "modules" and m == "GET":
            dev = self.device(s[1])
            return self.send_json(200, [{"moduleId": mid, "deviceId": dev.id, "managedBy": "IotEdge",
                                         "connectionState": "Disconnected", "authentication": {"type": "sas"}}
                                        for mid in sorted(dev.twins)])
        if s[:1] == ["devices"] and len(s) == 3 and s[2] == "applyConfigurationContent" and m == "POST":
            dev = self.device(s[1])
            if not dev.edge:
                raise HubError(400, "ArgumentInvalid", "Not an Azure IoT Edge device: %s" % dev.id)
            if not isinstance(payload, dict) or not any(k in payload for k in ("modulesContent", "deviceContent",
                                                                               "moduleContent")):
                raise HubError(400, "ArgumentInvalid", "body must have modulesContent")
            full, layered = content_to_twins(payload.get("modulesContent", {}))
            if layered:
                raise HubError(400, "ArgumentInvalid", "layered paths are only valid in deployments")
            for module, desired in full.items():
                check_twin_rules(module, desired)
            dev.managed_by_device_content = True
            dev.applied_configs = {}
            dev.write_content(full, {}, t)
            return self.send_json(204, None)
        if s == ["devices", "query"] and m == "POST":
            return self.query(payload, t)
        # twins -------------------------------------------------------------------------------
        if s[:1] == ["twins"] and len(s) == 4 and s[2] == "modules" and m == "GET":
            dev = self.device(s[1])
            if s[3] not in dev.twins:
                raise HubError(404, "ModuleNotFound", "Module %s not found on device %s" % (s[3], dev.id))
            return self.send_json(200, hub.module_twin(dev, s[3], t))
        if s[:1] == ["twins"] and len(s) == 2 and m == "GET":
            return self.send_json(200, hub.device_twin(self.device(s[1])))
        # configurations ----------------------------------------------------------------------
        if s == ["configurations"] and m == "GET":
            items = [hub.config_view(c) for c in sorted(hub.configs.values(), key=lambda c: c["seq"])]
            top = params.get("top", [None])[0]
            if top is not None:
                items = items[:int(top)]
            return self.send_json(200, items)
        if s[:1] == ["configurations"] and len(s) == 2:
            cid = s[1]
            if not CONFIG_ID_RE.match(cid):
                raise HubError(400, "ArgumentInvalid", "configuration id '%s' is not valid" % cid)
            existing = hub.configs.get(cid)
            if_match = self.headers.get("If-Match")
            if m == "GET":
                if existing is None:
                    raise HubError(404, "ConfigurationNotFound", "Configuration %s not found" % cid)
                return self.send_json(200, hub.config_view(existing))
            if m in ("PUT", "DELETE") and if_match is not None:
                quoted = len(if_match) >= 2 and if_match[0] == '"' and if_match[-1] == '"'
                tag = if_match[1:-1] if quoted else if_match
                if not quoted and if_match != "*":
                    raise HubError(409, "PreconditionFailed", "If-Match must be a quoted etag or *")
                if existing is None:
                    raise HubError(404, "ConfigurationNotFound", "Configuration %s not found" % cid)
                if tag != "*" and tag != etag_for(existing["etag_n"]):  # "*" quoted or bare: any etag
                    raise HubError(412, "PreconditionFailed", "etag mismatch for configuration %s" % cid)
            if m == "PUT":
                hub.validate_config_body(payload, cid)
                if if_match is None:
                    if existing is not None:
                        raise HubError(409, "ConfigurationAlreadyExists",
                                       "Configuration with id '%s' already exists." % cid)
                    if len(hub.configs) >= (10 if hub.free else 100):
                        raise HubError(403, "IotHubQuotaExceeded", "Maximum number of configurations reached")
                    hub.create_config(payload, t)
                    return self.send_json(200, hub.config_view(hub.configs[cid]))
                if payload.get("content") != existing["body"].get("content"):
                    raise HubError(400, "ArgumentInvalid", "Configuration content cannot be updated")
                body = existing["body"]
                for k in ("labels", "targetCondition", "priority", "metrics"):
                    if k in payload:
                        body[k] = copy.deepcopy(payload[k])
                if isinstance(body.get("metrics"), dict):
                    body["metrics"].pop("results", None)
                existing["etag_n"] += 1
                existing["updated"] = t
                hub.schedule_retarget(t)
                return self.send_json(200, hub.config_view(existing))
            if m == "DELETE":
                if existing is None:  # without If-Match (unconditional delete)
                    raise HubError(404, "ConfigurationNotFound", "Configuration %s not found" % cid)
                del hub.configs[cid]
                hub.schedule_retarget(t)
                return self.send_json(204, None)
        raise HubError(404, "ArgumentInvalid", "no such endpoint: %s %s" % (m, "/" + "/".join(s)))

    def query(self, payload, t):
        hub = self.hub
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise HubError(400, "ArgumentInvalid", "body must be {\"query\": \"...\"}")
        try:
            page = int(self.headers.get("x-ms-max-item-count") or 100)
        except ValueError:
            raise HubError(400, "ArgumentInvalid", "x-ms-max-item-count must be an integer")
        page = max(1, min(page, hub.max_page))
        token = self.headers.get("x-ms-continuation")
        if token:
            cursor = hub.cursors.get(token)
            if cursor is None or cursor["query"] != payload["query"]:
                raise HubError(400, "ArgumentInvalid", "invalid continuation token")
            results, offset = cursor["results"], cursor["offset"]
        else:
            try:
                q = hubquery.parse_query(payload["query"])
            except hubquery.QueryError as e:
                raise HubError(400, "ArgumentInvalid", "query: %s" % e)
            results = []
            for dev in sorted(hub.devices.values(), key=lambda d: d.id):
                docs = [hub.device_twin(dev)] if q.source == "devices" else \
                    [hub.module_twin(dev, mid, t) for mid in sorted(dev.twins)]
                for doc in docs:
                    if q.where is None or hubquery.evaluate(q.where, doc):
                        results.append(q.project(doc))
            offset = 0
        chunk = results[offset:offset + page]
        headers = {}
        if offset + page < len(results):
            nxt = base64.b64encode(os.urandom(12)).decode()
            hub.cursors[nxt] = {"query": payload["query"], "results": results, "offset": offset + page}
            if len(hub.cursors) > 200:
                hub.cursors.pop(next(iter(hub.cursors)))
            headers["x-ms-continuation"] = nxt
        headers["x-ms-item-type"] = "Twin"
        return self.send_json(200, chunk, headers)

    # --- hooks -----------------------------------------------------------------------------------
    def control(self, what, body):
        hub = self.hub
        data = json.loads(body.decode() or "null") if body else None
        with hub.lock:
            if what == "log":
                return self.send_json(200, hub.log)
            if what == "stats":
                return self.send_json(200, {"requests": len(hub.log), "handler_seconds": hub.handler_seconds})
            if what == "reset_stats":
                hub.log = []
                hub.handler_seconds = 0.0
                return self.send_json(200, {})
            if what == "set":
                for k in ("throttle", "throttle_ops", "storm", "drop", "error_form", "clock_offset"):
                    if k in data:
                        setattr(hub, k, data[k])
                for d in data.get("devices", []):
                    dev = hub.devices[d["id"]]
                    for k in ("behavior", "delay", "tags"):
                        if k in d:
                            setattr(dev, k, d[k])
                    if "tags" in d:
                        hub.retarget(hub.now())
                return self.send_json(200, {})
            if what == "report":
                dev = hub.devices[data["device"]]
                dev.overrides.append((hub.now() + float(data.get("delay", 0)), data["reported"]))
                return self.send_json(200, {})
            if what == "device":
                dev = hub.devices[data["device"]]
                return self.send_json(200, {"managed_by_device_content": dev.managed_by_device_content,
                                            "configurations": dev.applied_configs,
                                            "twins": {m: {"desired": tw.desired, "version": tw.desired_version}
                                                      for m, tw in dev.twins.items()}})
            if what == "configs":
                return self.send_json(200, sorted(hub.configs))
        return self.send_json(404, {"error": "unknown hook " + what})


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--port-file", required=True)
    args = ap.parse_args()
    with open(args.scenario) as f:
        scenario = json.load(f)
    Handler.hub = Hub(scenario)
    server = Server(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
