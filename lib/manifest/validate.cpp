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

// IoT Hub twin limits (docs: "Understand and use device twins", twin size and depth limits)
constexpr std::size_t k_max_value_bytes = 4096;     // each string value ≤ 4 KB
constexpr std::size_t k_max_desired_bytes = 32768;  // desired properties ≤ 32 KB
constexpr std::size_t k_max_key_bytes = 1024;       // keys ≤ 1 KB
constexpr std::size_t k_max_depth = 10;             // nesting depth 10
constexpr std::size_t k_agent_max_chunks = 100;     // edge agent Docker/Constants.cs TwinValueMaxChunks

std::string join_path(const std::string& base, const std::string& key) { return base + "." + key; }

class Checker {
public:
    explicit Checker(ValidationReport& r) : m_r(r) {}
    void error(std::string path, std::string msg) { m_r.findings.push_back({std::move(path), std::move(msg), true}); }
    void warning(std::string path, std::string msg) { m_r.findings.push_back({std::move(path), std::move(msg), false}); }
    void schema_error(std::string path, std::string msg) {
        m_schema_paths.insert(path);
        m_r.findings.push_back({std::move(path), "schema: " + std::move(msg), true});
    }
    bool is_schema(const Finding& f) const {
        return f.error && m_schema_paths.count(f.path) != 0 && f.message.starts_with("schema: ");
    }
    bool has_error_at(const std::string& path) const {
        return std::any_of(m_r.findings.begin(), m_r.findings.end(),
                           [&](const Finding& f) { return f.error && f.path == path; });
    }

private:
    ValidationReport& m_r;
    std::set<std::string> m_schema_paths;
};

// ---- JSON Schema (valijson) -----------------------------------------------------------------------

const json& manifest_schema_doc() {
    static const json doc =
        json::parse(templates::find_embedded("schema/deployment-manifest.schema.json").value_or("{}"));
    return doc;
}

const valijson::Schema& manifest_schema() {
    static const std::unique_ptr<valijson::Schema> schema = [] {
        auto s = std::make_unique<valijson::Schema>();
        valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
        valijson::adapters::NlohmannJsonAdapter adapter(manifest_schema_doc());
        parser.populateSchema(adapter, *s);
        return s;
    }();
    return *schema;
}

// valijson context "<root>", "[modulesContent]", "[$edgeAgent]", "[0]" -> keys {"modulesContent", "$edgeAgent", "0"}
std::vector<std::string> context_keys(const std::vector<std::string>& ctx) {
    std::vector<std::string> keys;
    for (const auto& c : ctx) {
        if (c == "<root>") {
            continue;
        }
        keys.push_back(c.size() >= 2 && c.front() == '[' && c.back() == ']' ? c.substr(1, c.size() - 2) : c);
    }
    return keys;
}

std::string keys_path(const std::vector<std::string>& keys, const json& instance) {
    std::string out = "$";
    const json* at = &instance;
    for (const auto& k : keys) {
        if (at != nullptr && at->is_array() && !k.empty() && k.size() < 10 &&
            std::all_of(k.begin(), k.end(), ::isdigit)) {
            out += "[" + k + "]";
            std::size_t i = static_cast<std::size_t>(std::stoul(k));
            at = i < at->size() ? &(*at)[i] : nullptr;
        } else {
            out += "." + k;
            at = at != nullptr && at->is_object() && at->contains(k) ? &(*at)[k] : nullptr;
        }
    }
    return out;
}

const json* instance_at(const json& instance, const std::vector<std::string>& keys) {
    const json* at = &instance;
    for (const auto& k : keys) {
        if (at->is_object() && at->contains(k)) {
            at = &(*at)[k];
        } else if (at->is_array() && !k.empty() && k.size() < 10 && std::all_of(k.begin(), k.end(), ::isdigit) &&
                   std::stoul(k) < at->size()) {
            at = &(*at)[std::stoul(k)];
        } else {
            return nullptr;
        }
    }
    return at;
}

const json* resolve_ref(const json* s) {
    const json& root = manifest_schema_doc();
    while (s != nullptr && s->is_object() && s->contains("$ref") && (*s)["$ref"].is_string()) {
        const auto& ref = (*s)["$ref"].get_ref<const std::string&>();
        const auto& defs = root["definitions"];
        std::string name = ref.substr(ref.rfind('/') + 1);
        s = defs.contains(name) ? &defs[name] : nullptr;
    }
    return s;
}

// The subschema that governs instance location `keys` (properties, patternProperties,
// additionalProperties, items; $ref resolved). nullptr when the schema says nothing.
const json* schema_at(const std::vector<std::string>& keys) {
    const json* s = &manifest_schema_doc();
    for (const auto& k : keys) {
        s = resolve_ref(s);
        if (s == nullptr || !s->is_object()) {
            return nullptr;
        }
        if (s->contains("properties") && (*s)["properties"].contains(k)) {
            s = &(*s)["properties"][k];
            continue;
        }
        const json* next = nullptr;
        if (s->contains("patternProperties")) {
            for (const auto& [pattern, sub] : (*s)["patternProperties"].items()) {
                if (std::regex_search(k, std::regex(pattern))) {
                    next = &sub;
                    break;
                }
            }
        }
        if (next == nullptr && s->contains("additionalProperties") && (*s)["additionalProperties"].is_object()) {
            next = &(*s)["additionalProperties"];
        }
        if (next == nullptr && s->contains("items")) {
            next = &(*s)["items"];
        }
        s = next;
    }
    return resolve_ref(s);
}

std::string type_name(const json& v) {
    switch (v.type()) {
    case json::value_t::string: return "a string";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    default: return "null";
    }
}

// How a value appears in a message: strings quoted (shortened), scalars as JSON, containers by type.
// A registry credential's username and password are never echoed: they may be secrets.
std::string render(const json& v, const std::string& path) {
    if (path.find(".registryCredentials.") != std::string::npos && !path.ends_with(".address")) {
        return type_name(v);
    }
    if (v.is_string()) {
        std::string t = v.get<std::string>();
        return "'" + (t.size() > 60 ? t.substr(0, 60) + "…" : t) + "'";
    }
    if (v.is_object() || v.is_array() || v.is_null()) {
        return type_name(v);
    }
    return v.dump();
}

std::string expected_of(const json* schema) {
    if (schema == nullptr) {
        return "";
    }
    auto one = [](const json& t) {
        std::string n = t.get<std::string>();
        return n == "integer" || n == "object" || n == "array" ? "an " + n : "a " + n;
    };
    if (schema->contains("enum")) {
        std::string out = "one of ";
        for (const auto& e : (*schema)["enum"]) {
            out += (out.size() > 7 ? ", " : "") + (e.is_string() ? e.get<std::string>() : e.dump());
        }
        return out;
    }
    if (schema->contains("oneOf")) {
        std::string out;
        for (const auto& alt : (*schema)["oneOf"]) {
            std::string a = expected_of(resolve_ref(&alt));
            if (alt.contains("required")) {
                std::string req;
                for (const auto& r : alt["required"]) {
                    req += (req.empty() ? "" : ", ") + r.get<std::string>();
                }
                a += " with " + req;
            }
            out += (out.empty() ? "" : " or ") + a;
        }
        return out;
    }
    if (schema->contains("type")) {
        const auto& t = (*schema)["type"];
        if (t.is_string()) {
            return one(t);
        }
        std::string out;
        for (std::size_t i = 0; i < t.size(); ++i) {
            out += (i == 0 ? "" : i + 1 == t.size() ? " or " : ", ") + one(t[i]);
        }
        return out;
    }
    return "";
}

std::string pattern_meaning(const std::string& pattern) {
    if (pattern == "^[^\\s]+$") {
        return "no spaces, not empty";
    }
    if (pattern == "^[a-zA-Z0-9_-]+$") {
        return "letters, digits, '_' and '-'";
    }
    if (pattern == "^[^\\.\\$# ]+$") {
        return "no '.', '$', '#' or space";
    }
    return "";
}

// One readable message for a valijson finding: what is there and what the schema expects.
std::string schema_message(const std::string& description, const json* value, const json* schema,
                           const std::string& path) {
    if (description.starts_with("Missing required property '")) {
        return "missing required property " + description.substr(26, description.size() - 27);
    }
    static const std::string k_extra = "constraints: ";
    if (description.starts_with("Object contains a property") && description.find(k_extra) != std::string::npos) {
        std::string name = description.substr(description.find(k_extra) + k_extra.size());
        if (name.ends_with(".")) {
            name.pop_back();
        }
        std::string allowed;
        if (schema != nullptr && schema->contains("properties")) {
            for (const auto& [k, v] : (*schema)["properties"].items()) {
                allowed += (allowed.empty() ? "" : ", ") + k;
            }
        }
        return "unexpected property " + name + (allowed.empty() ? "" : " (allowed: " + allowed + ")");
    }
    std::string got = value != nullptr ? render(*value, path) : "the value";
    if (description.starts_with("Failed to match regex") && schema != nullptr && schema->contains("pattern")) {
        std::string pattern = (*schema)["pattern"].get<std::string>();
        std::string meaning = pattern_meaning(pattern);
        return got + " does not match " + pattern + (meaning.empty() ? "" : " (" + meaning + ")");
    }
    if (description.starts_with("String should be no fewer than")) {
        return got + " is empty; expected a non-empty string";
    }
    if (description.starts_with("Expected number") && schema != nullptr) {
        std::string range;
        if (schema->contains("minimum")) {
            range += ">= " + (*schema)["minimum"].dump();
        }
        if (schema->contains("maximum")) {
            range += (range.empty() ? "<= " : " and <= ") + (*schema)["maximum"].dump();
        }
        return got + " is out of range; expected " + expected_of(schema) + " " + range;
    }
    std::string expected = expected_of(schema);
    if (!expected.empty()) {
        bool scalar_shown = value != nullptr && !value->is_string() && got != type_name(*value);
        return "is " + got + (scalar_shown ? " (" + type_name(*value) + ")" : "") + "; expected " + expected;
    }
    return got + ": " + description;
}

// Schema findings, one per fault: valijson reports each failing level, and every alternative of a
// oneOf; keep the innermost message per path (all missing/unexpected properties, else the first).
void check_schema(const json& instance, const std::string& from, const std::string& to, Checker& ck) {
    valijson::Validator validator;
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter target(instance);
    if (validator.validate(manifest_schema(), target, &results)) {
        return;
    }
    struct Item {
        std::string path;
        std::string message;
        bool property; // missing or unexpected property: several may share a path
        bool alternatives;
    };
    std::vector<Item> items;
    valijson::ValidationResults::Error e;
    while (results.popError(e)) {
        const auto& d = e.description;
        if (d.starts_with("Failed to validate against schema associated with property") ||
            d.starts_with("Failed to validate against child schema") || d.starts_with("Failed to validate item") ||
            d.starts_with("Failed to validate against additional properties schema") ||
            d.starts_with("Failed to validate against dependent schema") ||
            d.starts_with("Failed to validate against schema associated with pattern")) {
            continue;
        }
        auto keys = context_keys(e.context);
        std::string path = keys_path(keys, instance);
        if (path.starts_with(from)) {
            path = to + path.substr(from.size());
        }
        bool alternatives = d.find("oneOf") != std::string::npos || d.find("exactly one child") != std::string::npos;
        const json* schema = schema_at(keys);
        items.push_back({path, schema_message(d, instance_at(instance, keys), schema, path),
                         d.starts_with("Missing required") || d.starts_with("Object contains a property"),
                         alternatives});
    }
    std::set<std::string> with_alternatives;
    for (const auto& i : items) {
        if (i.alternatives) {
            with_alternatives.insert(i.path);
        }
    }
    std::set<std::string> reported;
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& i : items) {
        if (with_alternatives.count(i.path) != 0 && !i.alternatives) {
            continue; // one alternative's complaint; the oneOf message says it all
        }
        if (!seen.insert({i.path, i.message}).second) {
            continue;
        }
        if (!i.property && !reported.insert(i.path).second) {
            continue;
        }
        ck.schema_error(i.path, i.message);
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
        if (s.compare(i, 10, "$upstream:") == 0) {
            continue; // nested edge: the agent resolves it
        }
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
                            " before " + key + " (the edge agent refuses a gap in the sequence)");
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

// Nested edge: "$upstream:<port>/repo:tag" names the parent device's registry proxy; the edge agent
// replaces $upstream with the parent's host name (NestedEdgeParentUriParser: \$upstream(:[1-9].*)).
bool upstream_image(const std::string& image) {
    return image.starts_with("$upstream:") && image.size() > 10 && image[10] >= '1' && image[10] <= '9';
}

// The registry host of an image reference, lower-cased; "" for Docker Hub short names.
std::string image_host(const std::string& image) {
    auto slash = image.find('/');
    if (slash == std::string::npos) {
        return "";
    }
    std::string host = image.substr(0, slash);
    if (host.find('.') == std::string::npos && host.find(':') == std::string::npos && host != "localhost" &&
        !host.starts_with("$")) {
        return "";
    }
    std::transform(host.begin(), host.end(), host.begin(), ::tolower);
    return host;
}

void check_image(const ModuleRef& m, Checker& ck) {
    if (!m.value->is_object() || !m.value->contains("settings") || !(*m.value)["settings"].is_object()) {
        return;
    }
    const auto& settings = (*m.value)["settings"];
    std::string sp = join_path(m.path, "settings");
    // The agent reads image, createOptions* (any case) and digest; anything else is dropped silently.
    for (const auto& [k, v] : settings.items()) {
        std::string lower = k;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        if (k != "image" && k != "digest" && !lower.starts_with("createoptions")) {
            std::string where = k == "env" ? "; put it next to 'settings' (modules.<m>.env)" : "";
            ck.warning(join_path(sp, k), "'" + k + "' inside settings is ignored by the edge agent (it reads image, "
                                         "createOptions and digest)" + where);
        }
    }
    if (!settings.contains("image") || !settings["image"].is_string()) {
        return; // the schema reports it
    }
    std::string image = settings["image"].get<std::string>();
    std::string p = join_path(sp, "image");
    if (image.empty()) {
        return; // the schema reports it
    }
    std::string rest = image;
    if (upstream_image(image)) {
        rest = image.substr(9); // ":443/…"
    } else if (image.starts_with("$upstream")) {
        ck.error(p, "image '" + image + "' uses $upstream without a port; the edge agent needs '$upstream:<port>/…' "
                                        "(e.g. $upstream:443/azureiotedge-agent:1.4)");
        return;
    }
    if (has_unresolved(rest)) {
        ck.error(p, "image '" + image + "' has an unresolved placeholder; devices cannot pull it (run 'edgeship gen' "
                                        "and check .env)");
        return;
    }
    static const std::string k_allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@-";
    // "<Container_Registry>/x:<Build.BuildNumber>" is filled by another tool (sed in Azure/iotedge's CI)
    std::string outside;
    int depth = 0;
    for (char c : rest) {
        if (c == '<') {
            ++depth;
        } else if (c == '>' && depth > 0) {
            --depth;
        } else if (depth == 0) {
            outside += c;
        }
    }
    if (outside.find_first_not_of(k_allowed) != std::string::npos || depth != 0) {
        ck.error(p, "image '" + image + "' is not a valid image reference (allowed: letters, digits, . _ : / @ -)");
    } else if (rest.find('<') != std::string::npos) {
        ck.warning(p, "image '" + image + "' has <…> placeholders for another tool to fill; devices cannot pull it "
                                          "as written");
    }
}

void check_versions(const AgentView& agent, const std::string& hub_version, bool hub_layered,
                    const std::vector<RouteRef>& routes, const json& hub, const std::string& agent_path,
                    const std::string& hub_path, Checker& ck) {
    // edge agent EdgeAgentConnection.cs: major 1 and at most 1.1, else 412 InvalidSchemaVersion on the device.
    // edgeHub EdgeHubConfigParser.cs: 1.0, 1.1, 1.2, 1.3.
    auto unresolved = [](const std::string& v) { return v.find('$') != std::string::npos; };
    if (!agent.layered && !agent.schema_version.empty() && agent.schema_version != "1.0" &&
        agent.schema_version != "1.1") {
        std::string p = agent_path + ".properties.desired.schemaVersion";
        ck.error(p, unresolved(agent.schema_version)
                        ? "$edgeAgent schemaVersion '" + agent.schema_version + "' is an unresolved placeholder"
                        : "$edgeAgent schemaVersion '" + agent.schema_version +
                              "' is not supported: the edge agent accepts 1.0 and 1.1 and reports 412 "
                              "(InvalidSchemaVersion) for anything else");
    }
    if (!hub_layered && !hub_version.empty() && hub_version != "1.0" && hub_version != "1.1" && hub_version != "1.2" &&
        hub_version != "1.3") {
        std::string p = hub_path + ".properties.desired.schemaVersion";
        ck.error(p, unresolved(hub_version)
                        ? "$edgeHub schemaVersion '" + hub_version + "' is an unresolved placeholder"
                        : "$edgeHub schemaVersion '" + hub_version +
                              "' is not supported: edgeHub accepts 1.0, 1.1, 1.2 and 1.3 and refuses the "
                              "configuration otherwise");
    }
    // Agent schema 1.1 adds imagePullPolicy and startupOrder; hub 1.1 route objects; hub 1.2 mqttBroker
    // (IoT Edge docs, "Properties of the IoT Edge agent and IoT Edge hub module twins").
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

// A module name the deployment does not have: edgeHub accepts the route (it carries nothing until such
// a module runs), so this is a warning that names the likely case slip.
void unknown_route_module(const std::string& name, bool sink, const std::set<std::string>& modules, bool layered,
                          const std::string& path, Checker& ck) {
    if (modules.count(name) != 0) {
        return;
    }
    auto lower = [](std::string v) {
        std::transform(v.begin(), v.end(), v.begin(), ::tolower);
        return v;
    };
    for (const auto& m : modules) {
        if (lower(m) == lower(name)) {
            ck.warning(path, sink ? "route sink names module '" + name + "', but the deployed module is '" + m +
                                        "': module ids are case-sensitive, so these messages are not delivered"
                                  : "route source names module '" + name + "', but the deployed module is '" + m +
                                        "' (edgeHub compares sources case-insensitively; write '" + m + "')");
            return;
        }
    }
    ck.warning(path, std::string("route ") + (sink ? "sink" : "source") + " names module '" + name +
                         "', which this deployment does not contain; the route carries no messages until such a "
                         "module runs" + (layered ? " (it may come from the base deployment)" : ""));
}

void check_routes(const std::vector<RouteRef>& routes, const std::set<std::string>& modules, bool layered,
                  Checker& ck) {
    // edgeHub's grammar (Routing.Core/grammar/Route.g4): [SELECT * ] FROM <source> [WHERE <condition>] INTO <sink>,
    // keywords case-insensitive; the sink is $upstream or BrokeredEndpoint("/modules/<m>/inputs/<i>").
    static const std::regex k_route(R"(^\s*(?:SELECT\s+\*\s+)?FROM\s+(\S+)(\s+WHERE\s+.+?)?\s+INTO\s+(\S.*?)\s*$)",
                                    std::regex::icase | std::regex::ECMAScript);
    static const std::regex k_source_module(R"(^/messages/modules/([^/]+)(/.*)?$)", std::regex::icase);
    static const std::regex k_brokered(R"re(^BrokeredEndpoint\(\s*"(/?modules/([^/"]+)/inputs/[^/"]+/?)"\s*\)$)re",
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
        std::smatch sm;
        if (std::regex_match(source, sm, k_source_module)) {
            std::string name = sm[1].str();
            std::string rest = sm[2].str();
            if (name != "*") {
                unknown_route_module(name, false, modules, layered, p, ck);
            } else if (!rest.empty() && rest != "/") {
                // edgeHub trims a trailing '*' and then matches sources by prefix (CustomMessageSource,
                // BaseMessageSource.Match): a '*' in the middle is a literal module name.
                ck.warning(p, "route source '" + source + "': '*' is a wildcard only at the end of a source "
                                                          "(edgeHub matches sources by prefix), so this route "
                                                          "receives no messages; use /messages/modules/*");
            }
        }
        std::string sink_lower = sink;
        std::transform(sink_lower.begin(), sink_lower.end(), sink_lower.begin(), ::tolower);
        if (sink_lower == "$upstream") {
            continue;
        }
        if (std::regex_match(sink, sm, k_brokered)) {
            unknown_route_module(sm[2].str(), true, modules, layered, p, ck);
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
    // Registry hosts the deployment's images pull from (user and system modules), with the modules.
    std::map<std::string, std::vector<std::string>> pulls;
    for (const auto& m : modules) {
        if (!m.value->is_object() || !m.value->contains("settings") || !(*m.value)["settings"].is_object()) {
            continue;
        }
        const auto& s = (*m.value)["settings"];
        if (s.contains("image") && s["image"].is_string()) {
            std::string host = image_host(s["image"].get<std::string>());
            if (!host.empty()) {
                pulls[host].push_back(m.name);
            }
        }
    }
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
            std::string address;
            if (entry.contains("address") && entry["address"].is_string()) {
                address = entry["address"].get<std::string>();
                if (address.find("://") != std::string::npos) {
                    ck.warning(join_path(ep, "address"), "address should be a host name without a scheme");
                    address = address.substr(address.find("://") + 3);
                }
                std::transform(address.begin(), address.end(), address.begin(), ::tolower);
                while (address.ends_with("/")) {
                    address.pop_back();
                }
                addresses.insert(address);
            }
            // The agent uses a credential only to pull from its address: an unusable one is an error
            // when an image pulls from there, a warning otherwise. Values are never printed.
            auto used = pulls.find(address);
            std::string users;
            if (used != pulls.end() && !address.empty()) {
                for (const auto& u : used->second) {
                    users += (users.empty() ? "" : ", ") + u;
                }
            }
            for (const char* f : {"username", "password"}) {
                if (!entry.contains(f) || !entry[f].is_string()) {
                    continue; // the schema reports it
                }
                const auto& v = entry[f].get_ref<const std::string&>();
                std::string problem;
                if (v.empty()) {
                    problem = "is empty";
                } else if (!v.starts_with("$upstream") &&
                           std::regex_match(v, std::regex(R"(^\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)$)"))) {
                    problem = "is an unresolved variable";
                } else {
                    continue;
                }
                std::string fp = join_path(ep, f);
                // iotedgedev's .env: "Local Registry: set CONTAINER_REGISTRY_SERVER to localhost:5000 -
                // USERNAME/PASSWORD are not required"; such a registry ignores them.
                bool local = address.starts_with("localhost") || address.starts_with("127.0.0.1");
                if (!users.empty() && local) {
                    ck.warning(fp, std::string("registry credential '") + f + "' " + problem + "; " + users +
                                       " pull from the local registry '" + address +
                                       "', which needs no credentials (the agent sends these as written)");
                } else if (!users.empty()) {
                    ck.error(fp, std::string("registry credential '") + f + "' " + problem + ", and " + users +
                                     " pull from '" + address + "' with it (check .env)");
                } else {
                    ck.warning(fp, std::string("registry credential '") + f + "' " + problem +
                                       (address.empty() ? "; the entry has no address"
                                                        : "; no image in this deployment pulls from '" + address + "'") +
                                       ", so the edge agent does not use it");
                }
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
        std::string host = image_host(image);
        if (host.empty() || has_unresolved(image) || host.starts_with("$upstream") ||
            host.find('<') != std::string::npos) {
            continue;
        }
        bool public_host = host == "mcr.microsoft.com" || host == "docker.io" || host == "index.docker.io" ||
                           host.starts_with("localhost") || host.starts_with("127.0.0.1");
        if (!public_host && addresses.count(host) == 0) {
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
    // {"content": {"modulesContent": …}} is the configuration form (az, IoT Hub's configurations API);
    // it may hold a full deployment or a layered one. Layered means dotted properties.desired.* paths.
    const json* holder = &manifest;
    std::string holder_path = "$";
    if (manifest.contains("content") && manifest["content"].is_object()) {
        holder = &manifest["content"];
        holder_path = "$.content";
    }
    const json* mc = nullptr;
    std::string mc_path;
    if (holder->contains("modulesContent")) {
        mc = &(*holder)["modulesContent"];
        mc_path = holder_path + ".modulesContent";
    } else if (holder->contains("moduleContent")) {
        // az: "'moduleContent' is deprecated for edge deployments. Use 'modulesContent' instead"; it sends
        // the value as modulesContent; edgeship gen writes it as modulesContent.
        mc = &(*holder)["moduleContent"];
        mc_path = holder_path + ".moduleContent";
        ck.warning(mc_path, "'moduleContent' is the deprecated name of 'modulesContent'; it is read as "
                            "'modulesContent' (as az does): rename it");
    }
    if (mc == nullptr || !mc->is_object()) {
        ck.error(mc == nullptr ? holder_path : mc_path,
                 mc == nullptr ? "missing 'modulesContent' object (a deployment is {\"modulesContent\": {\"$edgeAgent\": "
                                 "…, \"$edgeHub\": …}}, optionally inside {\"content\": …})"
                               : "'modulesContent' must be an object");
        return report;
    }
    if (manifest.contains("$schema-template")) {
        ck.error("$.$schema-template", "'$schema-template' belongs in templates only; remove it (edgeship gen does)");
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
    // Layered: dotted paths anywhere, or the documented "$edgeAgent": {} of a layered deployment.
    bool layered = av.layered || hub_layered || (agent.is_object() && agent.empty() && mc->contains("$edgeAgent"));
    for (const auto& [owner, value] : mc->items()) {
        if (value.is_object()) {
            for (const auto& [key, v] : value.items()) {
                layered |= key.starts_with("properties.desired.");
            }
        }
    }

    if (!layered) {
        json view = json::object();
        view["modulesContent"] = *mc;
        check_schema(view, "$.modulesContent", mc_path, ck);
    } else {
        if (!mc->contains("$edgeAgent")) {
            ck.error(mc_path, "a layered deployment must include an $edgeAgent object (it may be {})");
        }
        // IoT Hub merges layered deployments by property path; a whole properties.desired would replace the
        // base deployment's (runtime, systemModules, routes).
        for (const auto& [owner, path] : {std::pair<const json*, std::string>{&agent, agent_path}, {&hub, hub_path}}) {
            if (owner->is_object() && owner->contains("properties.desired")) {
                ck.error(path + ".properties.desired",
                         "a layered deployment sets dotted paths (properties.desired.modules.<m>, "
                         "properties.desired.routes.<r>), not a whole 'properties.desired'");
            }
        }
        for (const auto& m : av.modules) {
            if (m.system) {
                ck.error(m.path, "a layered deployment must not contain system modules (they come from the base "
                                 "deployment)");
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

    // One fault, one finding: a semantic error replaces the schema's complaint about the same value,
    // and an error replaces a warning at the same path.
    std::set<std::string> semantic_errors;
    std::set<std::string> errors;
    for (const auto& f : report.findings) {
        if (f.error) {
            errors.insert(f.path);
            if (!ck.is_schema(f)) {
                semantic_errors.insert(f.path);
            }
        }
    }
    std::vector<Finding> kept;
    for (auto& f : report.findings) {
        if (f.error ? (ck.is_schema(f) && semantic_errors.count(f.path) != 0) : errors.count(f.path) != 0) {
            continue;
        }
        kept.push_back(std::move(f));
    }
    report.findings = std::move(kept);
    return report;
}

} // namespace edgeship::manifest
