#include "manifest/validate.hpp"

#include "manifest/create_options.hpp"
#include "templates/embedded.hpp"

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <regex>
#include <set>

namespace edgeship::manifest {

using nlohmann::json;

bool ValidationReport::ok() const {
    return std::none_of(findings.begin(), findings.end(), [](const Finding& f) { return f.error; });
}

namespace {

constexpr std::size_t k_max_value_bytes = 4096;     // reference/iothub.md §11.2: each property value ≤ 4 KB
constexpr std::size_t k_max_desired_bytes = 32768;  // §11.2: desired ≤ 32 KB
constexpr std::size_t k_max_key_bytes = 1024;       // §11.2: keys ≤ 1 KB
constexpr std::size_t k_max_depth = 10;             // §11.2: nesting depth 10
constexpr std::size_t k_agent_max_chunks = 100;     // §3: the agent reads up to 100 chunks

std::string join_path(const std::string& base, const std::string& key) { return base + "." + key; }

class Checker {
public:
    explicit Checker(ValidationReport& r) : m_r(r) {}
    void error(std::string path, std::string msg) { m_r.findings.push_back({std::move(path), std::move(msg), true}); }
    void warning(std::string path, std::string msg) { m_r.findings.push_back({std::move(path), std::move(msg), false}); }

private:
    ValidationReport& m_r;
};

// ---- JSON Schema (valijson) -----------------------------------------------------------------------

const valijson::Schema& manifest_schema() {
    static const std::unique_ptr<valijson::Schema> schema = [] {
        auto s = std::make_unique<valijson::Schema>();
        auto text = templates::find_embedded("schema/deployment-manifest.schema.json");
        json doc = json::parse(text.value_or("{}"));
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        valijson::adapters::NlohmannJsonAdapter adapter(doc);
        parser.populateSchema(adapter, *s);
        return s;
    }();
    return *schema;
}

// valijson context "<root>", "[modulesContent]", "[$edgeAgent]", "[0]" -> "$.modulesContent.$edgeAgent[0]"
std::string context_path(const std::vector<std::string>& ctx) {
    std::string out = "$";
    for (const auto& c : ctx) {
        if (c == "<root>") {
            continue;
        }
        if (c.size() >= 2 && c.front() == '[' && c.back() == ']') {
            std::string inner = c.substr(1, c.size() - 2);
            bool index = !inner.empty() && std::all_of(inner.begin(), inner.end(), ::isdigit);
            out += index ? c : "." + inner;
        } else {
            out += "." + c;
        }
    }
    return out;
}

void check_schema(const json& manifest, Checker& ck) {
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(manifest);
    if (validator.validate(manifest_schema(), target, &results)) {
        return;
    }
    // valijson reports each failing level; keep the innermost finding per path, drop the
    // "Failed to validate against schema associated with property name …" wrappers.
    std::vector<std::pair<std::string, std::string>> items;
    valijson::ValidationResults::Error e;
    while (results.popError(e)) {
        if (e.description.starts_with("Failed to validate against schema associated with property") ||
            e.description.starts_with("Failed to validate against child schema") ||
            e.description.starts_with("Failed to validate item") ||
            e.description.starts_with("Failed to validate against additional properties schema") ||
            e.description.starts_with("Failed to validate against dependent schema") ||
            e.description.starts_with("Failed to validate against schema associated with pattern")) {
            continue;
        }
        items.emplace_back(context_path(e.context), e.description);
    }
    std::set<std::pair<std::string, std::string>> seen;
    for (auto& [p, d] : items) {
        if (seen.insert({p, d}).second) {
            ck.error(p, "schema: " + d);
        }
    }
}

// ---- helpers -------------------------------------------------------------------------------------

std::size_t code_points(const std::string& s) {
    return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

bool has_unresolved(const std::string& s) {
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        if (s[i] == '$' && (s[i + 1] == '{' || std::isalpha(static_cast<unsigned char>(s[i + 1])) || s[i + 1] == '_')) {
            return true;
        }
    }
    return false;
}

struct ModuleRef {
    std::string name;
    std::string path;
    const json* value;
    bool system;
};

// The $edgeAgent desired content, base or layered ("properties.desired.modules.m1" keys, §5).
struct AgentView {
    const json* desired = nullptr; // base "properties.desired"
    std::vector<ModuleRef> modules;
    std::string schema_version;
    bool layered = false;
};

AgentView agent_view(const json& agent, const std::string& agent_path) {
    AgentView v;
    if (!agent.is_object()) {
        return v;
    }
    for (const auto& [key, value] : agent.items()) {
        std::string p = join_path(agent_path, key);
        if (key == "properties.desired" && value.is_object()) {
            v.desired = &value;
            if (value.contains("schemaVersion") && value["schemaVersion"].is_string()) {
                v.schema_version = value["schemaVersion"].get<std::string>();
            }
            for (const char* group : {"modules", "systemModules"}) {
                if (value.contains(group) && value[group].is_object()) {
                    for (const auto& [m, mv] : value[group].items()) {
                        v.modules.push_back({m, join_path(join_path(p, group), m), &mv, group[0] == 's'});
                    }
                }
            }
        } else if (key.starts_with("properties.desired.")) {
            v.layered = true;
            std::string rest = key.substr(19);
            for (const std::string group : {"modules", "systemModules"}) {
                if (rest == group && value.is_object()) {
                    for (const auto& [m, mv] : value.items()) {
                        v.modules.push_back({m, join_path(p, m), &mv, group[0] == 's'});
                    }
                } else if (rest.starts_with(group + ".")) {
                    v.modules.push_back({rest.substr(group.size() + 1), p, &value, group[0] == 's'});
                }
            }
            if (rest == "schemaVersion" && value.is_string()) {
                v.schema_version = value.get<std::string>();
            }
        }
    }
    return v;
}

struct RouteRef {
    std::string name;
    std::string path;
    const json* value;
};

std::vector<RouteRef> hub_routes(const json& hub, const std::string& hub_path, std::string& schema_version,
                                 bool& layered) {
    std::vector<RouteRef> out;
    if (!hub.is_object()) {
        return out;
    }
    for (const auto& [key, value] : hub.items()) {
        std::string p = join_path(hub_path, key);
        if (key == "properties.desired" && value.is_object()) {
            if (value.contains("schemaVersion") && value["schemaVersion"].is_string()) {
                schema_version = value["schemaVersion"].get<std::string>();
            }
            if (value.contains("routes") && value["routes"].is_object()) {
                for (const auto& [r, rv] : value["routes"].items()) {
                    out.push_back({r, join_path(join_path(p, "routes"), r), &rv});
                }
            }
        } else if (key.starts_with("properties.desired.routes.")) {
            layered = true;
            out.push_back({key.substr(26), p, &value});
        } else if (key == "properties.desired.routes" && value.is_object()) {
            layered = true;
            for (const auto& [r, rv] : value.items()) {
                out.push_back({r, join_path(p, r), &rv});
            }
        } else if (key.starts_with("properties.desired.")) {
            layered = true;
        }
    }
    return out;
}

// ---- semantic checks -----------------------------------------------------------------------------

void check_create_options(const ModuleRef& m, Checker& ck) {
    if (!m.value->is_object() || !m.value->contains("settings") || !(*m.value)["settings"].is_object()) {
        return;
    }
    const auto& settings = (*m.value)["settings"];
    std::string sp = join_path(m.path, "settings");
    std::map<int, std::pair<std::string, const json*>> chunks;
    for (const auto& [k, v] : settings.items()) {
        if (k == "createOptions") {
            chunks[0] = {k, &v};
        } else if (k.starts_with("createOptions") && k.size() > 13 &&
                   std::all_of(k.begin() + 13, k.end(), ::isdigit)) {
            if (k.size() != 15) {
                ck.error(join_path(sp, k), "createOptions chunk keys use two digits (createOptions01 … createOptions99)");
                continue;
            }
            chunks[std::stoi(k.substr(13))] = {k, &v};
        } else if (k.starts_with("createoptions")) {
            ck.warning(join_path(sp, k), "lower-case 'createoptions' is ignored by the edge agent; use 'createOptions'");
        }
    }
    if (chunks.empty()) {
        return;
    }
    std::string whole;
    bool all_strings = true;
    int expected = 0;
    for (const auto& [i, kv] : chunks) {
        const auto& [key, v] = kv;
        std::string p = join_path(sp, key);
        if (i != expected) {
            ck.error(p, "createOptions chunks must be contiguous: expected " + chunk_key(static_cast<std::size_t>(expected)) +
                            " before " + key + " (reference/iothub.md §3: the agent fails on a gap)");
            all_strings = false;
            break;
        }
        ++expected;
        if (!v->is_string()) {
            ck.error(p, "createOptions must be a string (serialize the object; az rejects objects)");
            all_strings = false;
            continue;
        }
        const auto& s = v->get_ref<const std::string&>();
        if (code_points(s) > k_create_options_chunk) {
            ck.error(p, "createOptions chunk is " + std::to_string(code_points(s)) + " characters; the limit is 512");
        }
        whole += s;
    }
    if (chunks.size() > k_agent_max_chunks) {
        ck.error(join_path(sp, "createOptions"), "createOptions has " + std::to_string(chunks.size()) +
                                                     " chunks; the edge agent reads at most 100");
    } else if (chunks.size() > k_create_options_max_chunks) {
        ck.warning(join_path(sp, "createOptions"), "createOptions has " + std::to_string(chunks.size()) +
                                                       " chunks; tools expect at most 8 (4 KB)");
    }
    if (all_strings && !whole.empty()) {
        try {
            json parsed = json::parse(whole);
            if (!parsed.is_object()) {
                ck.error(join_path(sp, "createOptions"), "createOptions must be a JSON object");
            }
        } catch (const json::exception& e) {
            ck.error(join_path(sp, "createOptions"),
                     std::string("createOptions (all chunks joined) is not valid JSON: ") + e.what());
        }
    }
}

void check_image(const ModuleRef& m, Checker& ck) {
    if (!m.value->is_object() || !m.value->contains("settings") || !(*m.value)["settings"].is_object()) {
        return;
    }
    const auto& settings = (*m.value)["settings"];
    if (!settings.contains("image") || !settings["image"].is_string()) {
        return; // the schema reports it
    }
    const auto& image = settings["image"].get_ref<const std::string&>();
    std::string p = join_path(join_path(m.path, "settings"), "image");
    if (has_unresolved(image)) {
        ck.error(p, "image '" + image + "' has an unresolved placeholder (run 'edgeship gen' and check .env)");
    } else if (image.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@-") !=
               std::string::npos) {
        ck.error(p, "image '" + image + "' is not a valid image reference (allowed: letters, digits, . _ : / @ -)");
    }
}

void check_versions(const AgentView& agent, const std::string& hub_version, bool hub_layered,
                    const std::vector<RouteRef>& routes, const json& hub, const std::string& agent_path,
                    const std::string& hub_path, Checker& ck) {
    if (!agent.layered && !agent.schema_version.empty() && agent.schema_version != "1.0" &&
        agent.schema_version != "1.1") {
        ck.error(agent_path + ".properties.desired.schemaVersion",
                 "$edgeAgent schemaVersion '" + agent.schema_version + "' is not supported (use 1.0 or 1.1)");
    }
    if (!hub_layered && !hub_version.empty() && hub_version != "1.0" && hub_version != "1.1" && hub_version != "1.2") {
        ck.error(hub_path + ".properties.desired.schemaVersion",
                 "$edgeHub schemaVersion '" + hub_version + "' is not supported (use 1.0, 1.1 or 1.2)");
    }
    // reference/iothub.md §4.3: agent 1.1 adds imagePullPolicy and startupOrder; hub 1.1 route
    // objects; hub 1.2 mqttBroker.
    if (agent.schema_version == "1.0") {
        for (const auto& m : agent.modules) {
            for (const char* k : {"imagePullPolicy", "startupOrder"}) {
                if (m.value->is_object() && m.value->contains(k)) {
                    ck.error(join_path(m.path, k), std::string(k) + " needs $edgeAgent schemaVersion 1.1");
                }
            }
        }
    }
    if (hub_version == "1.0") {
        for (const auto& r : routes) {
            if (r.value->is_object()) {
                ck.error(r.path, "route objects (priority, timeToLiveSecs) need $edgeHub schemaVersion 1.1 or later");
            }
        }
    }
    if (hub_version == "1.0" || hub_version == "1.1") {
        if (hub.contains("properties.desired") && hub["properties.desired"].is_object() &&
            hub["properties.desired"].contains("mqttBroker")) {
            ck.error(hub_path + ".properties.desired.mqttBroker", "mqttBroker needs $edgeHub schemaVersion 1.2");
        }
    }
}

void check_routes(const std::vector<RouteRef>& routes, const std::set<std::string>& modules, bool layered,
                  Checker& ck) {
    // FROM <source> [WHERE <condition>] INTO <sink> (keywords case-insensitive)
    static const std::regex k_route(R"(^\s*FROM\s+(\S+)(\s+WHERE\s+.+?)?\s+INTO\s+(\S.*?)\s*$)",
                                    std::regex::icase | std::regex::ECMAScript);
    static const std::regex k_source_module(R"(^/messages/modules/([^/]+)(/.*)?$)");
    static const std::regex k_brokered(R"re(^BrokeredEndpoint\(\s*["'](/modules/([^/]+)/inputs/[^"']+)["']\s*\)$)re",
                                       std::regex::icase);
    for (const auto& r : routes) {
        std::string text;
        std::string p = r.path;
        if (r.value->is_string()) {
            text = r.value->get<std::string>();
        } else if (r.value->is_object() && r.value->contains("route") && (*r.value)["route"].is_string()) {
            text = (*r.value)["route"].get<std::string>();
            p = join_path(p, "route");
        } else {
            continue; // the schema reports it
        }
        std::smatch m;
        if (!std::regex_match(text, m, k_route)) {
            ck.error(p, "route '" + text + "' is not 'FROM <source> [WHERE <condition>] INTO <sink>'");
            continue;
        }
        std::string source = m[1].str();
        std::string sink = m[3].str();
        if (!source.starts_with("/")) {
            ck.error(p, "route source '" + source + "' must start with '/' (e.g. /messages/modules/<m>/outputs/*)");
        }
        auto unknown = [&](const std::string& name, const char* role) {
            if (modules.count(name) == 0) {
                std::string msg = std::string("route ") + role + " names module '" + name +
                                  "', which is not in $edgeAgent modules";
                if (layered) {
                    ck.warning(p, msg + " (it may come from the base deployment)");
                } else {
                    ck.error(p, msg);
                }
            }
        };
        std::smatch sm;
        if (std::regex_match(source, sm, k_source_module)) {
            unknown(sm[1].str(), "source");
        }
        if (sink == "$upstream") {
            continue;
        }
        if (std::regex_match(sink, sm, k_brokered)) {
            unknown(sm[2].str(), "sink");
        } else {
            ck.error(p, "route sink '" + sink + "' must be $upstream or BrokeredEndpoint(\"/modules/<m>/inputs/<i>\")");
        }
    }
}

bool bad_twin_key(const std::string& k) {
    return std::any_of(k.begin(), k.end(), [](char c) {
        return c == '.' || c == '$' || c == ' ' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
}

// Twin rules inside one desired section (§11.2, §4.5): keys, value sizes, nesting depth.
void check_twin_values(const json& j, const std::string& path, std::size_t depth, Checker& ck) {
    if (j.is_string()) {
        if (j.get_ref<const std::string&>().size() > k_max_value_bytes) {
            ck.error(path, "value is " + std::to_string(j.get_ref<const std::string&>().size()) +
                               " bytes; IoT Hub allows 4096 bytes per twin value");
        }
        return;
    }
    if (j.is_array()) {
        for (std::size_t i = 0; i < j.size(); ++i) {
            check_twin_values(j[i], path + "[" + std::to_string(i) + "]", depth, ck);
        }
        return;
    }
    if (!j.is_object()) {
        return;
    }
    if (depth > k_max_depth) {
        ck.error(path, "twin nesting deeper than 10 levels");
        return;
    }
    for (const auto& [k, v] : j.items()) {
        std::string p = join_path(path, k);
        if (bad_twin_key(k)) {
            ck.error(p, "key '" + k + "' contains '.', '$', a space or a control character, which twin keys forbid");
        }
        if (k.size() > k_max_key_bytes) {
            ck.error(p, "key is longer than 1024 bytes");
        }
        check_twin_values(v, p, depth + 1, ck);
    }
}

void check_twin_section(const std::string& owner_path, const json& owner, Checker& ck) {
    if (!owner.is_object()) {
        return;
    }
    std::size_t total = 0;
    for (const auto& [key, value] : owner.items()) {
        if (key != "properties.desired" && !key.starts_with("properties.desired.")) {
            continue;
        }
        std::string p = join_path(owner_path, key);
        std::size_t extra_depth = static_cast<std::size_t>(std::count(key.begin(), key.end(), '.')) - 1;
        check_twin_values(value, p, 1 + extra_depth, ck);
        total += value.dump().size();
    }
    if (total > k_max_desired_bytes) {
        ck.error(owner_path, "desired properties are " + std::to_string(total) +
                                 " bytes; IoT Hub allows 32768 (32 KB) per twin (about 25–30 modules in $edgeAgent)");
    }
}

void check_registries(const json& desired, const std::string& path, const std::vector<ModuleRef>& modules,
                      Checker& ck) {
    std::set<std::string> addresses;
    const json* creds = nullptr;
    if (desired.contains("runtime") && desired["runtime"].is_object() && desired["runtime"].contains("settings") &&
        desired["runtime"]["settings"].is_object() && desired["runtime"]["settings"].contains("registryCredentials")) {
        creds = &desired["runtime"]["settings"]["registryCredentials"];
    }
    std::string cp = path + ".runtime.settings.registryCredentials";
    if (creds != nullptr && creds->is_object()) {
        for (const auto& [name, entry] : creds->items()) {
            std::string ep = join_path(cp, name);
            if (!entry.is_object()) {
                continue;
            }
            for (const char* f : {"username", "password", "address"}) {
                if (!entry.contains(f) || !entry[f].is_string()) {
                    continue; // the schema reports it
                }
                const auto& v = entry[f].get_ref<const std::string&>();
                if (v.empty()) {
                    ck.error(join_path(ep, f), std::string("registry credential '") + f + "' is empty (check .env)");
                } else if (std::regex_match(v, std::regex(R"(^\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)$)"))) {
                    // never echo the value: it may be a secret
                    ck.error(join_path(ep, f), std::string("registry credential '") + f +
                                                   "' has an unresolved variable (check .env)");
                }
            }
            if (entry.contains("address") && entry["address"].is_string()) {
                std::string a = entry["address"].get<std::string>();
                if (a.find("://") != std::string::npos) {
                    ck.warning(join_path(ep, "address"), "address should be a host name without a scheme");
                    a = a.substr(a.find("://") + 3);
                }
                std::transform(a.begin(), a.end(), a.begin(), ::tolower);
                addresses.insert(a);
            }
        }
    }
    // images from a private registry without credentials
    for (const auto& m : modules) {
        if (m.system || !m.value->is_object() || !m.value->contains("settings")) {
            continue;
        }
        const auto& s = (*m.value)["settings"];
        if (!s.is_object() || !s.contains("image") || !s["image"].is_string()) {
            continue;
        }
        std::string image = s["image"].get<std::string>();
        auto slash = image.find('/');
        if (slash == std::string::npos || has_unresolved(image)) {
            continue;
        }
        std::string host = image.substr(0, slash);
        std::transform(host.begin(), host.end(), host.begin(), ::tolower);
        bool registry_host = host.find('.') != std::string::npos || host.find(':') != std::string::npos;
        bool public_host = host == "mcr.microsoft.com" || host == "docker.io" || host == "index.docker.io" ||
                           host.starts_with("localhost") || host.starts_with("127.0.0.1");
        if (registry_host && !public_host && addresses.count(host) == 0) {
            ck.warning(join_path(join_path(m.path, "settings"), "image"),
                       "no registryCredentials entry for '" + host + "'; the device pulls anonymously");
        }
    }
}

void check_unresolved_elsewhere(const json& j, const std::string& path, Checker& ck) {
    if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        if (s.find("${") != std::string::npos && !path.ends_with(".image")) {
            ck.warning(path, "unresolved placeholder in '" + (s.size() > 80 ? s.substr(0, 80) + "…" : s) + "'");
        }
    } else if (j.is_object()) {
        for (const auto& [k, v] : j.items()) {
            if (k == "registryCredentials") {
                continue; // checked without echoing values
            }
            check_unresolved_elsewhere(v, join_path(path, k), ck);
        }
    } else if (j.is_array()) {
        for (std::size_t i = 0; i < j.size(); ++i) {
            check_unresolved_elsewhere(j[i], path + "[" + std::to_string(i) + "]", ck);
        }
    }
}

} // namespace

ValidationReport validate_manifest(const nlohmann::json& manifest) {
    ValidationReport report;
    Checker ck(report);
    if (!manifest.is_object()) {
        ck.error("$", "a deployment manifest is a JSON object with 'modulesContent'");
        return report;
    }
    // reference/iothub.md §4.3/§5: {"content": {"modulesContent": …}} is accepted and layered
    // deployments are defined by dotted properties.desired.* paths.
    const json* mc = nullptr;
    std::string mc_path;
    bool wrapped = false;
    if (manifest.contains("content") && manifest["content"].is_object() &&
        manifest["content"].contains("modulesContent")) {
        mc = &manifest["content"]["modulesContent"];
        mc_path = "$.content.modulesContent";
        wrapped = true;
    } else if (manifest.contains("modulesContent")) {
        mc = &manifest["modulesContent"];
        mc_path = "$.modulesContent";
    }
    if (mc == nullptr || !mc->is_object()) {
        ck.error("$", "missing 'modulesContent' object");
        return report;
    }
    if (manifest.contains("$schema-template")) {
        ck.error("$.$schema-template", "'$schema-template' belongs in templates only; remove it (edgeship gen does)");
    }
    if (manifest.contains("$schema")) {
        ck.error("$.$schema", "a '$schema' key is rejected by strict validators (Azure/azure-iot-cli-extension#100)");
    }

    const std::string agent_path = mc_path + ".$edgeAgent";
    const std::string hub_path = mc_path + ".$edgeHub";
    static const json k_empty = json::object();
    const json& agent = mc->contains("$edgeAgent") ? (*mc)["$edgeAgent"] : k_empty;
    const json& hub = mc->contains("$edgeHub") ? (*mc)["$edgeHub"] : k_empty;
    AgentView av = agent_view(agent, agent_path);
    std::string hub_version;
    bool hub_layered = false;
    auto routes = hub_routes(hub, hub_path, hub_version, hub_layered);
    bool layered = wrapped || av.layered || hub_layered;

    if (!layered) {
        check_schema(manifest, ck);
    } else if (!mc->contains("$edgeAgent")) {
        ck.error(mc_path, "a layered deployment must include an $edgeAgent object (it may be {})");
    }
    if (layered) {
        for (const auto& m : av.modules) {
            if (m.system) {
                ck.error(m.path, "a layered deployment must not contain system modules (reference/iothub.md §5)");
            }
        }
    }

    check_versions(av, hub_version, hub_layered, routes, hub, agent_path, hub_path, ck);
    std::set<std::string> module_names;
    for (const auto& m : av.modules) {
        if (!m.system) {
            module_names.insert(m.name);
            if (bad_twin_key(m.name) && layered) {
                ck.error(m.path, "module name '" + m.name + "' contains '.', '$' or a space");
            }
        }
        check_create_options(m, ck);
        check_image(m, ck);
    }
    check_routes(routes, module_names, layered, ck);
    if (av.desired != nullptr) {
        check_registries(*av.desired, agent_path + ".properties.desired", av.modules, ck);
    }
    for (const auto& [owner, value] : mc->items()) {
        check_twin_section(join_path(mc_path, owner), value, ck);
    }
    check_unresolved_elsewhere(*mc, mc_path, ck);
    return report;
}

} // namespace edgeship::manifest
