#pragma once

// Registry authentication: WWW-Authenticate challenges, Basic, Bearer tokens (GET and OAuth2 POST), Azure
// Container Registry conventions, token cache per scope set (docs/design/registry.md §5, §11.1-2).
// The transfer code (registry/client.hpp) sends a request with `cached(scopes)`; on a 401 it calls
// `respond(...)` once with every WWW-Authenticate value of that response and retries with the result.

#include "core/result.hpp"
#include "http/client.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::registry {

/// One challenge of a WWW-Authenticate header (§5.1). `scheme` is lower-cased ("basic", "bearer");
/// parameter names are lower-cased, values unquoted.
struct Challenge {
    std::string scheme;
    std::map<std::string, std::string> params;
};

/// Parses every challenge in one header value, e.g.
/// `Bearer realm="https://auth/token",service="svc",scope="repository:a/b:pull,push"`.
Result<std::vector<Challenge>> parse_challenges(std::string_view www_authenticate);

/// What the user gave us for one registry. `source` says where it came from for -v output and errors
/// ("--username", "environment CONTAINER_REGISTRY_USERNAME", "docker config /root/.docker/config.json",
/// "credential helper docker-credential-foo"), never the secret.
struct Credential {
    enum class Kind {
        anonymous,      ///< no credential: anonymous token requests only
        basic,          ///< username + password (or ACR admin user / service principal)
        identity_token, ///< refresh token (config.json identitytoken, helper user "<token>", ACR all-zeros user): OAuth2 POST refresh_token grant (§5.7)
        registry_token, ///< config.json registrytoken: sent directly as Bearer
    };
    Kind kind = Kind::anonymous;
    std::string username;
    std::string secret; ///< password or token; never logged
    std::string source;
};

/// Scopes as the distribution token spec writes them: "repository:<name>:pull,push" (§5.4).
std::string repository_scope(std::string_view repository, std::string_view actions);

struct AuthenticatorOptions {
    std::string registry_host; ///< host[:port] as in the reference, for messages and ACR detection
    Credential credential;
    http::ClientOptions http;            ///< TLS/timeouts/logger for token requests (a separate client)
    std::string client_id = "edgeship";  ///< OAuth2 client_id
    /// Clock for token expiry; default system_clock::now. Tests move it forward.
    std::function<std::chrono::system_clock::time_point()> now;
};

/// Thread-safe: several upload threads share one Authenticator per registry.
class Authenticator {
public:
    static Result<std::shared_ptr<Authenticator>> create(AuthenticatorOptions options);
    virtual ~Authenticator() = default;

    /// The Authorization header value to send for `scopes` now (a cached, unexpired token, refreshed
    /// early; or Basic when the registry asked for Basic before), or nullopt when nothing is known yet.
    virtual std::optional<std::string> cached(const std::vector<std::string>& scopes) = 0;

    /// Answers a 401: `www_authenticate` holds every WWW-Authenticate value of the response. Fetches a
    /// token for `scopes` (push scope first; mounts add `repository:<from>:pull`), caches it and returns
    /// the header value ("Basic …" or "Bearer …"). A repeated 401 for a header this returned earlier
    /// means the credential is wrong or lacks access: errors carry ExitCode::auth and never the secret.
    virtual Result<std::string> respond(const std::vector<std::string>& www_authenticate,
                                        const std::vector<std::string>& scopes) = 0;

    /// Forgets the cached token for `scopes` (e.g. after `error="invalid_token"` mid-upload, §5.5).
    virtual void invalidate(const std::vector<std::string>& scopes) = 0;
};

} // namespace edgeship::registry
