// Docker config.json: locate, read, store, erase (docs/design/registry.md §6).

#include "registry/docker_config.hpp"

#include "core/base64.hpp"
#include "core/fs.hpp"
#include "registry/credentials.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>

namespace edgeship::registry {

namespace fs = std::filesystem;

Result<fs::path> docker_config_path(const core::Environment& env) {
    if (const auto* d = core::find_env(env, "DOCKER_CONFIG"); d != nullptr && !d->empty()) {
        return fs::path(*d) / "config.json";
    }
    if (const auto* h = core::find_env(env, "HOME"); h != nullptr && !h->empty()) {
        return fs::path(*h) / ".docker" / "config.json";
    }
    return fail("cannot locate docker config.json: neither DOCKER_CONFIG nor HOME is set");
}

Result<DockerConfig> read_docker_config(const fs::path& path) {
    DockerConfig cfg;
    cfg.path = path;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return cfg;
    }
    auto text = core::read_file(path);
    if (!text) {
        return unexpected(std::move(text).error());
    }
    cfg.exists = true;
    if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
        return cfg; // an empty file is an empty config, as docker treats it
    }
    try {
        cfg.json = nlohmann::json::parse(*text);
    } catch (const nlohmann::json::exception& e) {
        return fail(path.string() + ": not valid JSON: " + e.what());
    }
    if (!cfg.json.is_object()) {
        return fail(path.string() + ": expected a JSON object");
    }
    for (const char* key : {"auths", "credHelpers"}) {
        if (cfg.json.contains(key) && !cfg.json[key].is_object() && !cfg.json[key].is_null()) {
            return fail(path.string() + ": '" + key + "' must be an object");
        }
    }
    if (cfg.json.contains("credsStore") && !cfg.json["credsStore"].is_string() && !cfg.json["credsStore"].is_null()) {
        return fail(path.string() + ": 'credsStore' must be a string");
    }
    return cfg;
}

std::string normalize_registry_key(std::string_view key) {
    // Docker's ConvertToHostname: drop "http(s)://" and everything after the first '/'.
    if (auto p = key.find("://"); p != std::string_view::npos) {
        key.remove_prefix(p + 3);
    }
    if (auto p = key.find('/'); p != std::string_view::npos) {
        key = key.substr(0, p);
    }
    std::string out(key);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

namespace {

std::string string_field(const nlohmann::json& obj, const char* name) {
    auto it = obj.find(name);
    if (it != obj.end() && it->is_string()) {
        return it->get<std::string>();
    }
    return {};
}

// The key under which `host` is (or would be) stored: exact key first, then any key normalizing to it.
std::optional<std::string> matching_key(const nlohmann::json& section, std::string_view host) {
    if (!section.is_object()) {
        return std::nullopt;
    }
    std::string exact = config_key(host);
    if (section.contains(exact)) {
        return exact;
    }
    std::string want = normalize_registry_key(exact);
    for (const auto& [k, v] : section.items()) {
        std::string nk = normalize_registry_key(k);
        if (nk == want || (is_docker_hub(want) && is_docker_hub(nk))) {
            return k;
        }
    }
    return std::nullopt;
}

} // namespace

Result<std::optional<AuthEntry>> find_auth_entry(const DockerConfig& config, std::string_view host) {
    if (!config.json.contains("auths")) {
        return std::optional<AuthEntry>{};
    }
    const auto& auths = config.json["auths"];
    auto key = matching_key(auths, host);
    if (!key) {
        return std::optional<AuthEntry>{};
    }
    const auto& e = auths[*key];
    if (!e.is_object()) {
        return fail(config.path.string() + ": auths[\"" + *key + "\"] must be an object");
    }
    AuthEntry a;
    a.key = *key;
    a.username = string_field(e, "username");
    a.password = string_field(e, "password");
    a.identity_token = string_field(e, "identitytoken");
    a.registry_token = string_field(e, "registrytoken");
    std::string auth = string_field(e, "auth");
    if (!auth.empty()) {
        auto decoded = core::base64_decode(auth);
        auto colon = decoded ? decoded->find(':') : std::string::npos;
        if (!decoded || colon == std::string::npos) {
            // Never echo the value: it is the secret.
            return fail(config.path.string() + ": auths[\"" + *key + "\"].auth is not base64 of \"user:password\"",
                        ExitCode::auth);
        }
        a.username = decoded->substr(0, colon);
        a.password = decoded->substr(colon + 1);
    }
    return std::optional<AuthEntry>(std::move(a));
}

std::optional<std::string> helper_for(const DockerConfig& config, std::string_view host) {
    if (config.json.contains("credHelpers")) {
        const auto& helpers = config.json["credHelpers"];
        if (auto key = matching_key(helpers, host); key && helpers[*key].is_string()) {
            return helpers[*key].get<std::string>();
        }
        // credHelpers keys are plain hosts; also accept the bare host for Docker Hub aliases.
        if (helpers.is_object() && helpers.contains(std::string(host)) && helpers[std::string(host)].is_string()) {
            return helpers[std::string(host)].get<std::string>();
        }
    }
    std::string store = config.json.contains("credsStore") ? string_field(config.json, "credsStore") : "";
    if (!store.empty()) {
        return store;
    }
    return std::nullopt;
}

Result<void> write_docker_config(const DockerConfig& config) {
    fs::path target = config.path;
    std::error_code ec;
    // Keep a symlinked config.json (dotfile managers) a symlink: write its target.
    if (fs::is_symlink(target, ec)) {
        auto resolved = fs::canonical(target, ec);
        if (!ec) {
            target = resolved;
        }
    }
    fs::path dir = target.parent_path();
    if (!dir.empty() && !fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) {
            return fail(dir.string() + ": cannot create directory: " + ec.message());
        }
        ::chmod(dir.c_str(), 0700);
    }
    auto file = core::AtomicFile::create(target);
    if (!file) {
        return unexpected(std::move(file).error());
    }
    // Mode 0600 before a single secret byte is written (docker writes config.json 0600 too).
    if (::chmod(file->temp_path().c_str(), 0600) != 0) {
        return fail(target.string() + ": cannot set mode 0600: " + std::strerror(errno));
    }
    EDGESHIP_TRY(file->write(config.json.dump(1, '\t') + "\n"));
    return file->commit();
}

Result<StoreResult> store_credential(const core::Environment& env, std::string_view host, const std::string& username,
                                     const std::string& secret) {
    EDGESHIP_TRY_ASSIGN(auto path, docker_config_path(env));
    EDGESHIP_TRY_ASSIGN(auto cfg, read_docker_config(path));
    std::string key = config_key(host);
    if (!cfg.json.contains("auths") || !cfg.json["auths"].is_object()) {
        cfg.json["auths"] = nlohmann::json::object();
    }
    auto& auths = cfg.json["auths"];
    // Replace an existing entry stored under another spelling of the same host.
    if (auto existing = matching_key(auths, host)) {
        key = *existing;
    }
    StoreResult result;
    if (auto helper = helper_for(cfg, host)) {
        HelperOptions ho;
        ho.env = &env;
        EDGESHIP_TRY(helper_store(*helper, key, HelperCredential{username, secret}, ho));
        auths[key] = nlohmann::json::object(); // docker records the host with an empty entry
        result.location = "credential helper docker-credential-" + *helper;
    } else {
        nlohmann::json entry = nlohmann::json::object();
        if (auto it = auths.find(key); it != auths.end() && it->is_object()) {
            entry = *it; // keep unknown fields of the entry (e.g. email)
        }
        entry.erase("identitytoken");
        entry.erase("registrytoken");
        entry.erase("username");
        entry.erase("password");
        if (username == "<token>") {
            entry.erase("auth");
            entry["identitytoken"] = secret;
        } else {
            entry["auth"] = core::base64_encode(username + ":" + secret);
        }
        auths[key] = std::move(entry);
        result.location = "docker config " + path.string();
    }
    EDGESHIP_TRY(write_docker_config(cfg));
    if (result.location.rfind("credential helper", 0) == 0) {
        result.location += " (host recorded in " + path.string() + ")";
    }
    return result;
}

Result<bool> erase_credential(const core::Environment& env, std::string_view host) {
    EDGESHIP_TRY_ASSIGN(auto path, docker_config_path(env));
    EDGESHIP_TRY_ASSIGN(auto cfg, read_docker_config(path));
    bool removed = false;
    std::string key = config_key(host);
    if (cfg.json.contains("auths")) {
        if (auto existing = matching_key(cfg.json["auths"], host)) {
            key = *existing;
        }
    }
    if (auto helper = helper_for(cfg, host)) {
        HelperOptions ho;
        ho.env = &env;
        EDGESHIP_TRY_ASSIGN(bool erased, helper_erase(*helper, key, ho));
        removed = erased;
    }
    if (cfg.json.contains("auths") && cfg.json["auths"].is_object()) {
        auto& auths = cfg.json["auths"];
        if (auto existing = matching_key(auths, host)) {
            auths.erase(*existing);
            removed = true;
            EDGESHIP_TRY(write_docker_config(cfg));
        }
    }
    return removed;
}

} // namespace edgeship::registry
