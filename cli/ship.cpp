// `edgeship ship`: model → ONNX → solution → image → registry → manifest → IoT Hub, as lib/pipeline steps.
// This file only turns flags into pipeline::ShipOptions and the library-backed actions, and prints.

#include "cli/ship_commands.hpp"

#include "cli/registry_progress.hpp"
#include "edgeship/version_info.hpp"
#include "iothub/ids.hpp"
#include "oci/reference.hpp"
#include "pipeline/ship.hpp"
#include "pipeline/ship_actions.hpp"
#include "pipeline/ship_images.hpp"
#include "registry/client.hpp"
#include "solution/layout.hpp"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <mutex>
#include <optional>

namespace edgeship::cli {

namespace {

constexpr const char* k_footer = R"(Examples:
  edgeship ship model.json --solution pm --registry myacr.azurecr.io --base myacr.azurecr.io/ort-base:1 --device gw-01 --wait
  edgeship ship model.pkl --trust-pickle --solution pm --oci-layout out/images --base oci:base:py311
  edgeship ship net.pt --input-shape 1,8 --solution pm --registry 127.0.0.1:5000 --plain-http --dry-run
  edgeship ship model.json --solution pm --registry 127.0.0.1:5000 --plain-http --device gw-01 --deploy-dry-run
  edgeship ship model.json --solution pm --registry r.io --deployment pm-v2 --target-condition "tags.site='a'" --priority 20 --wait --json

Steps: convert (unless already ONNX) → check → solution (init, module add, or replace the module's model)
→ build → push → gen → validate → deploy → wait. A failure names its step ("ship: step push: …") and
keeps what earlier steps produced; re-running resumes: an unchanged model is not reconverted and an image
the registry already holds with the same digest is neither rebuilt nor re-uploaded.
--dry-run prints every step and every registry and IoT Hub request it would make, changing nothing (it
still reads: the model's sha256, the solution, and a manifest GET per image already pushed).
--deploy-dry-run does everything except the IoT Hub calls, which it prints instead.
Exit codes: 0 shipped, 1 a step failed, 2 usage, 3 the model or the manifest is invalid, 4 registry or
IoT Hub authentication failed, 130 interrupted. See docs/ship.md.)";

std::string default_solution(const ShipOptions& opts) {
    if (!opts.solution.empty()) {
        return opts.solution;
    }
    std::error_code ec;
    if (std::filesystem::is_regular_file("deployment.template.json", ec)) {
        return ".";
    }
    return opts.module;
}

std::string fmt_ms(std::chrono::milliseconds d) {
    auto ms = d.count();
    if (ms < 1000) {
        return std::to_string(ms) + "ms";
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
    return buf;
}

// Human output of a plan (--dry-run) or a run, on stdout: one line per step, then its operations.
void print_steps(const pipeline::RunReport& run, Context& ctx) {
    for (const auto& s : run.steps) {
        if (s.status == pipeline::StepStatus::not_run) {
            ctx.io.out << s.name << ": not run\n";
            continue;
        }
        ctx.io.out << s.name << ": " << pipeline::status_name(s.status);
        if (s.status != pipeline::StepStatus::planned) {
            ctx.io.out << " (" << fmt_ms(s.duration) << ")";
        }
        ctx.io.out << (s.summary.empty() || s.status == pipeline::StepStatus::failed ? "" : ": " + s.summary) << '\n';
        for (const auto& o : s.operations) {
            ctx.io.out << "  " << o.service << ' ' << o.method << ' ' << o.target
                       << (o.detail.empty() ? "" : "  (" + o.detail + ")") << '\n';
        }
    }
}

// Where every artefact went (stdout, after a run).
void print_artefacts(const pipeline::ShipOptions& o, const pipeline::ShipState& s, Context& ctx) {
    if (!s.onnx.empty()) {
        ctx.io.out << "onnx        " << s.onnx.string() << "  sha256:" << s.onnx_sha256 << '\n';
    }
    ctx.io.out << "solution    " << o.solution.string() << " (module " << o.module << ")\n";
    for (const auto& i : s.images) {
        ctx.io.out << "image       " << i.reference << (i.digest.empty() ? "" : "@" + i.digest) << "  ("
                   << (i.up_to_date ? "already pushed" : std::to_string(i.bytes_uploaded) + " bytes uploaded, " +
                                                            std::to_string(i.bytes_skipped) + " already present")
                   << ")\n";
    }
    for (const auto& i : s.indexes) {
        std::string platforms;
        for (const auto& p : i.platforms) {
            platforms += (platforms.empty() ? "" : ", ") + p;
        }
        ctx.io.out << "index       " << i.reference << (i.digest.empty() ? "" : "@" + i.digest) << "  (" << platforms
                   << ")\n";
    }
    for (const auto& m : s.manifests) {
        ctx.io.out << "manifest    " << m.string() << '\n';
    }
    if (!s.deployment_kind.empty()) {
        ctx.io.out << s.deployment_kind << (s.deployment_kind == "device" ? "      " : "  ") << s.deployment_id
                   << (s.deploy_applied ? " (applied)" : " (not applied)") << '\n';
    }
    if (s.rollout) {
        ctx.io.out << "rollout     " << s.rollout->outcome << '\n';
    }
}

Result<pipeline::ConvertSettings> convert_settings(const ShipOptions& opts, Context& ctx) {
    pipeline::ConvertSettings cs;
    cs.from = opts.from;
    if (opts.opset != 0) {
        cs.opset = opts.opset;
    }
    cs.edgeship_version = build_info::k_version;
    if (opts.passes.any()) {
        EDGESHIP_TRY_ASSIGN(auto po, optimization_options(opts.passes));
        EDGESHIP_TRY(optimize::validate_options(po));
        cs.passes = std::move(po);
    }
    const bool framework_from = opts.from == "sklearn" || opts.from == "torch";
    EDGESHIP_TRY_ASSIGN(cs.framework, framework_convert_options(opts.framework, opts.model,
                                                                framework_from ? opts.from : "", opts.opset, "",
                                                                build_info::k_version, ctx));
    return cs;
}

} // namespace

void register_ship(CLI::App& parent, Context& ctx, Runner<ShipOptions> run) {
    auto opts = std::make_shared<ShipOptions>();
    auto* sub = parent.add_subcommand(
        "ship", "Take a trained model to a running IoT Edge module: convert, check, solution, build, push, gen, "
                "validate, deploy, wait");
    sub->add_option("MODEL", opts->model,
                    "The model: XGBoost .json/.ubj, LightGBM .txt, scikit-learn .pkl/.joblib, PyTorch .pt, or .onnx")
        ->required();
    sub->add_option("--solution", opts->solution,
                    "The solution directory: created by init when missing (default: . when it holds "
                    "deployment.template.json, else ./<module>)");
    sub->add_option("--module", opts->module, "Module name (letters, digits, '_')")->capture_default_str();
    sub->add_option("--runtime", opts->runtime, "Runtime of a new module: python-onnxruntime or node-onnxruntime")
        ->capture_default_str();
    sub->add_option("--platform", opts->platforms,
                    "Platform to build and generate for (repeatable or comma-separated; default amd64); the first "
                    "is deployed")
        ->delimiter(',');
    auto* reg = sub->add_option("--registry", opts->registry, "Push the images to this registry host[:port]");
    auto* layout = sub->add_option("--oci-layout", opts->oci_layout, "Write the images into this OCI image layout");
    reg->excludes(layout);
    sub->add_option("--base", opts->base,
                    "Base image holding the runtime: REF, oci:DIR[:TAG] or docker-archive:FILE (default: module.json "
                    "edgeship.baseImage, else the runtime's official image)");
    add_image_tool_flags(sub, opts->tools);
    auto* device = sub->add_option("--device,-d", opts->device, "Apply the manifest to this edge device");
    auto* deployment = sub->add_option("--deployment", opts->deployment, "Create this at-scale deployment id");
    device->excludes(deployment);
    auto* cond = sub->add_option("--target-condition", opts->target_condition,
                                 "With --deployment: the devices it targets (tags.site='a')");
    sub->add_option("--priority", opts->priority, "With --deployment: its priority (default 0)");
    cond->needs(deployment);
    sub->add_flag("--dry-run", opts->dry_run,
                  "Print the plan: every step and every registry and IoT Hub request; change nothing");
    sub->add_flag("--deploy-dry-run", opts->deploy_dry_run,
                  "Run every step but deploy and wait, which print the IoT Hub requests instead of sending them");
    sub->add_flag("--json", opts->json,
                  "Print the run report as JSON: digests, images, bytes uploaded vs skipped, manifest, deployment, "
                  "rollout, time per step");
    sub->add_option("--template-dir", opts->template_dir, "Use templates from DIR over the embedded ones");
    // convert's flags (docs/convert.md, docs/frameworks.md, docs/optimize.md)
    sub->add_option("--from", opts->from, "Model format (default: detected from the content)")
        ->check(CLI::IsMember({"xgboost", "lightgbm", "onnx", "sklearn", "torch"}));
    sub->add_option("--opset", opts->opset, "ai.onnx opset of the converted model");
    add_framework_options(sub, opts->framework);
    add_optimization_flags(sub, opts->passes);
    // push's flags (docs/push.md); --ca-file is the registry's
    add_registry_flags(*sub, opts->registry_flags);
    // deploy's flags (docs/deploy.md); the hub's CA file is --hub-ca-file here
    sub->add_option("--connection-string-file", opts->hub.connection_string_file,
                    "Read the IoT Hub connection string from this file (default: IOTHUB_CONNECTION_STRING from "
                    "the environment or .env)");
    sub->add_option("--hub-url", opts->hub.hub_url, "Reach the hub at this https:// URL (env EDGESHIP_IOTHUB_ENDPOINT)");
    sub->add_option("--hub-ca-file", opts->hub.ca_file,
                    "Trust this PEM CA bundle for the hub (env EDGESHIP_IOTHUB_CA_FILE)");
    sub->add_option("--api-version", opts->hub.api_version, "IoT Hub REST api-version");
    add_wait_flags(sub, opts->wait, true);
    sub->footer(k_footer);
    bind_action(sub, ctx, opts, std::move(run));
}

Result<void> run_ship(const ShipOptions& opts, Context& ctx) {
    if (opts.dry_run && opts.deploy_dry_run) {
        return fail("--dry-run already plans every step; --deploy-dry-run is for a real run without IoT Hub calls",
                    ExitCode::usage);
    }
    if (!opts.target_condition.empty() && opts.deployment.empty()) {
        return fail("--target-condition needs --deployment", ExitCode::usage);
    }
    if (!opts.deployment.empty()) {
        EDGESHIP_TRY(iothub::check_deployment_id(opts.deployment));
    }
    if (!opts.device.empty()) {
        EDGESHIP_TRY(iothub::check_device_id(opts.device));
    }
    pipeline::ShipOptions o;
    o.model = opts.model;
    o.solution = default_solution(opts);
    o.module = opts.module;
    o.runtime = opts.runtime;
    if (!opts.platforms.empty()) {
        o.platforms = opts.platforms;
    }
    o.env = ctx.env;
    if (!opts.registry.empty()) {
        o.image_target = pipeline::ImageTarget::registry;
        o.registry = opts.registry;
        o.env["CONTAINER_REGISTRY_SERVER"] = opts.registry; // tags name the registry pushed to
    } else if (!opts.oci_layout.empty()) {
        o.image_target = pipeline::ImageTarget::oci_layout;
        o.oci_layout = opts.oci_layout;
    }
    o.base = opts.base;
    if (!opts.device.empty()) {
        o.deploy_target = pipeline::DeployTarget::device;
        o.device = opts.device;
    } else if (!opts.deployment.empty()) {
        o.deploy_target = pipeline::DeployTarget::deployment;
        o.deployment_id = opts.deployment;
        o.target_condition = opts.target_condition;
        o.priority = opts.priority;
    }
    o.wait = opts.wait.wait;
    o.hub_calls = opts.deploy_dry_run ? pipeline::HubCalls::plan_only : pipeline::HubCalls::send;

    pipeline::DefaultActionOptions ao;
    EDGESHIP_TRY_ASSIGN(ao.convert, convert_settings(opts, ctx));
    o.convert_fingerprint = pipeline::convert_fingerprint(ao.convert);
    ao.template_dir = opts.template_dir;
    ao.log = ctx.console.logger();
    ao.hub.open = [&opts, &ctx]() -> Result<iothub::HubClient*> {
        EDGESHIP_TRY_ASSIGN(iothub::HubClient& hub, open_hub(opts.hub, ctx, "--hub-ca-file"));
        return &hub;
    };
    ao.hub.page_size = opts.wait.page_size;
    ao.hub.wait_for = [&opts, &ctx](const std::function<Result<iothub::FleetSummary>()>& poll) {
        std::string what = !opts.device.empty() ? "device " + opts.device : "deployment " + opts.deployment;
        return wait_with_progress(poll, opts.wait, opts.json, what, ctx);
    };
    auto actions = pipeline::make_default_actions(ao);

    // Images: built by lib/imagebuild, sent with registry::Registry (--registry) or into a layout.
    pipeline::ImageActionOptions io;
    io.base = opts.base;
    io.template_dir = opts.template_dir; // runtimes (runtime.json) for the build step, as for scaffolding
    {
        // An existing solution's .env joins the configuration now (npm, pip, base_registry may be set
        // there); one the solution step makes joins at the first registry connection. A .env that does not
        // parse is left to the step that reads it, which reports it as that step's error.
        (void)use_solution_env(ctx, o.solution);
        auto tools = resolve_image_tools(ctx, opts.tools);
        io.tools = tools.tools;
        io.base_registry = tools.base_registry;
    }
    io.log = ctx.console.logger();
    // One keychain for the run, made on the first connection (after the solution step, so the solution's
    // .env — registry credentials may be set there — is read as build reads it). --username belongs to
    // --registry alone: a base image in another registry is read with that registry's own credential.
    if (o.image_target == pipeline::ImageTarget::registry) {
        // Flag conflicts and --password-stdin are settled before any step runs (the password is read once).
        EDGESHIP_TRY(registry_clients(ctx, opts.registry_flags, opts.registry));
    }
    // Made once, under a lock: the build step may ask for several hosts, and the solution's .env enters
    // the run's Config only here (the Config is read without locks afterwards).
    struct ClientsOnce {
        std::mutex mutex;
        registry::Clients* clients = nullptr;
    };
    auto once = std::make_shared<ClientsOnce>();
    auto clients_for_run = [&ctx, &opts, solution = o.solution, once]() -> Result<registry::Clients*> {
        std::lock_guard lock(once->mutex);
        if (!once->clients) {
            EDGESHIP_TRY(use_solution_env(ctx, solution));
            EDGESHIP_TRY_ASSIGN(once->clients, ctx.registries(opts.registry_flags, opts.registry));
        }
        return once->clients;
    };
    io.registry_for = [clients_for_run](const std::string& host) -> Result<registry::Registry*> {
        EDGESHIP_TRY_ASSIGN(auto* c, clients_for_run());
        return c->get(host);
    };
    if (o.image_target == pipeline::ImageTarget::registry) {
        auto progress = std::make_shared<TransferProgress>(ctx, TransferDirection::push, opts.json);
        io.events = progress->callback();
        io.finish = [progress] { progress->finish(); };
    }
    pipeline::add_image_actions(actions, o, io);

    auto state = std::make_shared<pipeline::ShipState>();
    EDGESHIP_TRY_ASSIGN(auto steps, pipeline::make_ship_steps(o, actions, state));
    pipeline::RunOptions ro;
    ro.mode = opts.dry_run ? pipeline::Mode::plan : pipeline::Mode::run;
    ro.on_step = [&ctx, plan = opts.dry_run](const pipeline::StepResult& s, bool finished) {
        if (plan) {
            return; // the plan itself goes to stdout
        }
        if (!finished) {
            ctx.console.debug("ship: " + s.name + " …");
        } else if (s.status != pipeline::StepStatus::failed) {
            ctx.console.info("ship: " + s.name + ": " + std::string(pipeline::status_name(s.status)) + " (" +
                             fmt_ms(s.duration) + ")" + (s.summary.empty() ? "" : ": " + s.summary));
        }
    };
    auto report = pipeline::run_steps(steps, ro);
    if (io.finish) {
        io.finish();
    }
    if (opts.json) {
        ctx.io.out << pipeline::ship_report_json(o, *state, report, ro.mode).dump(2) << '\n';
    } else if (opts.dry_run) {
        print_steps(report, ctx);
    } else if (report.ok()) {
        print_artefacts(o, *state, ctx);
        // --deploy-dry-run: the IoT Hub requests that were not sent
        for (const auto& s : report.steps) {
            if (s.status == pipeline::StepStatus::planned) {
                for (const auto& op : s.operations) {
                    ctx.io.out << "would send  " << op.method << ' ' << op.target
                               << (op.detail.empty() ? "" : "  (" + op.detail + ")") << '\n';
                }
            }
        }
    }
    if (!report.ok()) {
        Error e = *report.error;
        if (e.hint_text().empty()) {
            e.hint("fix the cause and run the same command again: finished steps are not redone");
        }
        return unexpected(std::move(e));
    }
    return {};
}

} // namespace edgeship::cli
