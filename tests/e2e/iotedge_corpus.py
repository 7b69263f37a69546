#!/usr/bin/python3
"""Real IoT Edge solutions and manifests written by others (../shared/corpus/iotedge, see its INDEX.md).

    iotedge_corpus.py EDGESHIP_EXE SOURCE_DIR templates|manifests

templates: `edgeship gen` for every template and platform INDEX.md names (T1-T24, layered L3-L7), each on
a copy of its solution; a generated manifest must parse, pass `edgeship validate` and keep every
createOptions chunk <= 512 characters; committed iotedgedev outputs are compared.
manifests: `edgeship validate` on every finished (F1-F16, T25-T27, committed outputs) and layered
(L1, L2) manifest and every invalid case (I1-I7): what the established tools accept is accepted (with
the warnings due), the invalid ones exit 3 naming a JSON path.

The corpus is read-only and is never written: each case works on a copy in a temporary directory.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

EXE, SRC, GROUP = sys.argv[1], sys.argv[2], sys.argv[3]
CORPUS = os.path.normpath(os.path.join(SRC, "..", "shared", "corpus", "iotedge"))
if not os.path.isfile(os.path.join(CORPUS, "INDEX.md")):
    sys.exit(f"FAIL: the IoT Edge corpus is missing: expected {CORPUS}/INDEX.md "
             "(the repository's sibling folder shared/corpus/iotedge)")

SHARED_LIB = "Azure__iotedgedev/tests/assets/test_solution_shared_lib"
IOTEDGEDEV_ENV = "Azure__iotedgedev/.env.tmp"
LORA = "Azure__iotedge-lorawan-starterkit/LoRaEngine"
CFG = "Azure__azure-iot-cli-extension/azext_iot/tests/iothub/configurations"
DEV = "Azure__azure-iot-cli-extension/azext_iot/tests/iothub/devices/device_configs"
E2E = "Azure__iotedge/e2e_deployment_files"
DOCS = "MicrosoftDocs__azure-docs/articles/iot-edge/how-to-deploy-cli-at-scale.md.snippets"
ASSETS = "Azure__iotedgedev/tests/assets"
TOOLKIT = "Azure__ai-toolkit-iot-edge/IoT Edge anomaly detection tutorial"
DASHBOARD_ENV = {"CONTAINER_REGISTRY_ADDRESS": "myacr.azurecr.io", "CONTAINER_REGISTRY_USERNAME": "u",
                 "CONTAINER_REGISTRY_PASSWORD": "p", "CONTAINER_VERSION_TAG": "1.0", "GRAFANA_ADMIN_PASSWORD": "pw"}

failures = []


def fail(case, msg):
    failures.append(f"{case}: {msg}")
    print(f"FAIL {case}: {msg}", flush=True)


def run(args, env=None, cwd=None):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), "NO_COLOR": "1"}
    e.update(env or {})
    p = subprocess.run([EXE] + args, capture_output=True, text=True, env=e, cwd=cwd, timeout=60)
    return p.returncode, p.stdout, p.stderr


def writable_copy(src, dst):
    shutil.copytree(src, dst, copy_function=shutil.copyfile, dirs_exist_ok=True)
    for root, dirs, files in os.walk(dst):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)


def chunks_ok(case, manifest):
    """Every createOptions chunk of every module is a string of <= 512 characters."""
    holder = manifest.get("content", manifest)
    mc = holder.get("modulesContent", holder.get("moduleContent", {}))
    settings = []
    for key, val in mc.get("$edgeAgent", {}).items():
        if key == "properties.desired":
            for group in ("systemModules", "modules"):
                settings += [m.get("settings", {}) for m in val.get(group, {}).values()]
        elif key.startswith("properties.desired.modules."):
            settings.append(val.get("settings", {}))
    for s in settings:
        for k, v in s.items():
            if k.startswith("createOptions"):
                if not isinstance(v, str) or len(v) > 512:
                    fail(case, f"createOptions chunk {k} is not a string of <= 512 characters")
    return True


def decoded_strings(value):
    """Every string in a document, with JSON inside strings (createOptions) decoded too."""
    out = []
    if isinstance(value, dict):
        for v in value.values():
            out += decoded_strings(v)
    elif isinstance(value, list):
        for v in value:
            out += decoded_strings(v)
    elif isinstance(value, str):
        out.append(value)
        if value.startswith("{"):
            try:
                out += decoded_strings(json.loads(value))
            except ValueError:
                pass
    return out


def normalized(manifest):
    """The manifest with createOptions chunks joined and parsed (key order inside them ignored)."""
    doc = json.loads(json.dumps(manifest))
    holder = doc.get("content", doc)
    mc = holder.get("modulesContent", holder.get("moduleContent", {}))
    for val in mc.get("$edgeAgent", {}).values():
        for group in ("systemModules", "modules"):
            for m in val.get(group, {}).values() if isinstance(val, dict) else []:
                s = m.get("settings", {})
                keys = sorted(k for k in s if k.startswith("createOptions"))
                joined = "".join(s.pop(k) for k in keys)
                if keys:
                    s["createOptions"] = json.loads(joined) if joined else ""
    return doc


# ---- gen ------------------------------------------------------------------------------------------
# (id, solution dir, template (relative to the solution), platform, env file (-> .env), variables,
#  expected): expected is "ok" (generated, valid; warnings allowed), ("exit", code, regex on stderr or
#  stdout), or ("reject", JSON path regex) for exit 3 with that path among the errors.
# extra: {"copy": [(corpus file, name in the solution)], "output": name, "images": [...],
#         "same_as": committed file (bytes), "json_as": golden (parsed, createOptions parsed),
#         "check": callable(manifest)}
GEN = [
    ("T1 shared-lib", SHARED_LIB, "deployment.template.json", "amd64", IOTEDGEDEV_ENV, {}, "ok",
     {"output": "config/deployment.amd64.json",
      "images": ["localhost:5000/sample_module:0.0.1-RC-amd64", "localhost:5000/sample_module_2:0.0.1-RC-amd64"]}),
    ("T1 shared-lib debug", SHARED_LIB, "deployment.debug.template.json", "amd64", IOTEDGEDEV_ENV, {}, "ok",
     {"images": ["localhost:5000/sample_module:0.0.1-RC-amd64.debug"]}),
    ("T1 shared-lib windows", SHARED_LIB, "deployment.template.json", "windows-amd64", IOTEDGEDEV_ENV, {}, "ok",
     {"output": "config/deployment.windows-amd64.json"}),
    # iotedgedev fails on Linux (FileNotFoundError): the Windows path works here
    ("T2 escapedpath", SHARED_LIB, "deployment.escapedpath.template.json", "amd64", IOTEDGEDEV_ENV, {}, "ok",
     {"images": ["localhost:5000/sample_module_2:0.0.1-RC-amd64"]}),
    ("T3 without $schema-template", SHARED_LIB, "deployment.template_without_schema_template.json", "amd64",
     IOTEDGEDEV_ENV, {}, "ok",
     {"copy": [(f"{ASSETS}/deployment.template_without_schema_template.json",
                "deployment.template_without_schema_template.json")],
      "output": "config/deployment.template_without_schema_template.json"}),
    # ${MODULES.csharpmodule.amd64} with no modules/ folder: iotedgedev leaves an unpullable image
    ("T4 template_1", ASSETS, "deployment.template_1.json", "amd64", IOTEDGEDEV_ENV, {},
     ("exit", 1, r"deployment\.template_1\.json:\d+:\d+: .*no module folder 'csharpmodule' in .*/modules "
                 r"\(it does not exist\)")),
    ("T5 ${TTL} unquoted", ASSETS, "deployment.template.non_str_placeholder.json", "amd64", IOTEDGEDEV_ENV,
     {"TTL": "7200"}, "ok", {"check": lambda m: m["modulesContent"]["$edgeHub"]["properties.desired"]
                            ["storeAndForwardConfiguration"]["timeToLiveSecs"] == 7200}),
    ("T5 ${TTL} unset", ASSETS, "deployment.template.non_str_placeholder.json", "amd64", IOTEDGEDEV_ENV, {},
     ("exit", 1, r"non_str_placeholder\.json:\d+:\d+: not valid JSON \(undefined variable \$TTL\)")),
    ("T6 iotedgedev scaffold", "Azure__iotedgedev/iotedgedev/template", "deployment.template.json", "amd64",
     IOTEDGEDEV_ENV, {}, "ok", {}),
    ("T7 2018 shared-lib", "Azure__iotedgedev@acf9fd3/tests/assets/test_solution_shared_lib",
     "deployment.template.json", "amd64", "Azure__iotedgedev@acf9fd3/.env.tmp", {}, "ok",
     {"json_as": "Azure__iotedgedev@acf9fd3/tests/assets/deployment.amd64.json"}),
    ("T7 2018 shared-lib windows", "Azure__iotedgedev@acf9fd3/tests/assets/test_solution_shared_lib",
     "deployment.template.json", "windows-amd64", "Azure__iotedgedev@acf9fd3/.env.tmp", {}, "ok",
     {"json_as": "Azure__iotedgedev@acf9fd3/tests/assets/deployment.windows-amd64.json"}),
    ("T7 2018 shared-lib debug", "Azure__iotedgedev@acf9fd3/tests/assets/test_solution_shared_lib",
     "deployment.debug.template.json", "amd64", "Azure__iotedgedev@acf9fd3/.env.tmp", {}, "ok", {}),
    ("T8 sample-python amd64", "eavanvalkenburg__iotedgedev-sample-python", "deployment.template.json", "amd64",
     "eavanvalkenburg__iotedgedev-sample-python/.env.tmp", {}, "ok",
     {"same_as": "eavanvalkenburg__iotedgedev-sample-python/config/deployment.amd64.json"}),
    ("T8 sample-python arm64v8", "eavanvalkenburg__iotedgedev-sample-python", "deployment.template.json", "arm64v8",
     "eavanvalkenburg__iotedgedev-sample-python/.env.tmp", {}, "ok",
     {"images": ["localhost:5000/filtermodule:0.0.1-arm64v8"]}),
    ("T8 sample-python arm32v7", "eavanvalkenburg__iotedgedev-sample-python", "deployment.template.json", "arm32v7",
     "eavanvalkenburg__iotedgedev-sample-python/.env.tmp", {}, "ok", {}),
    ("T8 sample-python debug", "eavanvalkenburg__iotedgedev-sample-python", "deployment.debug.template.json", "amd64",
     "eavanvalkenburg__iotedgedev-sample-python/.env.tmp", {}, "ok", {}),
    # CONTAINER_REGISTRY_USERNAME= (empty) for address "toolboc", a Docker Hub account the images pull from
    # anonymously: the credential is never used, so warnings; equal to the committed VS Code output except
    # username/password ("" here, "$CONTAINER_REGISTRY_USERNAME" there)
    ("T9 IntelligentEdgeHOL", "toolboc__IntelligentEdgeHOL", "deployment.template.json", "arm32v7", None, {}, "ok",
     {"json_as": "toolboc__IntelligentEdgeHOL/config/deployment.arm32v7.json"}),
    ("T10 az-iot-edge-tick", "paloukari__az-iot-edge-tick", "deployment.template.json", "amd64", None, {}, "ok",
     {"same_as": "paloukari__az-iot-edge-tick/config/deployment.amd64.json"}),
    # the template sits inside modules/: its module folders are found with MODULES_PATH=.
    ("T11 IoTEdgeAndMlSample", "Azure-Samples__IoTEdgeAndMlSample/EdgeModules/modules", "deployment.template.json",
     "amd64", None, {},
     ("exit", 1, r"deployment\.template\.json:76:\d+: .*no module folder 'turbofanRouter' in \S+/modules "
                 r"\(it does not exist\)\nhint: .*MODULES_PATH=\.")),
    ("T11 IoTEdgeAndMlSample MODULES_PATH=.", "Azure-Samples__IoTEdgeAndMlSample/EdgeModules/modules",
     "deployment.template.json", "amd64", None, {"MODULES_PATH": "."}, "ok", {}),
    ("T11 IoTEdgeAndMlSample debug MODULES_PATH=.", "Azure-Samples__IoTEdgeAndMlSample/EdgeModules/modules",
     "deployment.debug.template.json", "amd64", None, {"MODULES_PATH": "."}, "ok", {}),
    # .env placeholders with spaces: az and SchemaStore reject the address too
    ("T12 custom-vision", "Azure-Samples__Custom-vision-service-iot-edge-raspberry-pi", "deployment.template.json",
     "arm32v7", None, {}, ("reject", r"registryCredentials\.\w+\.address$"), {}),
    ("T12 custom-vision test-amd64", "Azure-Samples__Custom-vision-service-iot-edge-raspberry-pi",
     "deployment.test-amd64.template.json", "test-amd64", None, {},
     ("reject", r"registryCredentials\.\w+\.address$"), {}),
    ("T13 lorawan", LORA, "deployment.template.json", "arm32v7", f"{LORA}/example.env", {}, "ok",
     {"output": "config/deployment.json"}),
    ("T14 lorawan ci aio", LORA, "deployment.ci.aio.template.json", "arm32v7", f"{LORA}/example.env", {}, "ok", {}),
    ("T15 lorawan ci lbs", LORA, "deployment.ci.lbs.template.json", "arm32v7", f"{LORA}/example.env", {}, "ok", {}),
    ("T16 lorawan ci eflow", LORA, "deployment.ci.lns.eflow.template.json", "amd64", f"{LORA}/example.env", {}, "ok",
     {}),
    ("T17 devops-sample", "Azure-Samples__azure-iot-edge-devops-sample-python", "deployment.template.json", "amd64",
     None, {"ACR_ADDRESS": "myacr.azurecr.io", "ACR_USER": "u", "ACR_PASSWORD": "p", "BUILD_BUILDID": "42"}, "ok",
     {"images": ["myacr.azurecr.io/filtermodule:0.0.42-amd64"]}),
    ("T17 devops-sample debug", "Azure-Samples__azure-iot-edge-devops-sample-python", "deployment.debug.template.json",
     "amd64", None, {"ACR_ADDRESS": "myacr.azurecr.io", "ACR_USER": "u", "ACR_PASSWORD": "p", "BUILD_BUILDID": "42"},
     "ok", {}),
    # .env.temp values like "<yourcontainerregistry | …>" and an undefined ${CONTAINER_REGISTRY_GROUP} key
    ("T18 influxdb-grafana", "Azure-Samples__iot-edge-influxdb-grafana", "deployment.template.json", "amd64",
     "Azure-Samples__iot-edge-influxdb-grafana/.env.temp", {}, ("reject", r"registryCredentials"), {}),
    ("T18 influxdb-grafana debug", "Azure-Samples__iot-edge-influxdb-grafana", "deployment.debug.template.json",
     "amd64", "Azure-Samples__iot-edge-influxdb-grafana/.env.temp", {}, ("reject", r"registryCredentials"), {}),
    ("T19 offline-dashboarding", "AzureIoTGBB__iot-edge-offline-dashboarding", "deployment.template.json", "amd64",
     None, DASHBOARD_ENV, "ok", {}),
    # iotedgedev breaks on the quote (misleading ValueError); substituted inside JSON strings, it is kept
    ("T19 offline-dashboarding quote in env", "AzureIoTGBB__iot-edge-offline-dashboarding",
     "deployment.template.json", "amd64", None, dict(DASHBOARD_ENV, GRAFANA_ADMIN_PASSWORD='p"w\\'), "ok",
     {"check": lambda m: any('GF_SECURITY_ADMIN_PASSWORD=p"w\\' == t for t in decoded_strings(m))}),
    ("T20 deepstream", "Azure-Samples__NVIDIA-Deepstream-Azure-IoT-Edge-on-a-NVIDIA-Jetson-Nano/DeepstreamOnIoTEdge",
     "deployment.template.json", "arm64v8", None, {}, "ok", {"output": "config/deployment.arm64v8.json"}),
    # .env CONTAINER_REGISTRY_ADDRESS="<Login server>": whitespace in the address (az, SchemaStore reject)
    ("T21 onnxruntime", "Azure-Samples__onnxruntime-iot-edge", "deployment.template.json", "arm64v8", None, {},
     ("reject", r"registryCredentials\.\w+\.address$"), {}),
    ("T21 onnxruntime arm64", "Azure-Samples__onnxruntime-iot-edge", "deployment-arm64.template.json", "arm64v8", None,
     {}, ("reject", r"registryCredentials\.\w+\.address$"), {}),
    ("T21 onnxruntime amd64", "Azure-Samples__onnxruntime-iot-edge", "deployment-amd64.template.json", "amd64", None,
     {}, ("reject", r"registryCredentials\.\w+\.address$"), {}),
    ("T22 issue-6662", "SammyWhamy__iot-edge-issue-6662", "deployment.template.json", "amd64", None, {}, "ok",
     {"images": ["issue6662weucr.azurecr.io/directmethodmodule:0.0.5-amd64"]}),
    ("T23 vscode scaffold", "microsoft__vscode-azure-iot-edge/assets/solution", "deployment.template.json", "amd64",
     None, {}, "ok", {}),
    # ${MODULES.SampleModule.amd64} names no folder (iotedgedev leaves an unpullable image); $edgeAgent is never
    # a variable here, so edgeAgent=test does not matter (iotedgedev crashes with KeyError '$edgeAgent')
    ("T24 vscode testResources edgeAgent=test", "microsoft__vscode-azure-iot-edge/testResources",
     "deployment.template.json", "amd64", None, {"IMAGE": "microsoft/tempSensor:1.0.0", "edgeAgent": "test"},
     ("exit", 1, r"no module folder 'SampleModule'")),
    ("T24 vscode testResources --no-validate", "microsoft__vscode-azure-iot-edge/testResources",
     "deployment.template.json", "amd64", None, {"IMAGE": "microsoft/tempSensor:1.0.0", "edgeAgent": "test"},
     ("exit", 1, r"no module folder 'SampleModule'")),
    # layered templates
    ("L3 lorawan observability (dotted, no content)", LORA, "deployment_observability.layered.template.json", "amd64",
     f"{LORA}/example.env", {}, "ok", {}),
    ("L4 flattened_props (dotted template)", SHARED_LIB, "layered_deployment.flattened_props.template.json", "amd64",
     IOTEDGEDEV_ENV, {}, "ok",
     {"copy": [("Azure__iotedgedev@e3174f6/tests/assets/test_solution_shared_lib/"
                "layered_deployment.flattened_props.template.json", "layered_deployment.flattened_props.template.json")],
      "output": "config/layered_deployment.flattened_props.json",
      "images": ["localhost:5000/sample_module:0.0.1-RC-amd64"]}),
    ("L5 no_modules", SHARED_LIB, "layered_deployment.no_modules.template.json", "amd64", IOTEDGEDEV_ENV, {}, "ok",
     {"copy": [("Azure__iotedgedev@e3174f6/tests/assets/test_solution_shared_lib/"
                "layered_deployment.no_modules.template.json", "layered_deployment.no_modules.template.json")],
      "output": "config/layered_deployment.no_modules.json",
      "check": lambda m: '"bar-1.2"' in json.dumps(m)}),
    # a whole properties.desired in a layered deployment (removed by the maintainers as invalid)
    ("L6 layered with non-dotted $edgeAgent", SHARED_LIB, "layered_deployment.template.json", "amd64",
     IOTEDGEDEV_ENV, {},
     ("reject", r"^\$\.content\.modulesContent\.\$edgeAgent\.properties\.desired$"),
     {"copy": [("Azure__iotedgedev@b55a9ae/tests/assets/test_solution_shared_lib/layered_deployment.template.json",
                "layered_deployment.template.json")]}),
    ("L7 full manifest inside content", SHARED_LIB, "layered_deployment.flattened_props.template.json", "amd64",
     IOTEDGEDEV_ENV, {}, "ok", {"output": "config/layered_deployment.flattened_props.json"}),
]


def gen_case(tmp, idx, case):
    name, sol, template, platform, env_file, variables, expected, extra = case if len(case) == 8 else case + ({},)
    work = os.path.join(tmp, f"gen{idx}")
    writable_copy(os.path.join(CORPUS, sol), work)
    for src, dst in extra.get("copy", []):
        shutil.copyfile(os.path.join(CORPUS, src), os.path.join(work, dst))
    if env_file:
        shutil.copyfile(os.path.join(CORPUS, env_file), os.path.join(work, ".env"))
    if os.path.isdir(os.path.join(work, "config")):
        shutil.rmtree(os.path.join(work, "config"))  # committed outputs are compared from the corpus
    args = ["gen", "--solution", work, "--template", os.path.join(work, template), "--platform", platform]
    if "--no-validate" in name:
        args.append("--no-validate")
    rc, out, err = run(args + ["--json"], variables)
    if isinstance(expected, tuple) and expected[0] == "exit":
        if rc != expected[1] or not re.search(expected[2], err + out):
            fail(name, f"expected exit {expected[1]} matching /{expected[2]}/, got {rc}: {err.strip()}")
            return None
        return "failed as expected"
    try:
        report = json.loads(out)
    except ValueError:
        fail(name, f"gen --json did not print JSON (exit {rc}): {err.strip()}")
        return None
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    if isinstance(expected, tuple) and expected[0] == "reject":
        if rc != 3 or not any(re.search(expected[1], f["path"]) for f in errors):
            fail(name, f"expected exit 3 with an error at /{expected[1]}/, got {rc}: {errors}")
            return None
        if report["written"] or os.path.exists(report["manifest"]):
            fail(name, "a rejected manifest was written")
        return "rejected"
    if rc != 0:
        fail(name, f"gen exited {rc}: {errors or err.strip()}")
        return None
    path = report["manifest"]
    if "output" in extra and os.path.relpath(path, work) != extra["output"]:
        fail(name, f"wrote {os.path.relpath(path, work)}, iotedgedev writes {extra['output']}")
    text = open(path, encoding="utf-8").read()
    manifest = json.loads(text)
    chunks_ok(name, manifest)
    tags = [i["tag"] for i in report["images"]]
    for image in extra.get("images", []):
        if image not in tags:
            fail(name, f"image {image} not generated (got {tags})")
    if "same_as" in extra:
        want = open(os.path.join(CORPUS, extra["same_as"]), encoding="utf-8").read()
        if text != want:
            fail(name, f"not byte-identical to the committed {extra['same_as']}")
    if "json_as" in extra:
        golden = open(os.path.join(CORPUS, extra["json_as"]), encoding="utf-8").read()
        golden = golden.replace("${container_registry_server}", "localhost:5000")  # as the 2018 test did
        golden = golden.replace('"$CONTAINER_REGISTRY_USERNAME"', '""').replace('"$CONTAINER_REGISTRY_PASSWORD"', '""')
        if normalized(manifest) != normalized(json.loads(golden)):
            fail(name, f"differs from the golden {extra['json_as']} (createOptions compared as JSON)")
    if "check" in extra and not extra["check"](manifest):
        fail(name, "content check failed")
    vrc, vout, verr = run(["validate", path, "--json"])
    if vrc != 0 or not json.loads(vout)["valid"]:
        fail(name, f"validate of the generated manifest exited {vrc}: {vout}{verr}")
    warnings = len(report["findings"]) - len(errors)
    return "generated" + (f" ({warnings} warning{'s' * (warnings != 1)})" if warnings else "")


# ---- validate ------------------------------------------------------------------------------------
# (id, file, expected): "ok" (no findings), "warn" (valid with warnings), ("reject", JSON path regex)
# for exit 3, ("exit", code, regex) for a file that is not JSON.
MANIFESTS = [
    ("F1 content + $schema", f"{CFG}/test_edge_deployment.json", "ok"),
    ("F2 legacy moduleContent", f"{CFG}/test_edge_deployment_v1.json", "warn"),
    ("F3 agent/hub 1.1", f"{CFG}/test_edge_deployment_v11.json", "ok"),
    ("F4 hub 1.2", f"{CFG}/test_edge_deployment_ea_v11_eh_v12.json", "ok"),
    # az skips the check for unknown versions; the edge agent refuses them (EdgeAgentConnection.cs: 412
    # InvalidSchemaVersion) and so does edgeHub (EdgeHubConfigParser.cs): an error, not a warning
    ("F5 schemaVersion 9.0/9.1", f"{CFG}/test_edge_deployment_ea_v90_eh_v91.json",
     ("reject", r"\$edgeAgent\.properties\.desired\.schemaVersion$")),
    ("F6 nested top layer", f"{DEV}/deployments/deploymentTopLayer.json", "ok"),
    ("F7 nested lower layer ($upstream images)", f"{DEV}/deployments/deploymentLowerLayer.json", "ok"),
    ("F8 configuration as IoT Hub returns it", f"{CFG}/test_config_modules_show.json", "ok"),
    ("F9 AI Toolkit (env inside settings)", f"{TOOLKIT}/deployment.json", "warn"),
    ("F10 connectivity (24 modules, <X>)", f"{E2E}/connectivity_deployment.template.json", "warn"),
    ("F11 edgehub restart", f"{E2E}/edgehub_restart_deployment.template.json", "warn"),
    ("F12 nested top layer mqtt", f"{E2E}/nestededge_topLayerBaseDeployment_mqtt.json", "warn"),
    ("F13 nested middle layer (mqttBroker)", f"{E2E}/nestededge_middleLayer_e2e_amqp.json", "warn"),
    ("F14 runtime only", f"{E2E}/runtime_only_deployment.template.json", "warn"),
    ("F15 metrics collector", "Azure__iotedge/edge-modules/metrics-collector/src/ExampleDeployment.json", "ok"),
    ("F16 documented base deployment", f"{DOCS}/1-base-deployment.json", "ok"),
    ("T25 AI Toolkit template", f"{TOOLKIT}/iot-workshop-deployment-template.json", "warn"),
    ("T26 AzureML template", "Azure-Samples__onnxruntime-iot-edge/AzureML-OpenVINO/AML-deployment.template.json", "ok"),
    ("T27 quickstart (<X>)", f"{E2E}/quickstart_deployment.template.json", "warn"),
    ("T8 committed amd64", "eavanvalkenburg__iotedgedev-sample-python/config/deployment.amd64.json", "ok"),
    ("T8 committed arm64v8 (stale)", "eavanvalkenburg__iotedgedev-sample-python/config/deployment.arm64v8.json", "ok"),
    ("T9 committed (VS Code kept $CONTAINER_REGISTRY_USERNAME)", "toolboc__IntelligentEdgeHOL/config/deployment.arm32v7.json",
     "warn"),
    ("T10 committed amd64", "paloukari__az-iot-edge-tick/config/deployment.amd64.json", "ok"),
    ("SchemaStore 2.0 positive test", "SchemaStore__schemastore/src/test/azure-iot-edge-deployment-2.0/deployment.json",
     "warn"),
    ("L1 az layered fixture", f"{CFG}/test_edge_deployment_layered.json", "ok"),
    ("L2 documented layered deployment", f"{DOCS}/2-layered-deployment.json", "ok"),
    ("I1 invalidresult template", f"{ASSETS}/deployment.template_invalidresult.json",
     ("reject", r"registryCredentials\.test$")),
    ("I2 manifest_invalid", f"{ASSETS}/deployment.manifest_invalid.json",
     ("reject", r"modules\.tempSensor\.settings\.createOptions01$")),
    ("I3 manifest_invalid_schema", f"{ASSETS}/deployment.manifest_invalid_schema.json",
     ("reject", r"registryCredentials\.test2\.address$")),
    ("I4 manifest_invalid_createoptions", f"{ASSETS}/deployment.manifest_invalid_createoptions.json",
     ("reject", r"modules\.csharpfunction2\.settings\.createOptions04$")),
    ("I5 az malformed", f"{CFG}/test_edge_deployment_malformed.json",
     ("reject", r"modules\.mongo-server\.restartPolicy$")),
    ("I6 not a deployment", f"{DEV}/invalid/invalid_deployment.json", ("reject", r"^\$$")),
]

# I7 is a shell script that echoes a manifest; its output rendered by hand: `$edgeAgent`, `$edgeHub`,
# `$upstream` expanded to nothing, a trailing comma after "address", unescaped quotes in createOptions.
I7_TEXT = """{
  "modulesContent": {
    "": {
      "properties.desired": {
        "schemaVersion": "1.0",
        "runtime": {"type": "docker", "settings": {"minDockerVersion": "v1.25", "loggingOptions": "",
          "registryCredentials": {"reg": {"username": "", "password": "secret", "address": "r.azurecr.io",}}}},
        "modules": {"m": {"settings": {"image": "r.azurecr.io/m:1", "createOptions": "{"HostConfig":{}}"}}}
      }
    },
    "": {"properties.desired": {"routes": {"r": "FROM /messages/* INTO "}}}
  }
}
"""


def validate_case(tmp, idx, case):
    name, rel, expected = case
    path = os.path.join(tmp, f"m{idx}.json")
    if rel is None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(I7_TEXT)
    else:
        shutil.copyfile(os.path.join(CORPUS, rel), path)
    rc, out, err = run(["validate", path, "--json"])
    try:
        report = json.loads(out)
    except ValueError:
        fail(name, f"validate --json printed no JSON (exit {rc}): {err.strip()}")
        return None
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    warnings = [f for f in report["findings"] if f["severity"] == "warning"]
    if isinstance(expected, tuple) and expected[0] == "exit":
        if rc != expected[1] or not re.search(expected[2], err):
            fail(name, f"expected exit {expected[1]} matching /{expected[2]}/, got {rc}: {err.strip()}")
            return None
        return "rejected (not JSON)"
    if isinstance(expected, tuple):
        if rc != 3 or not any(re.search(expected[1], f["path"]) for f in errors):
            fail(name, f"expected exit 3 with an error at /{expected[1]}/, got {rc}: {report['findings']}")
            return None
        if not all(f["path"].startswith("$") for f in errors):
            fail(name, "an error without a JSON path")
        return f"rejected ({len(errors)} error{'s' * (len(errors) != 1)})"
    if rc != 0 or errors:
        fail(name, f"expected valid, got exit {rc}: {errors}")
        return None
    if expected == "ok" and warnings:
        fail(name, f"expected no warnings, got {warnings}")
    if expected == "warn" and not warnings:
        fail(name, "expected warnings, got none")
    chunks_ok(name, json.load(open(path, encoding="utf-8")))
    return "accepted" + (f" ({len(warnings)} warning{'s' * (len(warnings) != 1)})" if warnings else "")


def main():
    counts = {}
    with tempfile.TemporaryDirectory(prefix="edgeship-corpus-") as tmp:
        if GROUP == "templates":
            for i, case in enumerate(GEN):
                result = gen_case(tmp, i, case)
                if result:
                    print(f"ok   {case[0]}: {result}", flush=True)
                    key = result.split(" (")[0]
                    counts[key] = counts.get(key, 0) + 1
        elif GROUP == "manifests":
            for i, case in enumerate(MANIFESTS + [("I7 AI Toolkit echo script, rendered", None,
                                                   ("exit", 1, r"m\d+\.json:\d+:\d+: not valid JSON"))]):
                result = validate_case(tmp, i, case)
                if result:
                    print(f"ok   {case[0]}: {result}", flush=True)
                    key = result.split(" (")[0]
                    counts[key] = counts.get(key, 0) + 1
        else:
            sys.exit(f"unknown group {GROUP}")
    print("counts: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    if failures:
        print(f"{len(failures)} failure(s):\n  " + "\n  ".join(failures))
        sys.exit(1)


main()
