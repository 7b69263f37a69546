#pragma once

// Docker's config.json (docs/design/registry.md §6): where it is, reading `auths`/`credsStore`/
// `credHelpers`, and storing/erasing credentials for login/logout with every other key kept as it was.
// Writes are atomic and leave the file at mode 0600 (its directory is created 0700).

#include "core/env.hpp"
#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace edgeship::registry {

/// $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json (from `env`; the library never calls getenv).
/// Error when neither DOCKER_CONFIG nor HOME is set.
Result<std::filesystem::path> docker_config_path(const core::Environment& env);

/// A parsed config.json. `json` is the whole document (unknown keys such as HttpHeaders, proxies,
/// currentContext are kept and written back unchanged).
struct DockerConfig {
    std::filesystem::path path;
    nlohmann::json json = nlohmann::json::object();
    bool exists = false;
};

/// Reads `path`; a missing file is an empty config (exists=false). Malformed JSON or a non-object
/// `auths`/`credHelpers`/`credsStore`: one error naming the file.
Result<DockerConfig> read_docker_config(const std::filesystem::path& path);

/// One `auths` entry, decoded (§6): `auth` is base64("user:pass"); `username`/`password` explicit;
/// `identitytoken` (refresh token) and `registrytoken` (Bearer token used as is).
struct AuthEntry {
    std::string key; ///< the key it was found under, e.g. "https://index.docker.io/v1/"
    std::string username;
    std::string password;
    std::string identity_token;
    std::string registry_token;
};

/// The `auths` entry for `host` (Docker Hub: "https://index.docker.io/v1/"); keys match with or without
/// scheme and trailing path, as Docker's `ConvertToHostname` does. Errors: an `auth` value that is not
/// base64 of "user:password" (names the file and key, never the value).
Result<std::optional<AuthEntry>> find_auth_entry(const DockerConfig& config, std::string_view host);

/// The credential helper suffix for `host`: credHelpers[host] first, else credsStore, else nullopt.
std::optional<std::string> helper_for(const DockerConfig& config, std::string_view host);

/// Writes `config.json` atomically with mode 0600, creating its directory (0700) when missing.
Result<void> write_docker_config(const DockerConfig& config);

/// Where login stored a credential, for the message printed by the CLI.
struct StoreResult {
    std::string location; ///< "docker config /root/.docker/config.json" or "credential helper docker-credential-x"
};

/// Stores `username`/`secret` for `host`: through credHelpers[host]/credsStore when configured (and an
/// empty `auths` entry recording the host, as docker does), else as `auths[key].auth` (identity tokens as
/// `identitytoken`). Keeps every other key. `env` provides PATH for the helper.
Result<StoreResult> store_credential(const core::Environment& env, std::string_view host, const std::string& username,
                                     const std::string& secret);

/// Removes the credential for `host` (helper `erase` and the `auths` entry). Returns false when there
/// was nothing to remove.
Result<bool> erase_credential(const core::Environment& env, std::string_view host);

/// "myacr.azurecr.io" from "https://myacr.azurecr.io/v2/" (scheme and path dropped, lower-cased).
std::string normalize_registry_key(std::string_view key);

} // namespace edgeship::registry

namespace edgeship::registry {


} // namespace edgeship::registry
