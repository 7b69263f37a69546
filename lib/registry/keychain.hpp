#pragma once

// The one place a registry credential is chosen for a host (go-containerregistry's authn.Keychain).
// An explicit credential (--username with --password-stdin) is bound to the host it was given for when
// the keychain is built, so it can never be sent to another registry (a base image's, a mounted layer's
// source): every other host gets its own credential from the environment (the solution's .env layered
// under the process environment), docker config.json or its credential helpers, else anonymous.

#include "core/env.hpp"
#include "core/result.hpp"
#include "registry/auth.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace edgeship::registry {

/// A credential the user gave for one registry host only.
struct ExplicitCredential {
    std::string host; ///< host[:port] it belongs to (Docker Hub's names are one host)
    std::string username;
    std::string secret; ///< never logged
};

class Keychain {
public:
    /// `env`: the process environment with the solution's .env under it (see layered_environment);
    /// it supplies CONTAINER_REGISTRY_*, HOME/DOCKER_CONFIG and PATH for credential helpers.
    explicit Keychain(core::Environment env = {}, std::optional<ExplicitCredential> explicit_credential = {});

    /// The credential for `host`: the explicit one when it was given for this host, else
    /// CONTAINER_REGISTRY_* naming the host > docker config.json (credHelpers, credsStore, auths) >
    /// anonymous. Resolved once per host (credential helpers are processes); thread-safe.
    Result<Credential> resolve(std::string_view host) const;

    /// True when an explicit credential was given, and for which host.
    const std::optional<ExplicitCredential>& explicit_credential() const { return m_explicit; }
    const core::Environment& environment() const { return m_env; }

private:
    core::Environment m_env;
    std::optional<ExplicitCredential> m_explicit;
    mutable std::mutex m_mutex;
    mutable std::map<std::string, Credential, std::less<>> m_resolved;
};

/// `over` with `under` beneath it: a name set in `over` (the process environment) wins over the same
/// name in `under` (the solution's .env), as in docker compose.
core::Environment layered_environment(const core::Environment& over, const core::Environment& under);

/// True when two host[:port] strings name the same registry (case, scheme and trailing slashes aside;
/// Docker Hub's names are one registry).
bool same_registry(std::string_view a, std::string_view b);

} // namespace edgeship::registry
