#include "imagebuild/runtime_image.hpp"

#include <nlohmann/json.hpp>

namespace edgeship::imagebuild {

namespace {

using nlohmann::ordered_json;

void replace_all(std::string& s, std::string_view from, const std::string& to) {
    for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
        s.replace(pos, from.size(), to);
    }
}

struct Parser {
    std::string what;
    int port = 0;
    int debug_port = 0;

    std::string subst(std::string s) const {
        replace_all(s, "{{PORT}}", std::to_string(port));
        replace_all(s, "{{DEBUG_PORT}}", std::to_string(debug_port));
        return s;
    }
    Result<std::string> string_at(const ordered_json& j, const std::string& key, const std::string& path, bool required) const {
        if (!j.contains(key)) {
            if (required) {
                return fail(what + ": " + path + "." + key + ": missing");
            }
            return std::string();
        }
        if (!j[key].is_string()) {
            return fail(what + ": " + path + "." + key + ": must be a string");
        }
        return subst(j[key].get<std::string>());
    }
    Result<std::vector<std::string>> strings_at(const ordered_json& j, const std::string& key, const std::string& path) const {
        std::vector<std::string> out;
        if (!j.contains(key)) {
            return out;
        }
        if (!j[key].is_array()) {
            return fail(what + ": " + path + "." + key + ": must be an array of strings");
        }
        for (const auto& v : j[key]) {
            if (!v.is_string()) {
                return fail(what + ": " + path + "." + key + ": must be an array of strings");
            }
            out.push_back(subst(v.get<std::string>()));
        }
        return out;
    }
    Result<std::vector<std::pair<std::string, std::string>>> env_at(const ordered_json& j, const std::string& path) const {
        std::vector<std::pair<std::string, std::string>> out;
        if (!j.contains("env")) {
            return out;
        }
        if (!j["env"].is_object()) {
            return fail(what + ": " + path + ".env: must be an object of strings");
        }
        for (const auto& [k, v] : j["env"].items()) {
            if (!v.is_string() || k.empty() || k.find('=') != std::string::npos) {
                return fail(what + ": " + path + ".env." + k + ": must be a string value with a name without '='");
            }
            out.emplace_back(k, subst(v.get<std::string>()));
        }
        return out;
    }
};

void set_env(std::vector<std::pair<std::string, std::string>>& env, const std::string& name, const std::string& value) {
    for (auto& [k, v] : env) {
        if (k == name) {
            v = value;
            return;
        }
    }
    env.emplace_back(name, value);
}

} // namespace

ImageSettings RuntimeImage::settings_for(bool debug_flavour, const std::string& model_file) const {
    ImageSettings s = release;
    if (debug_flavour && has_debug) {
        for (const auto& [k, v] : debug.env) {
            set_env(s.env, k, v);
        }
        if (!debug.expose.empty()) {
            s.expose = debug.expose;
        }
        if (!debug.cmd.empty()) {
            s.cmd = debug.cmd;
        }
    }
    for (auto& [k, v] : s.env) {
        replace_all(v, "{{MODEL_FILE}}", model_file);
    }
    for (auto& c : s.cmd) {
        replace_all(c, "{{MODEL_FILE}}", model_file);
    }
    return s;
}

Result<RuntimeImage> parse_runtime_image(std::string_view runtime_json, std::string_view what) {
    ordered_json j;
    try {
        j = ordered_json::parse(runtime_json);
    } catch (const nlohmann::json::exception& e) {
        return fail(std::string(what) + ": not JSON: " + e.what());
    }
    Parser p{std::string(what)};
    if (!j.is_object() || !j.contains("image") || !j["image"].is_object()) {
        return fail(p.what + ": no \"image\" section (how the Dockerfile lays out the module image)");
    }
    RuntimeImage r;
    r.runtime = j.value("name", "");
    r.language = j.value("language", "");
    if (r.runtime.empty()) {
        return fail(p.what + ": name: missing");
    }
    if (j.contains("port") && j["port"].is_number_integer()) {
        p.port = j["port"].get<int>();
    }
    if (j.contains("debug_port") && j["debug_port"].is_number_integer()) {
        p.debug_port = j["debug_port"].get<int>();
    }
    const auto& im = j["image"];
    EDGESHIP_TRY_ASSIGN(r.requires_text, p.string_at(im, "requires", "image", false));
    EDGESHIP_TRY_ASSIGN(r.workdir, p.string_at(im, "workdir", "image", false));
    EDGESHIP_TRY_ASSIGN(r.user, p.string_at(im, "user", "image", false));
    EDGESHIP_TRY_ASSIGN(r.release.env, p.env_at(im, "image"));
    EDGESHIP_TRY_ASSIGN(r.release.expose, p.strings_at(im, "expose", "image"));
    EDGESHIP_TRY_ASSIGN(r.release.cmd, p.strings_at(im, "cmd", "image"));
    if (!im.contains("copy") || !im["copy"].is_array() || im["copy"].empty()) {
        return fail(p.what + ": image.copy: missing (an array of {\"from\", \"to\"})");
    }
    int models = 0;
    for (std::size_t i = 0; i < im["copy"].size(); ++i) {
        const auto& c = im["copy"][i];
        const std::string path = "image.copy[" + std::to_string(i) + "]";
        if (!c.is_object()) {
            return fail(p.what + ": " + path + ": must be an object");
        }
        CopyRule rule;
        EDGESHIP_TRY_ASSIGN(rule.from, p.string_at(c, "from", path, true));
        EDGESHIP_TRY_ASSIGN(rule.to, p.string_at(c, "to", path, true));
        EDGESHIP_TRY_ASSIGN(auto layer, p.string_at(c, "layer", path, false));
        if (rule.to.empty() || rule.to.front() != '/') {
            return fail(p.what + ": " + path + ".to: must be an absolute path in the image");
        }
        if (rule.from.empty() || rule.from.front() == '/' || rule.from.find("..") != std::string::npos) {
            return fail(p.what + ": " + path + ".from: must be a path inside the module");
        }
        if (!layer.empty() && layer != "model" && layer != "app") {
            return fail(p.what + ": " + path + ".layer: must be \"model\" or \"app\"");
        }
        rule.model = layer == "model";
        models += rule.model ? 1 : 0;
        r.copy.push_back(std::move(rule));
    }
    if (models != 1) {
        return fail(p.what + ": image.copy: exactly one rule must have \"layer\": \"model\" (found " +
                    std::to_string(models) + ")");
    }
    if (im.contains("deps")) {
        const auto& d = im["deps"];
        if (!d.is_object()) {
            return fail(p.what + ": image.deps: must be an object");
        }
        DepsRecipe deps;
        EDGESHIP_TRY_ASSIGN(deps.tool, p.string_at(d, "tool", "image.deps", true));
        if (deps.tool != "npm" && deps.tool != "pip") {
            return fail(p.what + ": image.deps.tool: must be \"npm\" or \"pip\"");
        }
        EDGESHIP_TRY_ASSIGN(deps.files, p.strings_at(d, "files", "image.deps"));
        if (deps.files.empty()) {
            return fail(p.what + ": image.deps.files: missing (the files that define the dependencies)");
        }
        for (const auto& f : deps.files) {
            if (f.empty() || f.front() == '/' || f.find("..") != std::string::npos) {
                return fail(p.what + ": image.deps.files: '" + f + "' must be a path inside the module");
            }
        }
        EDGESHIP_TRY_ASSIGN(deps.to, p.string_at(d, "to", "image.deps", true));
        if (deps.to.size() < 2 || deps.to.front() != '/') {
            return fail(p.what + ": image.deps.to: must be an absolute directory in the image");
        }
        EDGESHIP_TRY_ASSIGN(deps.platform_dirs, p.strings_at(d, "platform_dirs", "image.deps"));
        EDGESHIP_TRY_ASSIGN(deps.pip_platform, p.string_at(d, "pip_platform", "image.deps", deps.tool == "pip"));
        r.deps = std::move(deps);
    }
    if (im.contains("runtime_probe")) {
        const auto& rp = im["runtime_probe"];
        if (!rp.is_object()) {
            return fail(p.what + ": image.runtime_probe: must be an object");
        }
        EDGESHIP_TRY_ASSIGN(r.probe.version_env, p.string_at(rp, "version_env", "image.runtime_probe", false));
        EDGESHIP_TRY_ASSIGN(r.probe.files, p.strings_at(rp, "files", "image.runtime_probe"));
        EDGESHIP_TRY_ASSIGN(r.probe.version_dir_regex, p.string_at(rp, "version_dir_regex", "image.runtime_probe", false));
    }
    if (j.contains("platforms") && j["platforms"].is_object()) {
        for (const auto& [name, v] : j["platforms"].items()) {
            if (v.is_object() && v.contains("base_image") && v["base_image"].is_string()) {
                r.default_bases[name] = v["base_image"].get<std::string>();
            }
        }
    }
    if (im.contains("debug")) {
        if (!im["debug"].is_object()) {
            return fail(p.what + ": image.debug: must be an object");
        }
        r.has_debug = true;
        EDGESHIP_TRY_ASSIGN(r.debug.env, p.env_at(im["debug"], "image.debug"));
        EDGESHIP_TRY_ASSIGN(r.debug.expose, p.strings_at(im["debug"], "expose", "image.debug"));
        EDGESHIP_TRY_ASSIGN(r.debug.cmd, p.strings_at(im["debug"], "cmd", "image.debug"));
    }
    return r;
}

Result<const RuntimeImage*> select_runtime(const solution::ModuleInfo& module, const std::vector<RuntimeImage>& runtimes) {
    std::string have;
    for (const auto& r : runtimes) {
        have += (have.empty() ? "" : ", ") + r.runtime + " (" + r.language + ")";
    }
    const auto& j = module.json;
    if (j.contains("edgeship") && j["edgeship"].is_object() && j["edgeship"].contains("runtime")) {
        if (!j["edgeship"]["runtime"].is_string()) {
            return fail(module.module_json.string() + ": edgeship.runtime: must be a string");
        }
        const auto name = j["edgeship"]["runtime"].get<std::string>();
        for (const auto& r : runtimes) {
            if (r.runtime == name) {
                return &r;
            }
        }
        return fail(module.module_json.string() + ": edgeship.runtime: unknown runtime '" + name + "' (available: " +
                    have + ")");
    }
    const RuntimeImage* found = nullptr;
    for (const auto& r : runtimes) {
        if (!module.language.empty() && r.language == module.language) {
            if (found != nullptr) {
                return unexpected(Error(module.module_json.string() + ": language '" + module.language +
                                        "' matches several runtimes (" + have + ")")
                                      .hint("name one in module.json: \"edgeship\": {\"runtime\": \"" + r.runtime + "\"}"));
            }
            found = &r;
        }
    }
    if (found == nullptr) {
        return unexpected(Error(module.module_json.string() + ": no runtime for language '" + module.language +
                                "' (available: " + have + ")")
                              .hint("set \"language\" or \"edgeship\": {\"runtime\": NAME} in module.json"));
    }
    return found;
}

} // namespace edgeship::imagebuild
