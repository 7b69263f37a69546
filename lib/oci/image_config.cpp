#include "oci/image_config.hpp"

#include "oci/json.hpp"

#include <ctime>

namespace edgeship::oci {
namespace {

using nlohmann::json;

Result<std::string> opt_string(const json& j, const char* key, const std::string& what) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        return std::string();
    }
    if (!it->is_string()) {
        return fail(what + "." + key + ": must be a string");
    }
    return it->get<std::string>();
}

Result<std::vector<std::string>> string_array(const json& j, const std::string& what) {
    if (!j.is_array()) {
        return fail(what + ": must be an array of strings");
    }
    std::vector<std::string> out;
    for (const auto& v : j) {
        if (!v.is_string()) {
            return fail(what + ": must be an array of strings");
        }
        out.push_back(v.get<std::string>());
    }
    return out;
}

Result<std::set<std::string>> key_set(const json& j, const std::string& what) {
    if (!j.is_object()) {
        return fail(what + ": must be an object");
    }
    std::set<std::string> out;
    for (auto it = j.begin(); it != j.end(); ++it) {
        out.insert(it.key());
    }
    return out;
}

json key_set_json(const std::set<std::string>& s) {
    json j = json::object();
    for (const auto& k : s) {
        j[k] = json::object();
    }
    return j;
}

Result<ContainerConfig> parse_container_config(const json& j, const std::string& what) {
    ContainerConfig c;
    if (j.is_null()) {
        return c;
    }
    if (!j.is_object()) {
        return fail(what + ": must be an object");
    }
    for (auto it = j.begin(); it != j.end(); ++it) {
        const auto& k = it.key();
        const auto& v = it.value();
        std::string field = what + "." + k;
        if (v.is_null()) {
            if (k != "User" && k != "ExposedPorts" && k != "Env" && k != "Entrypoint" && k != "Cmd" &&
                k != "Volumes" && k != "WorkingDir" && k != "Labels" && k != "StopSignal") {
                c.other[k] = v;
            }
            continue;
        }
        if (k == "User") {
            EDGESHIP_TRY_ASSIGN(c.user, opt_string(j, "User", what));
        } else if (k == "ExposedPorts") {
            EDGESHIP_TRY_ASSIGN(c.exposed_ports, key_set(v, field));
        } else if (k == "Env") {
            EDGESHIP_TRY_ASSIGN(c.env, string_array(v, field));
        } else if (k == "Entrypoint") {
            EDGESHIP_TRY_ASSIGN(c.entrypoint, string_array(v, field));
        } else if (k == "Cmd") {
            EDGESHIP_TRY_ASSIGN(c.cmd, string_array(v, field));
        } else if (k == "Volumes") {
            EDGESHIP_TRY_ASSIGN(c.volumes, key_set(v, field));
        } else if (k == "WorkingDir") {
            EDGESHIP_TRY_ASSIGN(c.working_dir, opt_string(j, "WorkingDir", what));
        } else if (k == "Labels") {
            if (!v.is_object()) {
                return fail(field + ": must be an object of strings");
            }
            for (auto l = v.begin(); l != v.end(); ++l) {
                if (!l.value().is_string()) {
                    return fail(field + "." + l.key() + ": must be a string");
                }
                c.labels[l.key()] = l.value().get<std::string>();
            }
        } else if (k == "StopSignal") {
            EDGESHIP_TRY_ASSIGN(c.stop_signal, opt_string(j, "StopSignal", what));
        } else {
            c.other[k] = v;
        }
    }
    return c;
}

json container_config_json(const ContainerConfig& c) {
    json j = c.other.is_object() ? c.other : json::object();
    if (!c.user.empty()) {
        j["User"] = c.user;
    }
    if (!c.exposed_ports.empty()) {
        j["ExposedPorts"] = key_set_json(c.exposed_ports);
    }
    if (!c.env.empty()) {
        j["Env"] = c.env;
    }
    if (c.entrypoint) {
        j["Entrypoint"] = *c.entrypoint;
    }
    if (c.cmd) {
        j["Cmd"] = *c.cmd;
    }
    if (!c.volumes.empty()) {
        j["Volumes"] = key_set_json(c.volumes);
    }
    if (!c.working_dir.empty()) {
        j["WorkingDir"] = c.working_dir;
    }
    if (!c.labels.empty()) {
        j["Labels"] = c.labels;
    }
    if (!c.stop_signal.empty()) {
        j["StopSignal"] = c.stop_signal;
    }
    return j;
}

} // namespace

void ContainerConfig::set_env(std::string_view name, std::string_view value) {
    std::string entry = std::string(name) + "=" + std::string(value);
    for (auto& e : env) {
        if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') {
            e = entry;
            return;
        }
        if (e == name) {
            e = entry;
            return;
        }
    }
    env.push_back(std::move(entry));
}

std::optional<std::string> ContainerConfig::env_value(std::string_view name) const {
    for (const auto& e : env) {
        if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=') {
            return e.substr(name.size() + 1);
        }
    }
    return std::nullopt;
}

Result<void> ContainerConfig::expose(std::string_view port) {
    std::string_view number = port;
    std::string_view proto = "tcp";
    if (auto slash = port.find('/'); slash != std::string_view::npos) {
        number = port.substr(0, slash);
        proto = port.substr(slash + 1);
    }
    bool digits = !number.empty() && number.size() <= 5 &&
                  number.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits || std::stoi(std::string(number)) == 0 || std::stoi(std::string(number)) > 65535 ||
        (proto != "tcp" && proto != "udp" && proto != "sctp")) {
        return fail("invalid exposed port \"" + std::string(port) + "\": use PORT or PORT/tcp|udp|sctp (1-65535)");
    }
    exposed_ports.insert(std::string(number) + "/" + std::string(proto));
    return {};
}

Platform ImageConfig::platform() const { return Platform{os, architecture, variant, os_version, {}}; }

void ImageConfig::set_platform(const Platform& p) {
    os = p.os;
    architecture = p.architecture;
    variant = p.variant;
    os_version = p.os_version;
}

void ImageConfig::append_layer(const Digest& diff_id, HistoryEntry history_entry) {
    diff_ids.push_back(diff_id);
    history_entry.empty_layer = false;
    history.push_back(std::move(history_entry));
}

std::size_t ImageConfig::non_empty_history() const {
    std::size_t n = 0;
    for (const auto& h : history) {
        n += h.empty_layer ? 0 : 1;
    }
    return n;
}

json ImageConfig::to_json() const {
    json j = other.is_object() ? other : json::object();
    if (!created.empty()) {
        j["created"] = created;
    }
    if (!author.empty()) {
        j["author"] = author;
    }
    j["architecture"] = architecture;
    j["os"] = os;
    if (!variant.empty()) {
        j["variant"] = variant;
    }
    if (!os_version.empty()) {
        j["os.version"] = os_version;
    }
    j["config"] = container_config_json(config);
    json ids = json::array();
    for (const auto& d : diff_ids) {
        ids.push_back(d.str());
    }
    j["rootfs"] = {{"type", "layers"}, {"diff_ids", ids}};
    if (!history.empty()) {
        json hs = json::array();
        for (const auto& h : history) {
            json e = json::object();
            if (!h.created.empty()) {
                e["created"] = h.created;
            }
            if (!h.created_by.empty()) {
                e["created_by"] = h.created_by;
            }
            if (!h.author.empty()) {
                e["author"] = h.author;
            }
            if (!h.comment.empty()) {
                e["comment"] = h.comment;
            }
            if (h.empty_layer) {
                e["empty_layer"] = true;
            }
            hs.push_back(std::move(e));
        }
        j["history"] = std::move(hs);
    }
    return j;
}

Result<Blob> ImageConfig::to_blob(ManifestFormat format) const {
    EDGESHIP_TRY_ASSIGN(auto bytes, canonical_json(to_json(), "image config"));
    Blob b{std::move(bytes), {}};
    b.descriptor = Descriptor::for_bytes(config_media_type(format), b.bytes);
    return b;
}

Result<ImageConfig> ImageConfig::parse(std::string_view bytes, std::string_view what_view) {
    std::string what(what_view);
    EDGESHIP_TRY_ASSIGN(auto j, parse_json(bytes, what));
    if (!j.is_object()) {
        return fail(what + ": must be a JSON object");
    }
    ImageConfig c;
    c.other = json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
        const auto& k = it.key();
        if (k == "created" || k == "author" || k == "architecture" || k == "os" || k == "variant" ||
            k == "os.version" || k == "config" || k == "rootfs" || k == "history") {
            continue;
        }
        c.other[k] = it.value();
    }
    EDGESHIP_TRY_ASSIGN(c.created, opt_string(j, "created", what));
    EDGESHIP_TRY_ASSIGN(c.author, opt_string(j, "author", what));
    EDGESHIP_TRY_ASSIGN(c.architecture, opt_string(j, "architecture", what));
    EDGESHIP_TRY_ASSIGN(c.os, opt_string(j, "os", what));
    EDGESHIP_TRY_ASSIGN(c.variant, opt_string(j, "variant", what));
    EDGESHIP_TRY_ASSIGN(c.os_version, opt_string(j, "os.version", what));
    if (auto it = j.find("config"); it != j.end()) {
        EDGESHIP_TRY_ASSIGN(c.config, parse_container_config(*it, what + ": config"));
    }
    auto rootfs = j.find("rootfs");
    if (rootfs == j.end() || !rootfs->is_object()) {
        return fail(what + ": missing \"rootfs\"");
    }
    if (rootfs->value("type", std::string()) != "layers") {
        return fail(what + ": rootfs.type must be \"layers\"");
    }
    auto ids = rootfs->find("diff_ids");
    if (ids != rootfs->end() && !ids->is_null()) {
        if (!ids->is_array()) {
            return fail(what + ": rootfs.diff_ids must be an array");
        }
        for (std::size_t i = 0; i < ids->size(); ++i) {
            const auto& v = (*ids)[i];
            auto d = v.is_string() ? Digest::parse(v.get<std::string>()) : Digest::parse("");
            if (!d) {
                return fail(what + ": rootfs.diff_ids[" + std::to_string(i) + "]: " + d.error().message());
            }
            c.diff_ids.push_back(*d);
        }
    }
    if (auto hs = j.find("history"); hs != j.end() && hs->is_array()) {
        for (std::size_t i = 0; i < hs->size(); ++i) {
            const auto& e = (*hs)[i];
            std::string field = what + ": history[" + std::to_string(i) + "]";
            if (!e.is_object()) {
                return fail(field + ": must be an object");
            }
            HistoryEntry h;
            EDGESHIP_TRY_ASSIGN(h.created, opt_string(e, "created", field));
            EDGESHIP_TRY_ASSIGN(h.created_by, opt_string(e, "created_by", field));
            EDGESHIP_TRY_ASSIGN(h.author, opt_string(e, "author", field));
            EDGESHIP_TRY_ASSIGN(h.comment, opt_string(e, "comment", field));
            auto el = e.find("empty_layer");
            h.empty_layer = el != e.end() && el->is_boolean() && el->get<bool>();
            c.history.push_back(std::move(h));
        }
    }
    return c;
}

std::string format_rfc3339(std::int64_t epoch_seconds) {
    std::time_t t = static_cast<std::time_t>(epoch_seconds);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

} // namespace edgeship::oci
