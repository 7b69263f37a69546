// verify_login: the authenticated GET /v2/ that `edgeship login` needs before storing a credential
// (docs/design/registry.md §5.1, §11.1).

#include "registry/login.hpp"

#include "http/error.hpp"
#include "registry/credentials.hpp"

#include <algorithm>
#include <cctype>

namespace edgeship::registry {

namespace {

std::vector<std::string> challenges_of(const http::Response& r) {
    std::vector<std::string> out;
    for (const auto& [name, value] : r.headers) {
        std::string n = name;
        std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
        if (n == "www-authenticate") {
            out.push_back(value);
        }
    }
    return out;
}

Error unexpected_status(const http::Request& req, const http::Response& resp) {
    return http::to_error(http::make_failure(req, resp, "", ""), ExitCode::failure);
}

} // namespace

std::string registry_base_url(const RegistryOptions& options) {
    std::string host = is_docker_hub(options.host) ? std::string("registry-1.docker.io") : options.host;
    return (options.transport == Transport::plain_http ? "http://" : "https://") + host;
}

http::ClientOptions registry_http_options(const RegistryOptions& options) {
    http::ClientOptions o;
    o.tls.ca_file = options.ca_file;
    o.tls.insecure = options.transport == Transport::https_insecure ? http::Insecure::yes : http::Insecure::no;
    o.allow_http = options.transport == Transport::plain_http ? http::AllowHttp::yes : http::AllowHttp::no;
    o.user_agent = options.user_agent;
    o.retry = options.retry;
    o.logger = options.logger;
    o.cancel = options.cancel;
    return o;
}

Result<LoginCheck> verify_login(const RegistryOptions& options) {
    auto http_opts = registry_http_options(options);
    EDGESHIP_TRY_ASSIGN(auto client, http::Client::create(http_opts));
    AuthenticatorOptions ao;
    ao.registry_host = options.host;
    ao.credential = options.credential;
    ao.http = http_opts;
    EDGESHIP_TRY_ASSIGN(auto auth, Authenticator::create(std::move(ao)));

    http::Request ping;
    ping.url = registry_base_url(options) + "/v2/";
    auto first = client.send(ping);
    if (!first) {
        return unexpected(std::move(first).error().context("registry " + options.host));
    }
    LoginCheck check;
    if (first->status == 200) {
        return check; // an open registry: nothing to verify (docker login succeeds here too)
    }
    if (first->status != 401) {
        return unexpected(unexpected_status(ping, *first).context("registry " + options.host + " is not a v2 registry"));
    }
    auto challenges = challenges_of(*first);
    // The scheme for the report: the first challenge's (Bearer preferred by respond()).
    for (const auto& v : challenges) {
        if (auto parsed = parse_challenges(v); parsed && !parsed->empty()) {
            for (const auto& c : *parsed) {
                if (c.scheme == "bearer" || check.scheme.empty()) {
                    check.scheme = c.scheme;
                }
            }
        }
    }
    // §5.1: /v2/ gets a challenge without scope; the token for the empty scope set proves the credential.
    EDGESHIP_TRY_ASSIGN(auto header, auth->respond(challenges, {}));
    http::Request again = ping;
    again.headers.emplace_back("Authorization", header);
    auto second = client.send(again);
    if (!second) {
        return unexpected(std::move(second).error().context("registry " + options.host));
    }
    if (second->status == 200) {
        check.authenticated = true;
        return check;
    }
    if (second->status == 401 || second->status == 403) {
        // For Basic this is the registry rejecting the password; respond() turns it into the auth error.
        auto retry = auth->respond(challenges_of(*second), {});
        if (!retry) {
            return unexpected(std::move(retry).error());
        }
        return fail("registry " + options.host + ": authentication failed for " +
                        (options.credential.username.empty() ? std::string("the token") : options.credential.username) +
                        " (credential from " + options.credential.source + "): the registry answered " +
                        std::to_string(second->status),
                    ExitCode::auth);
    }
    return unexpected(unexpected_status(again, *second).context("registry " + options.host));
}

} // namespace edgeship::registry
