#include "solution/layout.hpp"

#include "core/fs.hpp"

#include <algorithm>
#include <cctype>

namespace edgeship::solution {

namespace fs = std::filesystem;

namespace {

std::string strip(std::string s) {
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
    s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
    return s;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

} // namespace

Result<void> check_module_name(const std::string& name) {
    // docs/design/iothub.md §1: ^[a-zA-Z0-9_]+$, must not start or end with '_'
    bool chars_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_';
    });
    if (!chars_ok || name.front() == '_' || name.back() == '_') {
        return fail("invalid module name '" + name + "': use letters, digits and '_' (not first or last)",
                    ExitCode::usage);
    }
    return {};
}

std::string SolutionEnv::get(const std::string& name, const std::string& fallback) const {
    const std::string* v = core::find_env(vars, name);
    if (v == nullptr) {
        return fallback;
    }
    std::string s = strip(*v);
    return s.empty() ? fallback : s;
}

Result<SolutionEnv> load_env(const fs::path& root, const core::Environment& process_env,
                             const std::optional<fs::path>& env_file) {
    SolutionEnv out;
    if (env_file) {
        out.env_file = *env_file;
        EDGESHIP_TRY_ASSIGN(out.dotenv, core::load_dotenv(*env_file));
        out.env_file_found = true;
    } else {
        std::string name = ".env";
        if (const auto* v = core::find_env(process_env, "DOTENV_FILE"); v != nullptr && !strip(*v).empty()) {
            name = strip(*v); // §1.1: surrounding quotes stripped
            if (name.size() >= 2 && (name.front() == '"' || name.front() == '\'') && name.back() == name.front()) {
                name = name.substr(1, name.size() - 2);
            }
        }
        out.env_file = root / name;
        std::error_code ec;
        if (fs::is_regular_file(out.env_file, ec)) {
            EDGESHIP_TRY_ASSIGN(out.dotenv, core::load_dotenv(out.env_file));
            out.env_file_found = true;
        }
    }
    out.vars = manifest::merge_variables(out.dotenv, process_env);
    return out;
}

const std::string* ModuleInfo::dockerfile(const std::string& platform) const {
    for (const auto& [p, f] : platforms) {
        if (p == platform) {
            return &f;
        }
    }
    return nullptr;
}

Result<ModuleInfo> load_module(const fs::path& module_dir, const core::Environment& vars) {
    ModuleInfo m;
    m.dir = module_dir;
    m.folder = module_dir.filename().string();
    m.module_json = module_dir / "module.json";
    EDGESHIP_TRY_ASSIGN(auto text, core::read_file(m.module_json));
    // §1.2: module.json is environment-expanded before it is parsed (JSON-safely here)
    EDGESHIP_TRY_ASSIGN(auto expanded, manifest::expand_json(text, m.module_json.string(), vars));
    m.json = std::move(expanded.value);
    m.undefined = std::move(expanded.undefined);
    const std::string where = m.module_json.string();
    if (!m.json.is_object() || !m.json.contains("image") || !m.json["image"].is_object()) {
        return fail(where + ": missing 'image' object");
    }
    const auto& image = m.json["image"];
    if (!image.contains("repository") || !image["repository"].is_string() ||
        strip(image["repository"].get<std::string>()).empty()) {
        return unexpected(Error(where + ": image.repository is missing or empty")
            .hint("set \"image\": {\"repository\": \"${CONTAINER_REGISTRY_SERVER}/" + m.folder + "\", …}"));
    }
    m.repository = strip(image["repository"].get<std::string>());
    m.version = "0.0.0";
    if (image.contains("tag") && image["tag"].is_object()) {
        const auto& tag = image["tag"];
        if (tag.contains("version")) {
            if (!tag["version"].is_string()) {
                return fail(where + ": image.tag.version must be a string");
            }
            m.version = tag["version"].get<std::string>();
        }
        if (tag.contains("platforms")) {
            if (!tag["platforms"].is_object()) {
                return fail(where + ": image.tag.platforms must be an object of platform -> Dockerfile");
            }
            for (const auto& [p, f] : tag["platforms"].items()) {
                if (!f.is_string()) {
                    return fail(where + ": image.tag.platforms." + p + " must be a string (a Dockerfile path)");
                }
                m.platforms.emplace_back(p, f.get<std::string>());
            }
        }
    }
    if (m.platforms.empty()) {
        return fail(where + ": image.tag.platforms is missing or empty");
    }
    if (m.json.contains("language") && m.json["language"].is_string()) {
        m.language = m.json["language"].get<std::string>();
    }
    return m;
}

Result<std::vector<ModuleInfo>> load_modules(const fs::path& modules_dir, const core::Environment& vars) {
    std::vector<ModuleInfo> out;
    std::error_code ec;
    if (!fs::is_directory(modules_dir, ec)) {
        return out;
    }
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(modules_dir, ec)) {
        if (e.is_directory() && fs::is_regular_file(e.path() / "module.json")) {
            dirs.push_back(e.path());
        }
    }
    if (ec) {
        return fail(modules_dir.string() + ": " + ec.message());
    }
    std::sort(dirs.begin(), dirs.end());
    for (const auto& d : dirs) {
        EDGESHIP_TRY_ASSIGN(auto m, load_module(d, vars));
        out.push_back(std::move(m));
    }
    return out;
}

std::string image_tag(const ModuleInfo& module, const std::string& platform, const std::string& container_tag) {
    // docs/design/iothub.md §2.4: only the repository is lower-cased
    std::string tag = lower(module.repository) + ":" + module.version;
    if (!container_tag.empty()) {
        tag += "-" + container_tag;
    }
    return tag + "-" + platform;
}

bool valid_tag_part(const std::string& tag) {
    auto slash = tag.rfind('/');
    auto colon = tag.rfind(':');
    if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) {
        return false;
    }
    std::string t = tag.substr(colon + 1);
    if (t.empty() || t.size() > 128) {
        return false;
    }
    auto ok = [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '.' || c == '-'; };
    if (!(std::isalnum(static_cast<unsigned char>(t[0])) || t[0] == '_')) {
        return false;
    }
    return std::all_of(t.begin(), t.end(), ok);
}

} // namespace edgeship::solution
