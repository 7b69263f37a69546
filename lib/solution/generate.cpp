#include "solution/generate.hpp"

#include "core/fs.hpp"
#include "manifest/create_options.hpp"
#include "solution/layout.hpp"

#include <algorithm>
#include <map>

namespace edgeship::solution {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

// Image placeholders of §2.3 resolved for one generation.
class Placeholders {
public:
    Placeholders(const std::vector<solution::ModuleInfo>& modules, std::string platform, std::string container_tag,
                 fs::path template_dir, fs::path modules_dir, const core::Environment& vars)
        : m_modules(modules), m_platform(std::move(platform)), m_container_tag(std::move(container_tag)),
          m_template_dir(std::move(template_dir)), m_modules_dir(std::move(modules_dir)), m_vars(vars) {}

    // Resolves a whole settings.image value. nullopt = not a placeholder (left alone, §2.3).
    Result<std::optional<ImageRef>> resolve(const std::string& image, const std::string& where) {
        const solution::ModuleInfo* mod = nullptr;
        std::string platform;
        if (image.starts_with("${MODULES.") && image.ends_with("}")) {
            std::string inner = image.substr(10, image.size() - 11);
            std::string folder = inner;
            std::string suffix;
            // the folder is the longest prefix that names a module folder
            for (const auto& m : m_modules) {
                if (inner == m.folder) {
                    mod = &m;
                    suffix.clear();
                    break;
                }
                if (inner.starts_with(m.folder + ".") && (mod == nullptr || m.folder.size() > mod->folder.size())) {
                    mod = &m;
                    suffix = inner.substr(m.folder.size() + 1);
                }
            }
            if (mod == nullptr) {
                std::string known;
                for (const auto& m : m_modules) {
                    known += (known.empty() ? "" : ", ") + m.folder;
                }
                auto dot = inner.find('.');
                folder = dot == std::string::npos ? inner : inner.substr(0, dot);
                std::error_code ec;
                bool exists = fs::is_directory(m_modules_dir, ec);
                return unexpected(
                    Error(where + ": " + image + ": no module folder '" + folder + "' in " + m_modules_dir.string() +
                          (exists ? " (folders with a module.json: " + (known.empty() ? "none" : known) + ")"
                                  : " (it does not exist)"))
                        .hint("module folders are looked up in <template's folder>/$MODULES_PATH (default 'modules'); "
                              "set MODULES_PATH in .env if yours live elsewhere, e.g. MODULES_PATH=."));
            }
            platform = suffix.empty() ? m_platform : suffix == "debug" ? m_platform + ".debug" : suffix;
        } else if (image.starts_with("${MODULEDIR<") && image.ends_with("}")) {
            // ${MODULEDIR<rel/path>} / ${MODULEDIR<rel/path>.<platform>} (§2.1 step 3, Azure/iotedgedev#472)
            auto close = image.find('>');
            if (close == std::string::npos) {
                return fail(where + ": " + image + ": malformed MODULEDIR placeholder");
            }
            std::string rel = image.substr(12, close - 12);
            // a template written on Windows: ${MODULEDIR<.\\sample_module_2>} (iotedgedev fails on Linux)
            std::replace(rel.begin(), rel.end(), '\\', '/');
            std::string rest = image.substr(close + 1, image.size() - close - 2);
            EDGESHIP_TRY_ASSIGN(auto loaded, solution::load_module(m_template_dir / rel, m_vars));
            m_extra.push_back(std::make_unique<solution::ModuleInfo>(std::move(loaded)));
            mod = m_extra.back().get();
            platform = rest.empty() ? m_platform : rest.substr(1);
            if (platform == "debug") {
                platform = m_platform + ".debug";
            }
        } else {
            // a literal computed tag still counts (§2.3)
            for (const auto& m : m_modules) {
                for (const auto& [p, f] : m.platforms) {
                    if (solution::image_tag(m, p, m_container_tag) == image) {
                        return std::optional<ImageRef>(ImageRef{"", m.folder, p, image, (m.dir / f).string()});
                    }
                }
            }
            return std::optional<ImageRef>();
        }
        const std::string* dockerfile = mod->dockerfile(platform);
        if (dockerfile == nullptr) {
            std::string have;
            for (const auto& [p, f] : mod->platforms) {
                have += (have.empty() ? "" : ", ") + p;
            }
            return unexpected(Error(mod->module_json.string() + ": platform '" + platform +
                        "' missing from image.tag.platforms (has " + have + "); needed by " + where)
                .hint("add \"" + platform + "\": \"./Dockerfile." + platform + "\" or pick another --platform"));
        }
        std::string tag = solution::image_tag(*mod, platform, m_container_tag);
        if (!solution::valid_tag_part(tag)) {
            return fail(mod->module_json.string() + ": image tag '" + tag +
                        "' is not a valid registry tag ([a-zA-Z0-9_][a-zA-Z0-9._-]{0,127} after ':')");
        }
        return std::optional<ImageRef>(ImageRef{"", mod->folder, platform, tag, (mod->dir / *dockerfile).string()});
    }

private:
    const std::vector<solution::ModuleInfo>& m_modules;
    std::string m_platform;
    std::string m_container_tag;
    fs::path m_template_dir;
    fs::path m_modules_dir;
    const core::Environment& m_vars;
    std::vector<std::unique_ptr<solution::ModuleInfo>> m_extra;
};

struct ModuleSlot {
    std::string name;
    std::string where; // for messages: "modules.score"
    ordered_json* value;
    bool system;
};

// Every module object under $edgeAgent, base ("properties.desired") and layered
// ("properties.desired.modules.<m>", "properties.desired.modules") forms (§5).
std::vector<ModuleSlot> module_slots(ordered_json& agent) {
    std::vector<ModuleSlot> out;
    if (!agent.is_object()) {
        return out;
    }
    for (auto& [key, value] : agent.items()) {
        if (!value.is_object()) {
            continue;
        }
        if (key == "properties.desired") {
            for (const char* group : {"systemModules", "modules"}) {
                if (value.contains(group) && value[group].is_object()) {
                    for (auto& [m, mv] : value[group].items()) {
                        out.push_back({m, std::string(group) + "." + m, &mv, group[0] == 's'});
                    }
                }
            }
            continue;
        }
        for (const std::string group : {"systemModules", "modules"}) {
            const std::string prefix = "properties.desired." + group;
            if (key == prefix) {
                for (auto& [m, mv] : value.items()) {
                    out.push_back({m, key + "." + m, &mv, group[0] == 's'});
                }
            } else if (key.starts_with(prefix + ".")) {
                out.push_back({key.substr(prefix.size() + 1), key, &value, group[0] == 's'});
            }
        }
    }
    return out;
}

// "file:line:col" of a module's settings.image placeholder in the original template text: the first
// occurrence of the JSON string after the module's key, else anywhere; just the file when absent.
std::string locate_image(const std::string& text, const std::string& file, const std::string& module,
                         const std::string& image) {
    std::string needle = nlohmann::json(image).dump();
    auto key = text.find(nlohmann::json(module).dump());
    auto at = text.find(needle, key == std::string::npos ? 0 : key);
    if (at == std::string::npos) {
        at = text.find(needle);
    }
    if (at == std::string::npos) {
        return file;
    }
    auto [line, col] = manifest::line_column(text, at + 1);
    return file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

} // namespace

std::string manifest_file_name(const fs::path& template_file, const std::string& schema_template_version,
                               const std::string& platform, const std::string& deployment_config_file) {
    if (!deployment_config_file.empty()) {
        return deployment_config_file;
    }
    std::string base = template_file.filename().string();
    if (base.ends_with(".template.json")) {
        base = base.substr(0, base.size() - 14);
    } else if (base.ends_with(".json")) {
        base = base.substr(0, base.size() - 5);
    } else {
        base = "deployment";
    }
    // §2.7: plus ".<platform>" if $schema-template > "0.0.1" (string comparison)
    if (!schema_template_version.empty() && schema_template_version > "0.0.1") {
        base += "." + platform;
    }
    return base + ".json";
}

std::string default_platform(const SolutionEnv& env) { return env.get("DEFAULT_PLATFORM", "amd64"); }

Result<fs::path> default_manifest_path(const fs::path& root, const core::Environment& process_env,
                                       const std::optional<std::string>& platform) {
    EDGESHIP_TRY_ASSIGN(auto env, solution::load_env(root, process_env));
    const fs::path template_file = root / env.get("DEPLOYMENT_CONFIG_TEMPLATE_FILE", "deployment.template.json");
    std::string schema_template = "4.0.0"; // what init writes; only a template can say otherwise
    std::error_code ec;
    if (fs::is_regular_file(template_file, ec)) {
        auto text = core::read_file(template_file);
        if (text) {
            // Only the version is wanted: a template that does not parse yet is gen's to report.
            auto j = nlohmann::json::parse(*text, nullptr, false);
            if (j.is_object()) {
                auto it = j.find("$schema-template");
                schema_template = it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
            }
        }
    }
    const std::string deployment_config_file = env.get("DEPLOYMENT_CONFIG_FILE", env.get("MODULES_CONFIG_FILE"));
    return root / env.get("CONFIG_OUTPUT_DIR", "config") /
           manifest_file_name(template_file, schema_template, platform ? *platform : default_platform(env),
                              deployment_config_file);
}

std::string serialize_manifest(const ordered_json& manifest) { return manifest.dump(2, ' ', true); }

Result<GeneratedManifest> generate_manifest(const GenerateOptions& options, const core::Environment& process_env,
                                            const core::Logger& log) {
    GeneratedManifest out;
    EDGESHIP_TRY_ASSIGN(auto env, solution::load_env(options.solution_dir, process_env, options.env_file));
    log.debug(env.env_file_found ? "variables: " + env.env_file.string() + " under the environment"
                                 : "variables: environment only (no " + env.env_file.string() + ")");
    out.template_file = options.template_file
                            ? *options.template_file
                            : options.solution_dir / env.get("DEPLOYMENT_CONFIG_TEMPLATE_FILE", "deployment.template.json");
    EDGESHIP_TRY_ASSIGN(auto text, core::read_file(out.template_file));
    const auto strict = options.strict == Strict::yes ? manifest::StrictVariables::yes : manifest::StrictVariables::no;
    EDGESHIP_TRY_ASSIGN(auto expanded, manifest::expand_json(text, out.template_file.string(), env.vars, strict));
    out.manifest = std::move(expanded.value);
    out.undefined = std::move(expanded.undefined);

    // §1: modules/ is resolved relative to the template file's directory
    fs::path template_dir = out.template_file.parent_path();
    if (template_dir.empty()) {
        template_dir = ".";
    }
    fs::path modules_dir = template_dir / env.get("MODULES_PATH", "modules");
    EDGESHIP_TRY_ASSIGN(auto modules, solution::load_modules(modules_dir, env.vars));
    for (const auto& m : modules) {
        out.undefined.insert(out.undefined.end(), m.undefined.begin(), m.undefined.end());
    }
    if (options.strict == Strict::yes && !out.undefined.empty()) {
        return unexpected(manifest::undefined_error(out.undefined));
    }
    out.platform = options.platform ? *options.platform : default_platform(env);
    const std::string container_tag = env.get("CONTAINER_TAG");

    if (!out.manifest.is_object()) {
        return fail(out.template_file.string() + ": a deployment template is a JSON object");
    }
    ordered_json* holder = &out.manifest;
    std::string holder_path = "$";
    if (out.manifest.contains("content") && out.manifest["content"].is_object()) {
        holder = &out.manifest["content"];
        holder_path = "$.content";
    }
    std::vector<manifest::Finding> gen_findings;
    if (!holder->contains("modulesContent") && holder->contains("moduleContent")) {
        // as az does: the legacy key is sent as modulesContent, with a warning; key order is kept
        ordered_json renamed = ordered_json::object();
        for (auto& [k, v] : holder->items()) {
            renamed[k == "moduleContent" ? "modulesContent" : k] = std::move(v);
        }
        *holder = std::move(renamed);
        gen_findings.push_back({holder_path + ".moduleContent",
                                "'moduleContent' is the deprecated name of 'modulesContent'; written as "
                                "'modulesContent' (as az does): rename it in the template",
                                false});
    }
    ordered_json* mc = holder->contains("modulesContent") ? &(*holder)["modulesContent"] : nullptr;
    if (mc == nullptr || !mc->is_object()) {
        return fail(out.template_file.string() + ": missing 'modulesContent' object (a template is "
                                                 "{\"modulesContent\": {\"$edgeAgent\": …, \"$edgeHub\": …}})");
    }
    std::string schema_template;
    if (out.manifest.contains("$schema-template") && out.manifest["$schema-template"].is_string()) {
        schema_template = out.manifest["$schema-template"].get<std::string>();
    }

    Placeholders placeholders(modules, out.platform, container_tag, template_dir, modules_dir, env.vars);
    if (mc->contains("$edgeAgent")) {
        for (auto& slot : module_slots((*mc)["$edgeAgent"])) {
            if (!slot.value->is_object()) {
                continue;
            }
            auto& settings = (*slot.value)["settings"];
            if (settings.is_null()) {
                slot.value->erase("settings");
                continue;
            }
            if (!settings.is_object()) {
                continue;
            }
            // §2.3: placeholders in systemModules are not resolved
            if (!slot.system && settings.contains("image") && settings["image"].is_string()) {
                std::string where =
                    locate_image(text, out.template_file.string(), slot.name, settings["image"].get<std::string>()) +
                    ": " + slot.where + ".settings.image";
                EDGESHIP_TRY_ASSIGN(auto ref, placeholders.resolve(settings["image"].get<std::string>(), where));
                if (ref) {
                    ref->module = slot.name;
                    settings["image"] = ref->tag;
                    log.debug("image " + slot.name + " = " + ref->tag);
                    out.images.push_back(*ref);
                }
            }
            // §2.1 step 6 / §3: createOptions converted for user and system modules
            EDGESHIP_TRY(manifest::convert_create_options(settings, slot.name));
        }
    }
    out.manifest.erase("$schema-template");

    fs::path output_dir = options.output_dir ? *options.output_dir
                                             : options.solution_dir / env.get("CONFIG_OUTPUT_DIR", "config");
    std::string deployment_config_file = env.get("DEPLOYMENT_CONFIG_FILE", env.get("MODULES_CONFIG_FILE"));
    out.output_path = output_dir / manifest_file_name(out.template_file, schema_template, out.platform,
                                                      deployment_config_file);
    out.text = serialize_manifest(out.manifest);
    if (options.validate == Validate::yes) {
        out.report = manifest::validate_manifest(nlohmann::json(out.manifest));
    }
    out.report.findings.insert(out.report.findings.begin(), gen_findings.begin(), gen_findings.end());
    return out;
}

Result<void> write_manifest(const GeneratedManifest& m) {
    std::error_code ec;
    fs::create_directories(m.output_path.parent_path().empty() ? fs::path(".") : m.output_path.parent_path(), ec);
    if (ec) {
        return fail(m.output_path.parent_path().string() + ": cannot create directory: " + ec.message());
    }
    return core::write_file_atomic(m.output_path, m.text);
}

} // namespace edgeship::solution
