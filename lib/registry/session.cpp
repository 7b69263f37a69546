// Connections to one registry: shared state, the auth dance on 401, worker pools (detail/session.hpp).

#include "registry/detail/session.hpp"

#include "http/url.hpp"

namespace edgeship::registry::detail {

std::string api_host_of(const std::string& host) {
    return host == oci::k_docker_hub ? std::string(oci::k_docker_hub_api) : host;
}

namespace {

ExitCode code_for(long status) {
    return status == 401 || status == 403 ? ExitCode::auth : ExitCode::failure;
}

void set_auth(http::Request& req, const std::optional<std::string>& value) {
    std::erase_if(req.headers, [](const auto& h) {
        return h.first.size() == 13 && (h.first == "Authorization" || h.first == "authorization");
    });
    if (value && !value->empty()) {
        req.headers.emplace_back("Authorization", *value);
    }
}

} // namespace

Error answer_error(const std::string& step, const http::Response& r) {
    return Error(step + ": " + describe_answer(r), code_for(r.status));
}

void Shared::note_warnings(const http::Response& r) {
    for (auto& w : warnings_299(r)) {
        std::lock_guard lock(warn_mutex);
        if (warned.insert(w).second) {
            options.logger.warning("registry " + host + ": " + w); // §4: shown, never acted on
        }
    }
}

bool Shared::wait(std::chrono::milliseconds d) const {
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
        if (options.cancel != nullptr && options.cancel->cancelled()) {
            return false;
        }
        std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
            std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()),
            std::chrono::milliseconds(50)));
    }
    return options.cancel == nullptr || !options.cancel->cancelled();
}

Result<Conn> Conn::create(Shared& shared) {
    EDGESHIP_TRY_ASSIGN(auto client, http::Client::create(shared.http_options));
    return Conn(shared, std::move(client));
}

Result<http::Response> Conn::send(http::Request req, const Scopes& scopes, const http::SendOptions& so) {
    // A Location may point at another host: credentials stay with the registry's origin (§4, §11.8).
    const bool own_origin = http::url_origin(req.url) == http::url_origin(m_shared->base);
    if (own_origin) {
        set_auth(req, m_shared->auth->cached(scopes));
    }
    EDGESHIP_TRY_ASSIGN(auto resp, m_client.send(req, so));
    m_shared->note_warnings(resp);
    if (resp.status != 401 || !own_origin) {
        return resp;
    }
    auto challenges = header_values(resp, "WWW-Authenticate");
    if (challenges.empty()) {
        return resp;
    }
    if (is_invalid_token(challenges)) {
        m_shared->auth->invalidate(scopes);
    }
    EDGESHIP_TRY_ASSIGN(auto header, m_shared->auth->respond(challenges, scopes));
    if (req.body_source && req.body_source->rewind) {
        EDGESHIP_TRY(req.body_source->rewind());
    }
    set_auth(req, header);
    EDGESHIP_TRY_ASSIGN(auto again, m_client.send(req, so));
    m_shared->note_warnings(again);
    return again;
}

std::string display(const oci::Reference& ref) {
    std::string s = ref.registry + "/" + ref.repository;
    if (!ref.tag.empty()) {
        s += ":" + ref.tag;
    }
    if (ref.digest) {
        s += "@" + ref.digest->str();
    }
    return s;
}

Result<void> check_host(const Shared& s, const oci::Reference& ref) {
    if (api_host_of(ref.api_host()) != s.host) {
        return fail("reference " + ref.str() + " is on " + ref.api_host() + ", not on " + s.host);
    }
    return {};
}

Result<std::unique_ptr<Shared>> connect_session(RegistryOptions options) {
    auto shared = std::make_unique<Shared>();
    if (options.host.empty()) {
        return fail("registry host is empty");
    }
    // Workers log concurrently: serialize the caller's sink (core::Logger leaves that to the caller).
    if (auto inner = options.logger; true) {
        auto mutex = std::make_shared<std::mutex>();
        options.logger = core::Logger([mutex, inner](core::LogLevel level, std::string_view msg) {
            std::lock_guard lock(*mutex);
            inner.log(level, msg);
        });
    }
    shared->host = api_host_of(options.host);
    shared->base = (options.transport == Transport::plain_http ? "http://" : "https://") + shared->host;
    http::ClientOptions ho;
    ho.tls.ca_file = options.ca_file;
    ho.tls.insecure = options.transport == Transport::https_insecure ? http::Insecure::yes : http::Insecure::no;
    ho.allow_http = options.transport == Transport::plain_http ? http::AllowHttp::yes : http::AllowHttp::no;
    ho.user_agent = options.user_agent;
    ho.retry = registry_retry_policy(options.retry);
    ho.logger = options.logger;
    ho.cancel = options.cancel;
    ho.request_timeout = std::chrono::milliseconds(120000);
    if (options.parallel_blobs < 1) {
        options.parallel_blobs = 1;
    }
    AuthenticatorOptions ao;
    ao.registry_host = shared->host;
    ao.credential = options.credential;
    ao.http = ho;
    EDGESHIP_TRY_ASSIGN(shared->auth, Authenticator::create(std::move(ao)));
    // Check the client options once (a --ca-file that does not exist fails here, not per thread).
    EDGESHIP_TRY(http::Client::create(ho));
    shared->http_options = std::move(ho);
    shared->options = std::move(options);
    return shared;
}

} // namespace edgeship::registry::detail
