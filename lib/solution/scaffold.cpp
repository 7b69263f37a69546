#include "solution/scaffold.hpp"

#include "core/fs.hpp"
#include "model/feature_names.hpp"
#include "model/inspect.hpp"
#include "solution/json_text.hpp"
#include "solution/layout.hpp"
#include "templates/engine.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

namespace edgeship::solution {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

constexpr const char* k_model_file = "model.onnx";
constexpr const char* k_module_version = "0.0.1";
constexpr int k_max_batch_rows = 256;

Result<ordered_json> parse_json(const std::string& text, const std::string& where) {
    try {
        return ordered_json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        return fail(where + ": not valid JSON: " + e.what());
    }
}

// JSON value of a dim: a number when fixed, the symbol when symbolic, null when unknown.
ordered_json dim_json(const std::string& d) {
    if (!d.empty() && std::all_of(d.begin(), d.end(), ::isdigit)) {
        return std::stoll(d);
    }
    if (d == "?" || d.empty()) {
        return nullptr;
    }
    return d;
}

ordered_json tensors_json(const std::vector<model::TensorSignature>& sigs) {
    ordered_json arr = ordered_json::array();
    for (const auto& s : sigs) {
        ordered_json t = ordered_json::object();
        t["name"] = s.name;
        t["kind"] = s.kind;
        t["type"] = s.elem_type;
        if (s.has_shape) {
            ordered_json shape = ordered_json::array();
            for (const auto& d : s.dims) {
                shape.push_back(dim_json(d));
            }
            t["shape"] = shape;
        } else {
            t["shape"] = nullptr;
        }
        arr.push_back(t);
    }
    return arr;
}

// The model's signature as the generated code reads it (app/signature.json): drives input mapping,
// validation, /metadata and the module's README.
ordered_json signature_json(const std::optional<model::ModelReport>& report) {
    ordered_json j = ordered_json::object();
    j["model_file"] = k_model_file;
    if (!report) {
        j["inputs"] = nullptr;
        j["outputs"] = nullptr;
        return j;
    }
    // No sha256 or producer here: this file is part of the app layer, which must stay byte-identical when
    // only the model is retrained (a retrained model reaches devices as one new layer, issue 6). The app
    // hashes its model file itself for /metadata.
    j["opsets"] = ordered_json::object();
    for (const auto& [d, v] : report->opset_imports) {
        j["opsets"][d.empty() ? "ai.onnx" : d] = v;
    }
    j["inputs"] = tensors_json(report->inputs);
    j["outputs"] = tensors_json(report->outputs);
    // Named row columns: the converter's feature names (model/feature_names.hpp), when they match the
    // single input's width.
    if (report->inputs.size() == 1) {
        const auto& in = report->inputs.front();
        std::optional<std::int64_t> width;
        if (in.has_shape && in.dims.size() == 2) {
            char* end = nullptr;
            const long long w = std::strtoll(in.dims[1].c_str(), &end, 10);
            if (end != in.dims[1].c_str() && *end == '\0') {
                width = w;
            }
        }
        if (auto names = model::read_feature_names(report->metadata, width)) {
            j["features"] = *names;
        }
    }
    return j;
}

// An example /score body from the signature: two rows of zeros of the single input's width.
std::string example_request(const std::optional<model::ModelReport>& report) {
    if (!report || report->inputs.size() != 1) {
        return R"({"inputs": {"<input name>": [[0.0]]}})";
    }
    const auto& in = report->inputs.front();
    std::size_t width = 1;
    if (in.has_shape && in.dims.size() == 2 && !in.dims[1].empty() &&
        std::all_of(in.dims[1].begin(), in.dims[1].end(), ::isdigit)) {
        width = std::stoul(in.dims[1]);
    }
    ordered_json row = ordered_json::array();
    for (std::size_t i = 0; i < width; ++i) {
        row.push_back(in.elem_type == "float" || in.elem_type == "double" ? ordered_json(0.5) : ordered_json(1));
    }
    ordered_json body = {{"rows", ordered_json::array({row, row})}};
    return body.dump();
}

std::string dims_text(const model::TensorSignature& s) { return model::format_signature(s); }

void fill_common(templates::Dictionary& d, const ModuleSpec& spec, const Runtime& rt,
                 const std::optional<model::ModelReport>& report) {
    d.set("MODULE_NAME", spec.name);
    d.set("RUNTIME", rt.name);
    d.set("RUNTIME_SUMMARY", rt.summary);
    d.set("PORT", std::to_string(rt.port));
    d.set("DEBUG_PORT", std::to_string(rt.debug_port));
    d.set("MAX_BATCH_ROWS", std::to_string(k_max_batch_rows));
    d.set("MODEL_FILE", k_model_file);
    d.set("SIGNATURE_JSON", signature_json(report).dump(2, ' ', true));
    d.set("EXAMPLE_REQUEST", example_request(report));
    std::string plats;
    for (const auto& p : spec.platforms) {
        plats += (plats.empty() ? "" : ", ") + p;
    }
    d.set("PLATFORMS", plats);
    if (report) {
        auto& m = d.add_section("HAS_MODEL");
        m.set("MODEL_SHA256", report->sha256);
        m.set("MODEL_PRODUCER", report->producer_name.empty() ? "unknown" : report->producer_name);
        for (const auto& s : report->inputs) {
            d.add_section("INPUTS").set("NAME", s.name).set("SIGNATURE", dims_text(s));
        }
        for (const auto& s : report->outputs) {
            d.add_section("OUTPUTS").set("NAME", s.name).set("SIGNATURE", dims_text(s));
        }
    } else {
        d.show_section("NO_MODEL");
    }
}

ordered_json module_json(const ModuleSpec& spec, const Runtime& rt) {
    ordered_json platforms = ordered_json::object();
    for (const auto& p : spec.platforms) {
        platforms[p] = "./Dockerfile." + p;
        if (std::find(rt.debug_platforms.begin(), rt.debug_platforms.end(), p) != rt.debug_platforms.end()) {
            platforms[p + ".debug"] = "./Dockerfile." + p + ".debug";
        }
    }
    ordered_json j = ordered_json::object();
    j["$schema-version"] = "0.0.1";
    j["description"] = rt.summary;
    j["image"] = ordered_json::object();
    j["image"]["repository"] = "${CONTAINER_REGISTRY_SERVER}/" + spec.name; // docs/design/iothub.md §1.2
    j["image"]["tag"] = {{"version", k_module_version}, {"platforms", platforms}};
    j["image"]["buildOptions"] = ordered_json::array();
    j["image"]["contextPath"] = "./";
    j["language"] = rt.language;
    return j;
}

// The module's entry in deployment(.debug).template.json.
ordered_json deployment_entry(const ModuleSpec& spec, const Runtime& rt, int host_port, bool debug) {
    const std::string port = std::to_string(rt.port) + "/tcp";
    ordered_json create = ordered_json::object();
    create["ExposedPorts"] = {{port, ordered_json::object()}};
    ordered_json bindings = {{port, ordered_json::array({{{"HostPort", std::to_string(host_port)}}})}};
    if (debug && rt.debug_port > 0) {
        // docs/design/iothub.md §1.3: python 5678/tcp, nodejs 9229/tcp bound to the same host port
        const std::string dport = std::to_string(rt.debug_port) + "/tcp";
        create["ExposedPorts"][dport] = ordered_json::object();
        bindings[dport] = ordered_json::array({{{"HostPort", std::to_string(rt.debug_port)}}});
    }
    create["HostConfig"] = {{"PortBindings", bindings}};
    ordered_json e = ordered_json::object();
    e["version"] = "1.0";
    e["type"] = "docker";
    e["status"] = "running";
    e["restartPolicy"] = "always";
    e["settings"] = ordered_json::object();
    e["settings"]["image"] = "${MODULES." + spec.name + (debug ? ".debug}" : "}");
    e["settings"]["createOptions"] = create;
    e["env"] = ordered_json::object();
    e["env"]["MODEL_PATH"] = {{"value", std::string("/app/model/") + k_model_file}};
    e["env"]["PORT"] = {{"value", std::to_string(rt.port)}};
    e["env"]["MAX_BATCH_ROWS"] = {{"value", std::to_string(k_max_batch_rows)}};
    return e;
}

const std::vector<std::string> k_agent_modules = {"modulesContent", "$edgeAgent", "properties.desired", "modules"};
const std::vector<std::string> k_hub_routes = {"modulesContent", "$edgeHub", "properties.desired", "routes"};

// Adds the module and its default route to one template's text (§1: "<m>ToIoTHub").
Result<std::string> add_to_template(const std::string& text, const std::string& where, const ModuleSpec& spec,
                                    const Runtime& rt, bool debug) {
    EDGESHIP_TRY_ASSIGN(auto parsed, parse_json(text, where));
    int existing = 0;
    if (parsed.contains("modulesContent") && parsed["modulesContent"].contains("$edgeAgent") &&
        parsed["modulesContent"]["$edgeAgent"].contains("properties.desired") &&
        parsed["modulesContent"]["$edgeAgent"]["properties.desired"].contains("modules")) {
        existing = static_cast<int>(parsed["modulesContent"]["$edgeAgent"]["properties.desired"]["modules"].size());
    }
    auto with_module = insert_member(text, k_agent_modules, spec.name,
                                     deployment_entry(spec, rt, rt.port + existing, debug));
    if (!with_module) {
        return unexpected(std::move(with_module).error().context(where));
    }
    const std::string route = "FROM /messages/modules/" + spec.name + "/outputs/* INTO $upstream";
    auto with_route = insert_member(*with_module, k_hub_routes, spec.name + "ToIoTHub", route);
    if (!with_route) {
        return unexpected(std::move(with_route).error().context(where));
    }
    return with_route;
}

Result<std::vector<PlannedFile>> module_files(const ModuleSpec& spec, const Runtime& rt,
                                              const templates::TemplateSource& source) {
    std::optional<model::ModelReport> report;
    if (spec.model) {
        auto r = model::inspect_model(*spec.model);
        if (!r) {
            return unexpected(std::move(r).error().context("reading --model"));
        }
        if (auto valid = model::require_valid(spec.model->string(), r->findings); !valid) {
            return unexpected(std::move(valid).error().hint("run 'edgeship check " + spec.model->string() + "'"));
        }
        report = std::move(*r);
    }
    const fs::path base = fs::path("modules") / spec.name;
    std::vector<PlannedFile> files;
    const std::string prefix = "runtimes/" + rt.name + "/module/";
    for (const auto& name : source.list(prefix)) {
        EDGESHIP_TRY_ASSIGN(auto text, source.read(name));
        templates::Dictionary d;
        fill_common(d, spec, rt, report);
        EDGESHIP_TRY_ASSIGN(auto rendered, templates::render(name, text, d));
        files.push_back({base / name.substr(prefix.size()), std::move(rendered), std::nullopt, false});
    }
    auto dockerfile = [&](const std::string& tpl, const std::string& platform, const std::string& base_image,
                          const std::string& out) -> Result<void> {
        const std::string name = "runtimes/" + rt.name + "/" + tpl;
        EDGESHIP_TRY_ASSIGN(auto text, source.read(name));
        templates::Dictionary d;
        fill_common(d, spec, rt, report);
        d.set("PLATFORM", platform);
        d.set("BASE_IMAGE", base_image);
        EDGESHIP_TRY_ASSIGN(auto rendered, templates::render(name, text, d));
        files.push_back({base / out, std::move(rendered), std::nullopt, false});
        return {};
    };
    for (const auto& p : spec.platforms) {
        auto it = std::find_if(rt.platforms.begin(), rt.platforms.end(), [&](const auto& kv) { return kv.first == p; });
        EDGESHIP_TRY(dockerfile("Dockerfile.tpl", p, it->second, "Dockerfile." + p));
        if (std::find(rt.debug_platforms.begin(), rt.debug_platforms.end(), p) != rt.debug_platforms.end()) {
            EDGESHIP_TRY(dockerfile("Dockerfile.debug.tpl", p, it->second, "Dockerfile." + p + ".debug"));
        }
    }
    files.push_back({base / "module.json", module_json(spec, rt).dump(2, ' ', true) + "\n", std::nullopt, false});
    if (spec.model) {
        files.push_back({base / "model" / k_model_file, "", *spec.model, false});
    }
    return files;
}

Result<void> check_spec(const ModuleSpec& spec, const Runtime& rt) {
    EDGESHIP_TRY(check_module_name(spec.name));
    if (spec.platforms.empty()) {
        return fail("no platform given", ExitCode::usage);
    }
    std::set<std::string> seen;
    for (const auto& p : spec.platforms) {
        if (!seen.insert(p).second) {
            return fail("platform '" + p + "' given twice", ExitCode::usage);
        }
        for (const auto& [rp, why] : rt.refused_platforms) {
            if (rp == p) {
                return unexpected(Error("runtime " + rt.name + " cannot serve platform " + p + ": " + why, ExitCode::usage)
                    .hint("drop " + p + " from --platforms"));
            }
        }
        bool known = std::any_of(rt.platforms.begin(), rt.platforms.end(), [&](const auto& kv) { return kv.first == p; });
        if (!known) {
            std::string have;
            for (const auto& [rp, img] : rt.platforms) {
                have += (have.empty() ? "" : ", ") + rp;
            }
            return fail("runtime " + rt.name + " has no platform '" + p + "' (available: " + have + ")",
                        ExitCode::usage);
        }
    }
    return {};
}

void sort_files(std::vector<PlannedFile>& files) {
    std::sort(files.begin(), files.end(), [](const PlannedFile& a, const PlannedFile& b) { return a.path < b.path; });
}

Result<fs::path> make_stage(const fs::path& parent, const std::string& stem) {
    std::string tmpl = (parent / ("." + stem + ".edgeship-tmp-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        return fail(parent.string() + ": cannot create a staging directory: " + std::strerror(errno));
    }
    return fs::path(tmpl);
}

Result<void> write_into(const fs::path& dir, const PlannedFile& f, const fs::path& rel) {
    fs::path target = dir / rel;
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
        return fail(target.parent_path().string() + ": " + ec.message());
    }
    if (f.copy_from) {
        fs::copy_file(*f.copy_from, target, fs::copy_options::overwrite_existing, ec);
        if (ec) {
            return fail("copying " + f.copy_from->string() + " to " + target.string() + ": " + ec.message());
        }
        return {};
    }
    return core::write_file_atomic(target, f.content);
}

} // namespace

Result<Runtime> load_runtime(const templates::TemplateSource& source, const std::string& name) {
    const std::string file = "runtimes/" + name + "/runtime.json";
    if (!source.exists(file)) {
        std::string have;
        for (const auto& n : runtime_names(source)) {
            have += (have.empty() ? "" : ", ") + n;
        }
        return fail("unknown runtime '" + name + "' (available: " + have + ")", ExitCode::usage);
    }
    EDGESHIP_TRY_ASSIGN(auto text, source.read(file));
    EDGESHIP_TRY_ASSIGN(auto j, parse_json(text, file));
    Runtime rt;
    try {
        rt.name = j.at("name").get<std::string>();
        rt.language = j.at("language").get<std::string>();
        rt.summary = j.value("summary", "");
        rt.port = j.at("port").get<int>();
        rt.debug_port = j.value("debug_port", 0);
        for (const auto& [p, v] : j.at("platforms").items()) {
            rt.platforms.emplace_back(p, v.at("base_image").get<std::string>());
        }
        if (j.contains("refused_platforms")) {
            for (const auto& [p, v] : j["refused_platforms"].items()) {
                rt.refused_platforms.emplace_back(p, v.get<std::string>());
            }
        }
        if (j.contains("debug_platforms")) {
            rt.debug_platforms = j["debug_platforms"].get<std::vector<std::string>>();
        }
    } catch (const nlohmann::json::exception& e) {
        return fail(file + ": " + e.what());
    }
    return rt;
}

std::vector<std::string> runtime_names(const templates::TemplateSource& source) {
    std::set<std::string> names;
    for (const auto& f : source.list("runtimes/")) {
        auto rest = f.substr(9);
        auto slash = rest.find('/');
        if (slash != std::string::npos && rest.substr(slash + 1) == "runtime.json") {
            names.insert(rest.substr(0, slash));
        }
    }
    return {names.begin(), names.end()};
}

Result<ScaffoldPlan> plan_init(const InitOptions& options, const templates::TemplateSource& source) {
    std::error_code ec;
    if (fs::exists(options.dir, ec)) {
        if (!fs::is_directory(options.dir, ec) || !fs::is_empty(options.dir, ec)) {
            return unexpected(Error(options.dir.string() + ": already exists and is not an empty directory", ExitCode::usage)
                .hint("pick a new directory, or use 'edgeship module add' inside an existing solution"));
        }
    }
    EDGESHIP_TRY_ASSIGN(auto rt, load_runtime(source, options.module.runtime));
    EDGESHIP_TRY(check_spec(options.module, rt));
    ScaffoldPlan plan;
    plan.root = options.dir;
    plan.module = options.module.name;
    plan.runtime = rt.name;
    plan.platforms = options.module.platforms;

    templates::Dictionary d;
    d.set("REGISTRY", options.registry);
    d.set("EDGE_RUNTIME_VERSION", options.edge_runtime_version);
    // docs/design/iothub.md §1.1: schema versions follow the runtime; 1.2 and later: agent 1.1, hub 1.2
    const bool modern = options.edge_runtime_version != "1.0" && options.edge_runtime_version != "1.1";
    d.set("EDGEAGENT_SCHEMA_VERSION", modern ? "1.1" : options.edge_runtime_version);
    d.set("EDGEHUB_SCHEMA_VERSION", modern ? "1.2" : options.edge_runtime_version);
    d.set("DEFAULT_PLATFORM", options.module.platforms.front());
    struct Base {
        const char* tpl;
        const char* out;
        int debug; // -1 not a deployment template
    };
    for (const Base& b : {Base{"solution/env", ".env", -1}, Base{"solution/gitignore", ".gitignore", -1},
                          Base{"solution/deployment.template.json", "deployment.template.json", 0},
                          Base{"solution/deployment.debug.template.json", "deployment.debug.template.json", 1}}) {
        EDGESHIP_TRY_ASSIGN(auto text, source.read(b.tpl));
        EDGESHIP_TRY_ASSIGN(auto rendered, templates::render(b.tpl, text, d));
        if (b.debug >= 0) {
            EDGESHIP_TRY_ASSIGN(rendered, add_to_template(rendered, b.tpl, options.module, rt, b.debug == 1));
        }
        plan.files.push_back({b.out, std::move(rendered), std::nullopt, false});
    }
    EDGESHIP_TRY_ASSIGN(auto files, module_files(options.module, rt, source));
    plan.files.insert(plan.files.end(), files.begin(), files.end());
    sort_files(plan.files);
    return plan;
}

Result<ScaffoldPlan> plan_module_add(const fs::path& root, const ModuleSpec& spec,
                                     const templates::TemplateSource& source) {
    EDGESHIP_TRY_ASSIGN(auto rt, load_runtime(source, spec.runtime));
    EDGESHIP_TRY(check_spec(spec, rt));
    std::error_code ec;
    const fs::path main_template = root / "deployment.template.json";
    if (!fs::is_regular_file(main_template, ec)) {
        return unexpected(Error(main_template.string() + ": not found; is " + root.string() + " a solution?")
            .hint("create one with 'edgeship init DIR', or pass --solution DIR"));
    }
    if (fs::exists(root / "modules" / spec.name, ec)) {
        return fail((root / "modules" / spec.name).string() + ": already exists", ExitCode::usage);
    }
    ScaffoldPlan plan;
    plan.root = root;
    plan.module = spec.name;
    plan.runtime = rt.name;
    plan.platforms = spec.platforms;
    for (const auto& [file, debug] : {std::pair{"deployment.template.json", false},
                                      std::pair{"deployment.debug.template.json", true}}) {
        fs::path p = root / file;
        if (!fs::is_regular_file(p, ec)) {
            continue;
        }
        EDGESHIP_TRY_ASSIGN(auto text, core::read_file(p));
        EDGESHIP_TRY_ASSIGN(auto updated, add_to_template(text, p.string(), spec, rt, debug));
        plan.files.push_back({file, std::move(updated), std::nullopt, true});
    }
    EDGESHIP_TRY_ASSIGN(auto files, module_files(spec, rt, source));
    plan.files.insert(plan.files.end(), files.begin(), files.end());
    sort_files(plan.files);
    return plan;
}

Result<void> apply_plan(const ScaffoldPlan& plan) {
    std::error_code ec;
    const bool new_solution = std::none_of(plan.files.begin(), plan.files.end(),
                                           [](const PlannedFile& f) { return f.replaces_existing; });
    fs::path root = plan.root;
    if (new_solution) {
        fs::path parent = fs::absolute(root, ec).parent_path();
        fs::create_directories(parent, ec);
        if (ec) {
            return fail(parent.string() + ": " + ec.message());
        }
        EDGESHIP_TRY_ASSIGN(auto stage, make_stage(parent, root.filename().string()));
        for (const auto& f : plan.files) {
            if (auto r = write_into(stage, f, f.path); !r) {
                fs::remove_all(stage, ec);
                return r;
            }
        }
        // rename(2) replaces an empty directory, so an existing empty DIR is fine
        fs::rename(stage, fs::absolute(root), ec);
        if (ec) {
            std::error_code ec2;
            fs::remove_all(stage, ec2);
            return fail(root.string() + ": cannot move the new solution into place: " + ec.message());
        }
        return {};
    }
    // module add: stage modules/<name>, prepare every template rewrite, then rename and commit
    const fs::path module_dir = root / "modules" / plan.module;
    fs::create_directories(module_dir.parent_path(), ec);
    EDGESHIP_TRY_ASSIGN(auto stage, make_stage(module_dir.parent_path(), plan.module));
    auto cleanup = [&] {
        std::error_code e2;
        fs::remove_all(stage, e2);
    };
    std::vector<core::AtomicFile> rewrites;
    const fs::path module_rel = fs::path("modules") / plan.module;
    for (const auto& f : plan.files) {
        if (f.replaces_existing) {
            auto af = core::AtomicFile::create(root / f.path);
            if (!af) {
                cleanup();
                return unexpected(std::move(af).error());
            }
            if (auto w = af->write(f.content); !w) {
                cleanup();
                return w;
            }
            rewrites.push_back(std::move(*af));
            continue;
        }
        if (auto r = write_into(stage, f, f.path.lexically_relative(module_rel)); !r) {
            cleanup();
            return r;
        }
    }
    fs::rename(stage, module_dir, ec);
    if (ec) {
        cleanup();
        return fail(module_dir.string() + ": cannot move the new module into place: " + ec.message());
    }
    for (auto& af : rewrites) {
        EDGESHIP_TRY(af.commit());
    }
    return {};
}

Result<bool> refresh_signature(const fs::path& module_dir, const fs::path& model) {
    const fs::path path = module_dir / "app" / "signature.json";
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        return false; // a module that is not edgeship's scoring code: nothing generated to keep in step
    }
    auto r = model::inspect_model(model);
    if (!r) {
        return unexpected(std::move(r).error().context("reading " + model.string()));
    }
    // The same bytes init writes (templates/runtimes/*/module/app/signature.json is "{{SIGNATURE_JSON}}\n").
    const std::string want = signature_json(std::optional<model::ModelReport>(std::move(*r))).dump(2, ' ', true) + "\n";
    EDGESHIP_TRY_ASSIGN(auto have, core::read_file(path));
    if (have == want) {
        return false;
    }
    EDGESHIP_TRY(core::write_file_atomic(path, want));
    return true;
}

} // namespace edgeship::solution
