#pragma once

// Where a registry credential comes from when the user gave none for this host on the command line
// (docs/design/registry.md §5.7, §6): CONTAINER_REGISTRY_SERVER/USERNAME/PASSWORD (the IoT Edge solution
// .env convention) when the server names this host, then docker config.json credHelpers[host],
// credsStore, auths[host], else anonymous. Commands go through registry::Keychain (keychain.hpp), which
// adds the explicit --username credential for its own host only.

#include "core/env.hpp"
#include "core/result.hpp"
#include "registry/auth.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace edgeship::registry {

struct CredentialQuery {
    std::string registry_host; ///< host[:port]; docker.io, index.docker.io and registry-1.docker.io are Docker Hub
    const core::Environment* env = nullptr; ///< process env merged with the solution .env by the caller (PATH, HOME, DOCKER_CONFIG)
};

/// Resolves the credential for one registry host. Errors: a malformed config.json or `auth` value, a
/// credential helper that fails for a reason other than "credentials not found" (ExitCode::auth).
/// Never puts the secret in an error.
Result<Credential> resolve_credential(const CredentialQuery& query);

/// The user name the ACR documents for refresh tokens: its password is an identity token (§5.6, §5.7).
inline constexpr std::string_view k_acr_token_user = "00000000-0000-0000-0000-000000000000";

/// A username/secret pair turned into a Credential: "<token>" or the ACR all-zeros user ⇒ identity token.
Credential make_credential(std::string username, std::string secret, std::string source);

/// True for the names Docker Hub goes by (docker.io, index.docker.io, registry-1.docker.io).
bool is_docker_hub(std::string_view host);

/// The config.json / credential-helper key for a host: "https://index.docker.io/v1/" for Docker Hub,
/// else the host itself (§6).
std::string config_key(std::string_view host);

// --- docker-credential-* helpers (§6, [credhelpers]) ------------------------------------------------

/// Result of a helper `get`: nullopt when the helper answered "credentials not found".
struct HelperCredential {
    std::string username;
    std::string secret;
};

struct HelperOptions {
    const core::Environment* env = nullptr; ///< PATH (to find the helper) and the child's environment
    std::chrono::milliseconds timeout{30000}; ///< the helper is killed after this long
};

/// Runs `docker-credential-<suffix> get` with `server` on stdin.
Result<std::optional<HelperCredential>> helper_get(const std::string& suffix, const std::string& server,
                                                   const HelperOptions& options);
/// Runs `docker-credential-<suffix> store` with {"ServerURL","Username","Secret"} on stdin.
Result<void> helper_store(const std::string& suffix, const std::string& server, const HelperCredential& cred,
                          const HelperOptions& options);
/// Runs `docker-credential-<suffix> erase` with `server` on stdin; "not found" is not an error (false).
Result<bool> helper_erase(const std::string& suffix, const std::string& server, const HelperOptions& options);

} // namespace edgeship::registry
