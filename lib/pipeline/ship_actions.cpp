#include "pipeline/ship_actions.hpp"

#include "convert/convert_file.hpp"
#include "core/fs.hpp"
#include "manifest/expand.hpp"
#include "manifest/validate.hpp"
#include "model/inspect.hpp"
#include "oci/layout.hpp"
#include "solution/generate.hpp"
#include "solution/layout.hpp"
#include "solution/scaffold.hpp"
#include "templates/source.hpp"

namespace edgeship::pipeline {

namespace fs = std::filesystem;

namespace {

// The same call `edgeship convert` makes (convert/convert_file.hpp): routing, passes and one atomic write.
Result<ConvertOutcome> convert_file(ConvertSettings request, const core::Logger& log, const fs::path& input,
                                    const fs::path& output) {
    request.input = input;
    request.output = output;
    request.log = log;
    EDGESHIP_TRY_ASSIGN(auto done, convert::convert_file(request));
    return ConvertOutcome{done.conversion.sha256, done.conversion.output_bytes, done.conversion.source_format};
}

Result<void> check_file(const fs::path& onnx) {
    EDGESHIP_TRY_ASSIGN(auto report, model::inspect_model(onnx));
    return model::require_valid(onnx.string(), report.findings);
}

Result<std::vector<std::string>> scaffold(const std::string& template_dir, const ScaffoldRequest& req) {
    EDGESHIP_TRY_ASSIGN(auto source, templates::TemplateSource::open(template_dir));
    solution::ModuleSpec spec;
    spec.name = req.module;
    spec.model = req.model;
    spec.runtime = req.runtime;
    spec.platforms = req.platforms;
    Result<solution::ScaffoldPlan> plan = unexpected(Error("no plan"));
    if (req.kind == ScaffoldRequest::Kind::init) {
        solution::InitOptions io;
        io.dir = req.solution;
        io.module = spec;
        io.registry = req.registry;
        plan = solution::plan_init(io, source);
    } else {
        plan = solution::plan_module_add(req.solution, spec, source);
    }
    if (!plan) {
        return unexpected(std::move(plan).error());
    }
    EDGESHIP_TRY(solution::apply_plan(*plan));
    std::vector<std::string> files;
    for (const auto& f : plan->files) {
        files.push_back((plan->root / f.path).string());
    }
    return files;
}

Result<std::string> image_reference(const fs::path& solution_dir, const std::string& module, const std::string& platform,
                                    const core::Environment& env) {
    EDGESHIP_TRY_ASSIGN(auto senv, solution::load_env(solution_dir, env));
    EDGESHIP_TRY_ASSIGN(auto info, solution::load_module(solution_dir / "modules" / module, senv.vars));
    if (info.dockerfile(platform) == nullptr) {
        return fail(info.module_json.string() + ": no platform " + platform + " in image.tag.platforms");
    }
    return solution::image_tag(info, platform, senv.get("CONTAINER_TAG"));
}

Result<GenOutcome> gen(const GenRequest& req, const core::Logger& log) {
    solution::GenerateOptions go;
    go.solution_dir = req.solution;
    go.platform = req.platform;
    EDGESHIP_TRY_ASSIGN(auto g, solution::generate_manifest(go, req.env, log));
    for (const auto& u : g.undefined) {
        log.warning(u.location + ": undefined variable $" + u.name + " left as written");
    }
    if (!g.report.ok()) {
        std::size_t n = 0;
        std::string first;
        for (const auto& f : g.report.findings) {
            if (f.error) {
                first = first.empty() ? f.path + ": " + f.message : first;
                ++n;
            }
        }
        return fail(g.template_file.string() + ": the generated manifest has " + std::to_string(n) +
                        " validation error" + (n == 1 ? "" : "s") + "; nothing written (first: " + first + ")",
                    ExitCode::validation);
    }
    EDGESHIP_TRY(solution::write_manifest(g));
    GenOutcome out;
    out.manifest = g.output_path;
    for (const auto& i : g.images) {
        out.images.push_back(i.tag);
    }
    return out;
}

Result<void> validate_file(const fs::path& path, const core::Logger& log) {
    EDGESHIP_TRY_ASSIGN(auto text, core::read_file(path));
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        auto [line, col] = manifest::line_column(text, e.byte > 0 ? e.byte - 1 : 0);
        return fail(path.string() + ":" + std::to_string(line) + ":" + std::to_string(col) + ": not valid JSON");
    }
    auto report = manifest::validate_manifest(doc);
    std::size_t errors = 0;
    std::string first;
    for (const auto& f : report.findings) {
        if (f.error) {
            first = first.empty() ? f.path + ": " + f.message : first;
            ++errors;
        } else {
            log.warning(path.string() + ": " + f.path + ": " + f.message);
        }
    }
    if (!report.ok()) {
        return fail(path.string() + ": " + std::to_string(errors) + " error" + (errors == 1 ? "" : "s") + " (first: " +
                        first + ")",
                    ExitCode::validation);
    }
    return {};
}

// The request a deploy sends, as an Operation (method, URL or path, what the body is).
Operation deploy_operation(const DeployRequest& req, iothub::HubClient* hub) {
    Operation op;
    op.service = "iothub";
    std::vector<std::string> segments;
    if (req.target == DeployTarget::device) {
        op.method = "POST";
        segments = {"devices", req.device, "applyConfigurationContent"};
        op.detail = "body: modulesContent of " + req.manifest.string();
    } else {
        op.method = "PUT";
        segments = {"configurations", req.deployment_id};
        op.detail = "body: configuration " + req.deployment_id + " (targetCondition " + req.target_condition +
                    ", priority " + std::to_string(req.priority) + ") with modulesContent of " + req.manifest.string();
    }
    if (hub != nullptr) {
        op.target = hub->make_request(op.method, segments).url;
    } else {
        op.target = "/" + segments[0] + "/" + segments[1] + (segments.size() > 2 ? "/" + segments[2] : "");
    }
    return op;
}

Result<DeployOutcome> deploy(const HubAccess& access, const DeployRequest& req, Mode mode) {
    DeployOutcome out;
    if (mode == Mode::plan) {
        iothub::HubClient* hub = nullptr;
        if (access.open) {
            auto opened = access.open();
            hub = opened ? *opened : nullptr;
        }
        out.operations.push_back(deploy_operation(req, hub));
        if (req.target == DeployTarget::deployment) {
            out.operations.insert(out.operations.begin(),
                                  Operation{"iothub", "GET", "/configurations/" + req.deployment_id,
                                            "is a deployment with this id already there (same content: nothing to do)"});
        }
        return out;
    }
    EDGESHIP_TRY_ASSIGN(auto manifest, iothub::load_manifest(req.manifest));
    if (access.validate) {
        auto report = manifest::validate_manifest(manifest);
        if (!report.ok()) {
            return fail(req.manifest.string() + ": manifest validation failed", ExitCode::validation);
        }
    }
    if (!access.open) {
        return fail("no IoT Hub client is wired in this build");
    }
    EDGESHIP_TRY_ASSIGN(iothub::HubClient * hub, access.open());
    out.operations.push_back(deploy_operation(req, hub));
    if (req.target == DeployTarget::device) {
        if (iothub::is_layered(manifest)) {
            return fail(req.manifest.string() + ": a layered manifest cannot be applied to one device", ExitCode::usage);
        }
        if (auto r = hub->apply_configuration_content(req.device, manifest); !r) {
            return unexpected(std::move(r).error().context("deploying " + req.manifest.string() + " to " + req.device));
        }
        out.applied = true;
        return out;
    }
    iothub::DeploymentSpec spec;
    spec.id = req.deployment_id;
    spec.manifest = manifest;
    spec.target_condition = req.target_condition;
    spec.priority = req.priority;
    // Re-running ship must not fail on its own deployment: the same content is "already there".
    auto existing = hub->get_configuration(req.deployment_id);
    if (existing) {
        if (iothub::same_deployment(iothub::configuration_body(spec), *existing)) {
            out.already_present = true;
            return out;
        }
        return unexpected(Error("deployment " + req.deployment_id + " already exists with other content")
                              .hint("deployments are immutable: ship with a new --deployment id, or replace it "
                                    "safely with edgeship deployment create NEW --replace " +
                                    req.deployment_id));
    }
    EDGESHIP_TRY(iothub::create_deployment(*hub, spec));
    out.applied = true;
    return out;
}

Result<RolloutOutcome> wait(const HubAccess& access, const DeployRequest& req) {
    if (!access.open) {
        return fail("no IoT Hub client is wired in this build");
    }
    EDGESHIP_TRY_ASSIGN(iothub::HubClient * hub, access.open());
    std::function<Result<iothub::FleetSummary>()> poll;
    std::string what;
    if (req.target == DeployTarget::device) {
        poll = [hub, id = req.device] { return iothub::poll_device(*hub, id); };
        what = "deploying to " + req.device;
    } else {
        poll = [hub, id = req.deployment_id, size = access.page_size] { return iothub::poll_deployment(*hub, id, size); };
        what = "deployment " + req.deployment_id;
    }
    Result<iothub::WaitResult> waited =
        access.wait_for ? access.wait_for(poll) : iothub::wait_for_rollout(poll, access.wait);
    if (!waited) {
        return unexpected(std::move(waited).error());
    }
    if (waited->outcome != iothub::WaitOutcome::succeeded) {
        return unexpected(iothub::rollout_error(*waited, what));
    }
    return RolloutOutcome{"succeeded", iothub::summary_to_json(waited->summary)};
}

} // namespace

std::string convert_fingerprint(const ConvertSettings& s) {
    nlohmann::ordered_json j;
    j["from"] = s.from;
    j["opset"] = s.opset ? *s.opset : 0;
    j["name"] = s.name;
    j["input_name"] = s.framework.input_name;
    j["output_names"] = s.framework.output_names;
    j["input_shape"] = s.framework.input_shape;
    j["dynamic_batch"] = s.framework.batch == model::BatchDim::dynamic;
    if (s.passes) {
        j["pass_opset"] = s.passes->opset ? *s.passes->opset : 0;
        if (s.passes->fp16) {
            j["fp16_block"] = s.passes->fp16->block_list;
        }
        j["quantize"] = static_cast<int>(s.passes->quantize);
        j["per_channel"] = s.passes->per_channel == optimize::PerChannel::yes;
        j["calibration"] = s.passes->calibration.string();
    }
    j["edgeship_version"] = s.edgeship_version;
    return j.dump();
}

std::string reference_tag(const std::string& reference) {
    auto slash = reference.rfind('/');
    auto colon = reference.rfind(':');
    if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) {
        return "latest";
    }
    return reference.substr(colon + 1);
}

ShipActions make_default_actions(const DefaultActionOptions& o) {
    ShipActions a;
    a.convert = [s = o.convert, log = o.log](const fs::path& in, const fs::path& out) {
        return convert_file(s, log, in, out);
    };
    a.is_onnx = [s = o.convert](const fs::path& path) {
        if (s.passes || s.opset || (!s.from.empty() && s.from != "onnx")) {
            return false; // re-emitted (opset, fp16, int8) or named as another format
        }
        return convert::detect_file_format(path) == "onnx";
    };
    a.check = check_file;
    a.scaffold = [dir = o.template_dir](const ScaffoldRequest& req) { return scaffold(dir, req); };
    a.refresh_signature = [](const fs::path& module_dir, const fs::path& onnx) {
        return solution::refresh_signature(module_dir, onnx);
    };
    a.image_reference = image_reference;
    a.gen = [log = o.log](const GenRequest& req) { return gen(req, log); };
    a.validate = [log = o.log](const fs::path& p) { return validate_file(p, log); };
    a.deploy = [hub = o.hub](const DeployRequest& req, Mode mode) { return deploy(hub, req, mode); };
    a.wait = [hub = o.hub](const DeployRequest& req) { return wait(hub, req); };
    return a;
}

void add_oci_layout_actions(ShipActions& a, const fs::path& layout_dir) {
    a.pushed_digest = [layout_dir](const std::string& reference) -> Result<std::optional<std::string>> {
        std::error_code ec;
        if (!fs::exists(layout_dir / "index.json", ec)) {
            return std::optional<std::string>();
        }
        EDGESHIP_TRY_ASSIGN(auto layout, oci::OciLayout::open(layout_dir));
        auto found = layout.find(reference_tag(reference));
        if (!found) {
            return std::optional<std::string>();
        }
        return std::optional<std::string>(found->digest.str());
    };
    a.push = [layout_dir](const ShipImage& img) -> Result<PushOutcome> {
        if (!img.image) {
            return fail("push: image " + img.reference + " was not built in this run");
        }
        std::error_code ec;
        Result<oci::OciLayout> layout = fs::exists(layout_dir / "index.json", ec) ? oci::OciLayout::open(layout_dir)
                                                                                 : oci::OciLayout::create(layout_dir);
        if (!layout) {
            return unexpected(std::move(layout).error());
        }
        PushOutcome out;
        auto count = [&](const oci::Descriptor& d) {
            bool present = layout->has_blob(d.digest);
            (present ? out.bytes_skipped : out.bytes_uploaded) += static_cast<std::uint64_t>(d.size);
            out.operations.push_back({"file", present ? "keep" : "write", layout->blob_path(d.digest).string(),
                                      std::to_string(d.size) + " bytes"});
        };
        for (const auto& l : img.image->layers) {
            count(l.descriptor);
        }
        count(img.image->config.descriptor);
        count(img.image->manifest.descriptor);
        EDGESHIP_TRY(layout->write_image(*img.image));
        EDGESHIP_TRY(layout->set_tag(img.image->manifest.descriptor, reference_tag(img.reference)));
        out.digest = img.image->manifest.descriptor.digest.str();
        return out;
    };
}

} // namespace edgeship::pipeline
