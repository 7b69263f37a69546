#include "engine/agent.hpp"

#include "core/base64.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

namespace edgeship::engine {

namespace {

// Agent (C#) constants and limits; docs/design/container-tests.md rule 1.
constexpr std::size_t k_max_chunks = 100;               // DockerConfig.cs: TwinValueMaxChunks
constexpr std::string_view k_docker_hub = "https://index.docker.io/v1/"; // Constants.cs DefaultRegistryAddress

bool is_system_module(std::string_view name) { return name == "edgeAgent" || name == "edgeHub"; }

std::string trim(std::string_view s) {
    auto issp = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (!s.empty() && issp(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && issp(s.back())) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

std::string lower(std::string_view s) {
    std::string r(s);
    std::transform(r.begin(), r.end(), r.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return r;
}

// "createOptions" → "", "createOptions07" → "07"; nullopt for any other key.
std::optional<std::string> chunk_number(std::string_view key) {
    constexpr std::string_view prefix = "createOptions";
    if (!key.starts_with(prefix)) {
        return std::nullopt;
    }
    std::string_view rest = key.substr(prefix.size());
    if (!std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    return std::string(rest);
}

std::string two_digits(std::size_t n) { return n < 10 ? "0" + std::to_string(n) : std::to_string(n); }

// The JSON value of an env entry or registry field as text (a non-string value is kept as JSON text).
std::string text_of(const nlohmann::json& v) {
    if (v.is_null()) {
        return "";
    }
    return v.is_string() ? v.get<std::string>() : v.dump();
}

Result<std::vector<RegistryCredential>> read_credentials(const nlohmann::json& agent) {
    std::vector<RegistryCredential> out;
    const nlohmann::json* creds = nullptr;
    if (auto rt = agent.find("runtime"); rt != agent.end() && rt->is_object()) {
        if (auto st = rt->find("settings"); st != rt->end() && st->is_object()) {
            if (auto rc = st->find("registryCredentials"); rc != st->end() && !rc->is_null()) {
                creds = &*rc;
            }
        }
    }
    if (creds == nullptr) {
        return out;
    }
    if (!creds->is_object()) {
        return fail("runtime.settings.registryCredentials is not an object");
    }
    for (const auto& [key, c] : creds->items()) {
        if (!c.is_object()) {
            return fail("registryCredentials." + key + " is not an object");
        }
        RegistryCredential rc;
        rc.address = trim(text_of(c.value("address", nlohmann::json())));
        rc.username = text_of(c.value("username", nlohmann::json()));
        rc.password = text_of(c.value("password", nlohmann::json()));
        if (rc.address.empty()) {
            return fail("registryCredentials." + key + ": no address");
        }
        out.push_back(std::move(rc));
    }
    return out;
}

Result<ModulePlan> plan_module(const std::string& name, const nlohmann::json& m, const PlanOptions& options,
                               const std::vector<RegistryCredential>& creds) {
    if (!m.is_object()) {
        return fail("not an object");
    }
    if (auto t = m.find("type"); t != m.end() && !(t->is_string() && t->get<std::string>() == "docker")) {
        return fail("type " + t->dump() + " is not docker");
    }
    ModulePlan plan;
    plan.name = name;
    nlohmann::json settings = m.value("settings", nlohmann::json::object());
    if (!settings.is_object()) {
        return fail("settings is not an object");
    }
    auto image = settings.find("image");
    if (image == settings.end() || !image->is_string()) {
        return fail("settings.image is missing or not a string");
    }
    EDGESHIP_TRY_ASSIGN(plan.image, normalize_image(image->get<std::string>()));
    EDGESHIP_TRY_ASSIGN(nlohmann::json body, join_create_options(settings));

    std::map<std::string, std::string> env;
    if (auto e = m.find("env"); e != m.end() && !e->is_null()) {
        if (!e->is_object()) {
            return fail("env is not an object");
        }
        for (const auto& [k, v] : e->items()) {
            env[k] = text_of(v.is_object() ? v.value("value", nlohmann::json()) : v);
        }
    }
    // Rule 6: createOptions is the body, with Image and the merged Env.
    body["Image"] = plan.image;
    if (auto ce = body.find("Env"); ce != body.end() && !ce->is_null() && !ce->is_array()) {
        return fail("createOptions.Env is not an array");
    }
    body["Env"] = merge_env(body.value("Env", nlohmann::json::array()), env);
    // Rule 7: the agent's labels over createOptions' own.
    nlohmann::json labels = body.value("Labels", nlohmann::json::object());
    if (!labels.is_object()) {
        return fail("createOptions.Labels is not an object");
    }
    labels[std::string(k_owner_label)] = k_owner_value;
    labels[std::string(k_original_image_label)] = plan.image;
    for (const auto& [k, v] : options.extra_labels) {
        labels[k] = v;
    }
    body["Labels"] = labels;
    // Rule 9: the runtime network when createOptions name none.
    nlohmann::json host_config = body.value("HostConfig", nlohmann::json::object());
    if (!host_config.is_object()) {
        return fail("createOptions.HostConfig is not an object");
    }
    if (options.network == "host") {
        host_config["NetworkMode"] = "host";
        body.erase("NetworkingConfig");
    } else {
        bool has_endpoints = false;
        if (auto nc = body.find("NetworkingConfig"); nc != body.end() && nc->is_object()) {
            auto ec = nc->find("EndpointsConfig");
            has_endpoints = ec != nc->end() && !ec->is_null();
        }
        if (!has_endpoints) {
            body["NetworkingConfig"] = {{"EndpointsConfig", {{options.network, nlohmann::json::object()}}}};
            // Docker 20.10 attaches a container to NetworkMode's network (default: the bridge) and only
            // uses an EndpointsConfig entry for that network; aziot-edged's engines get the same effect
            // from the agent's own network settings. Set it so the module joins the runtime network.
            if (!host_config.contains("NetworkMode")) {
                host_config["NetworkMode"] = options.network;
            }
        }
    }
    body["HostConfig"] = host_config;
    plan.body = std::move(body);

    if (auto so = m.find("startupOrder"); so != m.end() && !so->is_null()) {
        if (!so->is_number_unsigned() && !(so->is_number_integer() && so->get<std::int64_t>() >= 0)) {
            return fail("startupOrder " + so->dump() + " is not a non-negative integer");
        }
        plan.startup_order = so->get<std::uint64_t>();
        if (plan.startup_order > k_default_startup_order) {
            return fail("startupOrder " + so->dump() + " is larger than 4294967295");
        }
    }
    plan.restart_policy = text_of(m.value("restartPolicy", nlohmann::json("always")));
    plan.status = text_of(m.value("status", nlohmann::json("running")));
    plan.credential = credential_for(plan.image, creds);
    return plan;
}

} // namespace

Result<std::string> normalize_image(std::string_view image) {
    std::string s = trim(image);
    if (s.empty()) {
        return fail("settings.image is empty");
    }
    if (s.front() == '$') {
        return fail("image " + s + ": $upstream images need a parent device (not supported by edgeship run)");
    }
    // DockerConfig.cs ImageRegex: repo path components, a name, an optional :tag.
    static const std::regex re(R"(^(([^/]*/)*)([^/:]+)(:[^/:]+)?$)");
    std::smatch m;
    if (!std::regex_match(s, m, re)) {
        return fail("image " + s + " is not in the right format");
    }
    return m[4].matched ? s : s + ":latest";
}

Result<nlohmann::json> join_create_options(const nlohmann::json& settings) {
    std::vector<std::pair<std::string, const nlohmann::json*>> chunks;
    for (const auto& [key, value] : settings.items()) {
        if (chunk_number(key)) {
            chunks.emplace_back(key, &value);
        }
    }
    std::sort(chunks.begin(), chunks.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    if (chunks.size() > k_max_chunks) {
        chunks.resize(k_max_chunks);
    }
    std::string text;
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        const auto& [key, value] = chunks[i];
        std::string num = *chunk_number(key);
        if (i == 0 && !num.empty()) {
            return fail("createOptions: expected createOptions first, found " + key);
        }
        if (i > 0 && (num.empty() || num != two_digits(i))) {
            return fail("createOptions: expected createOptions" + two_digits(i) + ", found " + key);
        }
        // A template-style object (never chunked) is taken as its JSON text.
        text += value->is_string() ? value->get<std::string>() : (value->is_null() ? "" : value->dump());
    }
    std::string t = trim(text);
    if (t.empty() || lower(t) == "null") {
        return nlohmann::json::object();
    }
    nlohmann::json parsed = nlohmann::json::parse(t, nullptr, false);
    if (parsed.is_discarded()) {
        return fail("createOptions is not JSON");
    }
    if (!parsed.is_object()) {
        return fail("createOptions is not a JSON object");
    }
    return parsed;
}

std::vector<std::string> merge_env(const nlohmann::json& create_env, const std::map<std::string, std::string>& module_env) {
    std::map<std::string, std::string> merged = module_env;
    if (create_env.is_array()) {
        for (const auto& e : create_env) {
            std::string entry = text_of(e);
            auto eq = entry.find('=');
            merged[entry.substr(0, eq)] = eq == std::string::npos ? "" : entry.substr(eq + 1);
        }
    }
    std::vector<std::string> out;
    out.reserve(merged.size());
    for (const auto& [k, v] : merged) {
        out.push_back(k + "=" + v);
    }
    return out;
}

std::optional<std::string> image_registry(std::string_view image) {
    auto slash = image.find('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view first = image.substr(0, slash);
    if (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos) {
        return std::string(first);
    }
    return std::string(k_docker_hub);
}

std::optional<RegistryCredential> credential_for(std::string_view image, const std::vector<RegistryCredential>& creds) {
    auto registry = image_registry(image);
    if (!registry) {
        return std::nullopt;
    }
    for (const auto& c : creds) {
        if (lower(c.address) == lower(*registry)) {
            return c;
        }
    }
    return std::nullopt;
}

std::string registry_auth_header(const RegistryCredential& credential) {
    nlohmann::json j = {{"username", credential.username},
                        {"password", credential.password},
                        {"serveraddress", credential.address}};
    std::string b64 = core::base64_encode(j.dump());
    for (char& c : b64) {
        if (c == '+') {
            c = '-';
        } else if (c == '/') {
            c = '_';
        }
    }
    return b64;
}

std::pair<std::string, std::string> split_image(std::string_view image) {
    if (image.find('@') != std::string_view::npos) {
        return {std::string(image), ""};
    }
    auto colon = image.rfind(':');
    auto slash = image.rfind('/');
    if (colon == std::string_view::npos || (slash != std::string_view::npos && colon < slash)) {
        return {std::string(image), ""};
    }
    return {std::string(image.substr(0, colon)), std::string(image.substr(colon + 1))};
}

Result<Plan> plan_deployment(const nlohmann::json& manifest, const PlanOptions& options) {
    const nlohmann::json* agent = nullptr;
    if (manifest.is_object()) {
        if (auto mc = manifest.find("modulesContent"); mc != manifest.end() && mc->is_object()) {
            if (auto ea = mc->find("$edgeAgent"); ea != mc->end() && ea->is_object()) {
                if (auto pd = ea->find("properties.desired"); pd != ea->end() && pd->is_object()) {
                    agent = &*pd;
                }
            }
        } else if (auto pd = manifest.find("properties.desired"); pd != manifest.end() && pd->is_object()) {
            agent = &*pd;
        }
    }
    if (agent == nullptr) {
        return fail("no modulesContent.$edgeAgent[\"properties.desired\"] in the manifest");
    }
    auto creds = read_credentials(*agent);
    if (!creds) {
        return unexpected(std::move(creds).error().context("$edgeAgent"));
    }
    Plan plan;
    if (auto sm = agent->find("systemModules"); sm != agent->end() && sm->is_object()) {
        for (const auto& [name, _] : sm->items()) {
            plan.system_modules.push_back(name);
        }
    }
    auto modules = agent->find("modules");
    if (modules != agent->end() && !modules->is_null() && !modules->is_object()) {
        return fail("$edgeAgent modules is not an object");
    }
    if (modules != agent->end() && modules->is_object()) {
        for (const auto& [name, m] : modules->items()) {
            if (is_system_module(name)) {
                plan.system_modules.push_back(name);
                continue;
            }
            auto p = plan_module(name, m, options, *creds);
            if (!p) {
                return unexpected(std::move(p).error().context("module " + name));
            }
            plan.modules.push_back(std::move(*p));
        }
    }
    // HealthRestartPlanner.cs: modules are processed in groups of ascending startupOrder; within a group
    // the agent has no order, so edgeship uses the name (stable output).
    std::stable_sort(plan.modules.begin(), plan.modules.end(), [](const ModulePlan& a, const ModulePlan& b) {
        return a.startup_order != b.startup_order ? a.startup_order < b.startup_order : a.name < b.name;
    });
    return plan;
}

} // namespace edgeship::engine
