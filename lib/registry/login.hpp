#pragma once

// Checking a credential against a registry before `login` stores it: GET /v2/, answer the challenge
// (Basic or a Bearer token round trip through registry::Authenticator), GET /v2/ again
// (docs/design/registry.md §5.1-5.3, §11.1).

#include "core/result.hpp"
#include "registry/client.hpp"

#include <string>

namespace edgeship::registry {

struct LoginCheck {
    bool authenticated = false; ///< false when the registry answered /v2/ without asking for credentials
    std::string scheme;         ///< "basic", "bearer" or "" (open registry)
};

/// GET <scheme>://<host>/v2/ and authenticate with `options.credential`. Errors: unreachable/TLS (1),
/// wrong credential or token-server refusal (ExitCode::auth, never with the secret), a registry that is
/// not a v2 registry (1).
Result<LoginCheck> verify_login(const RegistryOptions& options);

/// "https://host" or "http://host" for `options` (Transport::plain_http ⇒ http). Docker Hub's
/// names map to registry-1.docker.io (§1).
std::string registry_base_url(const RegistryOptions& options);

/// http::ClientOptions matching the registry's transport, CA file, user agent, logger and retry policy.
http::ClientOptions registry_http_options(const RegistryOptions& options);

} // namespace edgeship::registry
