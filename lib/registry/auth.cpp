// Registry authentication (docs/design/registry.md §5, §11.1-2): WWW-Authenticate parsing, Basic, Bearer
// tokens by GET or OAuth2 POST, ACR conventions, a token cache per scope set.

#include "registry/auth.hpp"

#include "core/base64.hpp"

#include "http/error.hpp"
#include "http/url.hpp"
#include "registry/credentials.hpp"
#include "registry/docker_config.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <set>

namespace edgeship::registry {

// docs/design/registry.md §5.4: resourcetype ":" resourcename ":" action[,action]
std::string repository_scope(std::string_view repository, std::string_view actions) {
    std::string scope = "repository:";
    scope.append(repository);
    scope += ':';
    scope.append(actions);
    return scope;
}

// ---- WWW-Authenticate (RFC 7235 §4.1; docs/design/registry.md §5.1) --------------------------------

namespace {

bool is_tchar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

class ChallengeParser {
public:
    explicit ChallengeParser(std::string_view text) : m_s(text) {}

    Result<std::vector<Challenge>> parse() {
        std::vector<Challenge> out;
        skip_separators();
        while (m_i < m_s.size()) {
            std::string scheme = token();
            if (scheme.empty()) {
                return bad("expected an authentication scheme");
            }
            Challenge c;
            c.scheme = lower(scheme);
            skip_spaces();
            // Parameters until a comma followed by something that is not `name=` (the next challenge).
            while (m_i < m_s.size() && m_s[m_i] != ',') {
                std::size_t mark = m_i;
                std::string name = token();
                skip_spaces();
                if (name.empty() || m_i >= m_s.size() || m_s[m_i] != '=') {
                    // token68 (e.g. `Negotiate abc==`): the rest up to a comma.
                    m_i = mark;
                    std::size_t end = m_s.find(',', m_i);
                    std::string_view t68 = m_s.substr(m_i, end == std::string_view::npos ? m_s.size() - m_i : end - m_i);
                    while (!t68.empty() && (t68.back() == ' ' || t68.back() == '\t')) {
                        t68.remove_suffix(1);
                    }
                    if (t68.empty()) {
                        return bad("unexpected character");
                    }
                    c.params["token68"] = std::string(t68);
                    m_i = end == std::string_view::npos ? m_s.size() : end;
                    break;
                }
                ++m_i; // '='
                if (c.params.empty() && (m_i >= m_s.size() || m_s[m_i] == '=' || m_s[m_i] == ',')) {
                    // `Negotiate abc==`: a token68 ending in '=' is not a name=value pair (RFC 7235 §2.1).
                    m_i = mark;
                    std::size_t end = m_s.find(',', m_i);
                    std::string_view t68 = m_s.substr(m_i, end == std::string_view::npos ? m_s.size() - m_i : end - m_i);
                    while (!t68.empty() && (t68.back() == ' ' || t68.back() == '\t')) {
                        t68.remove_suffix(1);
                    }
                    c.params["token68"] = std::string(t68);
                    m_i = end == std::string_view::npos ? m_s.size() : end;
                    break;
                }
                skip_spaces();
                std::string value;
                if (m_i < m_s.size() && m_s[m_i] == '"') {
                    EDGESHIP_TRY_ASSIGN(value, quoted());
                } else {
                    value = token();
                    // token68-like values (trailing '=') are kept whole.
                    while (m_i < m_s.size() && m_s[m_i] == '=') {
                        value += '=';
                        ++m_i;
                    }
                }
                c.params[lower(name)] = std::move(value);
                skip_spaces();
                if (m_i < m_s.size() && m_s[m_i] == ',') {
                    std::size_t save = m_i;
                    ++m_i;
                    skip_separators();
                    if (next_is_param()) {
                        continue;
                    }
                    m_i = save;
                    break;
                }
                if (m_i < m_s.size()) {
                    return bad("expected ',' after parameter " + lower(name));
                }
            }
            out.push_back(std::move(c));
            skip_separators();
        }
        return out;
    }

private:
    Result<std::string> quoted() {
        ++m_i; // opening quote
        std::string v;
        while (m_i < m_s.size()) {
            char ch = m_s[m_i++];
            if (ch == '"') {
                return v;
            }
            if (ch == '\\') {
                if (m_i >= m_s.size()) {
                    break;
                }
                v += m_s[m_i++];
                continue;
            }
            v += ch;
        }
        return unexpected(Error("WWW-Authenticate: unterminated quoted string"));
    }
    std::string token() {
        std::size_t start = m_i;
        while (m_i < m_s.size() && is_tchar(m_s[m_i])) {
            ++m_i;
        }
        return std::string(m_s.substr(start, m_i - start));
    }
    void skip_spaces() {
        while (m_i < m_s.size() && (m_s[m_i] == ' ' || m_s[m_i] == '\t')) {
            ++m_i;
        }
    }
    void skip_separators() {
        while (m_i < m_s.size() && (m_s[m_i] == ' ' || m_s[m_i] == '\t' || m_s[m_i] == ',')) {
            ++m_i;
        }
    }
    bool next_is_param() {
        std::size_t save = m_i;
        std::string name = token();
        skip_spaces();
        bool param = !name.empty() && m_i < m_s.size() && m_s[m_i] == '=';
        m_i = save;
        return param;
    }
    Result<std::vector<Challenge>> bad(const std::string& what) const {
        return unexpected(Error("WWW-Authenticate: " + what + " at offset " + std::to_string(m_i)));
    }

    std::string_view m_s;
    std::size_t m_i = 0;
};

} // namespace

Result<std::vector<Challenge>> parse_challenges(std::string_view www_authenticate) {
    return ChallengeParser(www_authenticate).parse();
}

// ---- the Authenticator ----------------------------------------------------------------------------

namespace {

using Clock = std::chrono::system_clock;

// The cache key: the sorted, de-duplicated scope set (§5.4 "cache tokens per (registry, scope set)").
std::string scope_key(const std::vector<std::string>& scopes) {
    std::set<std::string> sorted(scopes.begin(), scopes.end());
    std::string key;
    for (const auto& s : sorted) {
        key += s;
        key += ' ';
    }
    return key;
}

bool is_loopback_host(std::string_view host) {
    return host == "localhost" || host.rfind("127.", 0) == 0 || host == "[::1]" || host == "::1";
}

// host (without port) of an absolute URL.
std::string url_host(std::string_view url) {
    auto p = url.find("://");
    if (p == std::string_view::npos) {
        return {};
    }
    url.remove_prefix(p + 3);
    url = url.substr(0, url.find_first_of("/?#"));
    if (auto at = url.rfind('@'); at != std::string_view::npos) {
        url.remove_prefix(at + 1);
    }
    if (!url.empty() && url[0] == '[') {
        return lower(url.substr(0, url.find(']') + 1));
    }
    return lower(url.substr(0, url.find(':')));
}

struct CachedToken {
    std::string header; ///< "Bearer …"
    Clock::time_point expires;
    Clock::time_point refresh_after;
    std::set<std::string> requested; ///< scopes asked of the token server (caller's plus the challenge's)
};

struct BearerChallenge {
    std::string realm;
    std::string service;
};

class AuthenticatorImpl final : public Authenticator {
public:
    explicit AuthenticatorImpl(AuthenticatorOptions o) : m_o(std::move(o)) {
        if (!m_o.now) {
            m_o.now = [] { return Clock::now(); };
        }
    }

    std::optional<std::string> cached(const std::vector<std::string>& scopes) override {
        std::optional<BearerChallenge> bearer;
        {
            std::lock_guard lock(m_mutex);
            if (m_o.credential.kind == Credential::Kind::registry_token) {
                return "Bearer " + m_o.credential.secret; // §6 registrytoken: used directly
            }
            if (m_basic) {
                return basic_header();
            }
            auto it = m_tokens.find(scope_key(scopes));
            auto now = m_o.now();
            if (it != m_tokens.end() && now < it->second.refresh_after) {
                return it->second.header;
            }
            if (!m_bearer) {
                return std::nullopt;
            }
            bearer = m_bearer;
        }
        // Missing or about to expire (§5.5: refresh before expires_in): fetch now, since we know the realm.
        auto fetched = fetch_and_cache(*bearer, scopes, {});
        if (fetched) {
            return *fetched;
        }
        m_o.http.logger.debug("registry " + m_o.registry_host + ": token refresh failed: " + fetched.error().what());
        std::lock_guard lock(m_mutex);
        auto it = m_tokens.find(scope_key(scopes));
        if (it != m_tokens.end() && m_o.now() < it->second.expires) {
            return it->second.header;
        }
        return std::nullopt;
    }

    Result<std::string> respond(const std::vector<std::string>& www_authenticate,
                                const std::vector<std::string>& scopes) override {
        std::vector<Challenge> challenges;
        for (const auto& value : www_authenticate) {
            auto parsed = parse_challenges(value);
            if (!parsed) {
                return unexpected(std::move(parsed).error().context("registry " + m_o.registry_host));
            }
            challenges.insert(challenges.end(), parsed->begin(), parsed->end());
        }
        const Challenge* bearer = nullptr;
        const Challenge* basic = nullptr;
        for (const auto& c : challenges) {
            if (c.scheme == "bearer" && bearer == nullptr) {
                bearer = &c;
            } else if (c.scheme == "basic" && basic == nullptr) {
                basic = &c;
            }
        }
        if (bearer != nullptr) {
            return respond_bearer(*bearer, scopes);
        }
        if (basic != nullptr) {
            return respond_basic();
        }
        if (challenges.empty()) {
            return fail("registry " + m_o.registry_host + ": 401 Unauthorized without a WWW-Authenticate challenge",
                        ExitCode::auth);
        }
        return fail("registry " + m_o.registry_host + ": unsupported authentication scheme '" + challenges[0].scheme +
                        "' (edgeship speaks Basic and Bearer)",
                    ExitCode::auth);
    }

    void invalidate(const std::vector<std::string>& scopes) override {
        std::lock_guard lock(m_mutex);
        m_tokens.erase(scope_key(scopes));
    }

private:
    std::string who() const {
        const auto& c = m_o.credential;
        std::string name = c.username.empty() || c.kind == Credential::Kind::identity_token
                               ? std::string(c.kind == Credential::Kind::identity_token ? "an identity token" : "a token")
                               : c.username;
        if (c.kind == Credential::Kind::identity_token && !c.username.empty() && c.username != "<token>") {
            name = "an identity token for " + c.username;
        }
        return name + " (credential from " + c.source + ")";
    }

    std::string basic_header() const {
        return "Basic " + core::base64_encode(m_o.credential.username + ":" + m_o.credential.secret);
    }

    Error denied(const std::string& what) const {
        Error e("registry " + m_o.registry_host + ": " + what, ExitCode::auth);
        if (m_o.credential.kind == Credential::Kind::anonymous) {
            e.hint("log in first: edgeship login " + m_o.registry_host + " -u USER --password-stdin");
        }
        return e;
    }

    // §5.1 Basic-only registries (htpasswd): answer with the credential; a second Basic challenge after
    // we answered means the registry rejected it.
    Result<std::string> respond_basic() {
        std::lock_guard lock(m_mutex);
        switch (m_o.credential.kind) {
        case Credential::Kind::anonymous:
            return unexpected(denied("authentication required (Basic) and no credential found"));
        case Credential::Kind::identity_token:
        case Credential::Kind::registry_token:
            return unexpected(denied("the registry asks for Basic authentication but the credential is a token (" +
                                     m_o.credential.source + ")"));
        case Credential::Kind::basic:
            break;
        }
        if (m_basic) {
            return unexpected(denied("authentication failed for " + who() + ": the registry answered 401"));
        }
        m_basic = true;
        return basic_header();
    }

    Result<std::string> respond_bearer(const Challenge& c, const std::vector<std::string>& scopes) {
        BearerChallenge b;
        if (auto it = c.params.find("realm"); it != c.params.end()) {
            b.realm = it->second;
        }
        if (auto it = c.params.find("service"); it != c.params.end()) {
            b.service = it->second;
        }
        std::string error;
        if (auto it = c.params.find("error"); it != c.params.end()) {
            error = it->second;
        }
        std::vector<std::string> wanted;
        if (auto it = c.params.find("scope"); it != c.params.end()) {
            // Space-separated list (token.md); add the registry's scope to ours.
            std::string_view s = it->second;
            while (!s.empty()) {
                auto sp = s.find(' ');
                auto part = s.substr(0, sp);
                if (!part.empty()) {
                    wanted.emplace_back(part);
                }
                s.remove_prefix(sp == std::string_view::npos ? s.size() : sp + 1);
            }
        }
        if (b.realm.empty()) {
            return fail("registry " + m_o.registry_host + ": Bearer challenge without a realm", ExitCode::auth);
        }
        EDGESHIP_TRY(check_realm(b.realm));
        if (m_o.credential.kind == Credential::Kind::registry_token) {
            return unexpected(denied("the registry token (" + m_o.credential.source + ") was refused" +
                                     (error.empty() ? std::string() : ": " + error)));
        }
        {
            std::lock_guard lock(m_mutex);
            m_bearer = b;
            if (error == "invalid_token") {
                // Expired or revoked (§5.5): forget it and fetch a new one; the upload session survives.
                m_tokens.erase(scope_key(scopes));
            }
            auto it = m_tokens.find(scope_key(scopes));
            if (it != m_tokens.end()) {
                bool covers = std::all_of(wanted.begin(), wanted.end(),
                                          [&](const std::string& w) { return it->second.requested.count(w) != 0; });
                if (error == "insufficient_scope" && covers) {
                    // We asked for exactly this and the token server did not grant it (§5.1).
                    std::string scope_text;
                    for (const auto& w : wanted) {
                        scope_text += (scope_text.empty() ? "" : " ") + w;
                    }
                    return unexpected(denied(
                        (m_o.credential.kind == Credential::Kind::anonymous ? std::string("anonymous access")
                                                                            : who()) +
                        " is not allowed " + (scope_text.empty() ? std::string("this operation") : scope_text) +
                        " (insufficient_scope)"));
                }
                if (error.empty() && covers && m_o.now() < it->second.refresh_after) {
                    // Another thread fetched it while this request was in flight without it.
                    return it->second.header;
                }
            }
        }
        return fetch_and_cache(b, scopes, wanted);
    }

    // The realm must be http(s). Plain http would send the password (or refresh token) in clear text, so
    // it is accepted only when the registry itself is reached over plain http (the user opted out of TLS
    // already: allow_http) or when the token server is on loopback (the test fixtures of
    // docs/design/registry.md §10.3, nothing leaves the machine).
    Result<void> check_realm(const std::string& realm) const {
        std::string scheme = lower(http::url_scheme(realm));
        if (scheme == "https") {
            return {};
        }
        if (scheme != "http") {
            return fail("registry " + m_o.registry_host + ": token realm '" + http::strip_query(realm) +
                            "' is not an http(s) URL",
                        ExitCode::auth);
        }
        if (m_o.http.allow_http == http::AllowHttp::yes || is_loopback_host(url_host(realm))) {
            return {};
        }
        return fail("registry " + m_o.registry_host + ": token realm " + http::strip_query(realm) +
                        " is plain http; refusing to send credentials unencrypted",
                    ExitCode::auth);
    }

    Result<std::string> fetch_and_cache(const BearerChallenge& b, const std::vector<std::string>& scopes,
                                        const std::vector<std::string>& extra) {
        std::lock_guard fetch_lock(m_fetch_mutex); // one token request at a time; others then hit the cache
        std::vector<std::string> ask;
        std::set<std::string> seen;
        for (const auto* list : {&scopes, &extra}) {
            for (const auto& s : *list) {
                if (seen.insert(s).second) {
                    ask.push_back(s); // caller order kept: push scope first (§5.4)
                }
            }
        }
        auto now = m_o.now();
        {
            std::lock_guard lock(m_mutex);
            auto it = m_tokens.find(scope_key(scopes));
            if (it != m_tokens.end() && now < it->second.refresh_after &&
                std::all_of(ask.begin(), ask.end(), [&](const auto& s) { return it->second.requested.count(s) != 0; })) {
                return it->second.header;
            }
        }
        EDGESHIP_TRY_ASSIGN(auto token, fetch_token(b, ask));
        auto lifetime = std::chrono::seconds(token.expires_in);
        // Refresh early: when less than 10% of the lifetime or 30 s is left, whichever margin is smaller,
        // so short test tokens are still reused (§5.5; distribution adds 60 s leeway on its side).
        auto margin = std::min<std::chrono::seconds>(lifetime / 10, std::chrono::seconds(30));
        CachedToken entry;
        entry.header = "Bearer " + token.value;
        entry.expires = now + lifetime;
        entry.refresh_after = now + lifetime - margin;
        entry.requested = std::set<std::string>(ask.begin(), ask.end());
        m_o.http.logger.debug("registry " + m_o.registry_host + ": token for [" + join(ask) + "] from " +
                              http::strip_query(b.realm) + " (expires in " + std::to_string(token.expires_in) + " s)");
        std::lock_guard lock(m_mutex);
        m_tokens[scope_key(scopes)] = entry;
        return entry.header;
    }

    static std::string join(const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) {
            s += (s.empty() ? "" : " ") + x;
        }
        return s;
    }

    struct Token {
        std::string value;
        long long expires_in = 60;
    };

    Result<http::Client*> client(const std::string& realm) {
        bool http_realm = lower(http::url_scheme(realm)) == "http";
        if (!m_client || (http_realm && m_client->options().allow_http != http::AllowHttp::yes)) {
            auto opts = m_o.http;
            if (http_realm) {
                opts.allow_http = http::AllowHttp::yes; // checked by check_realm
            }
            EDGESHIP_TRY_ASSIGN(auto c, http::Client::create(std::move(opts)));
            m_client = std::make_unique<http::Client>(std::move(c));
        }
        return m_client.get();
    }

    Error token_failure(const http::Request& req, const http::Response& resp) const {
        if (resp.status == 401 || resp.status == 403) {
            if (m_o.credential.kind == Credential::Kind::anonymous) {
                return denied("anonymous token request refused: token server answered " + std::to_string(resp.status));
            }
            return denied("authentication failed for " + who() + ": token server answered " +
                          std::to_string(resp.status));
        }
        // Token-server bodies are small JSON ({"error": "..."}); never include token-like fields.
        std::string code;
        std::string detail;
        try {
            auto j = nlohmann::json::parse(resp.body);
            if (j.is_object()) {
                if (auto it = j.find("error"); it != j.end() && it->is_string()) {
                    code = it->get<std::string>();
                }
                if (auto it = j.find("error_description"); it != j.end() && it->is_string()) {
                    detail = it->get<std::string>();
                }
            }
        } catch (const nlohmann::json::exception&) {
        }
        return http::to_error(http::make_failure(req, resp, code, detail), ExitCode::failure)
            .context("registry " + m_o.registry_host + ": token request");
    }

    Result<Token> parse_token(const http::Request& req, const http::Response& resp) const {
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(resp.body);
        } catch (const nlohmann::json::exception&) {
            return fail("registry " + m_o.registry_host + ": token server " + http::strip_query(req.url) +
                        " answered " + std::to_string(resp.status) + " with a body that is not JSON");
        }
        Token t;
        // Accept `token` or `access_token`: ACR sends only access_token (§5.2; [acr] Token-BasicAuth.md).
        for (const char* field : {"token", "access_token"}) {
            if (auto it = j.find(field); it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
                t.value = it->get<std::string>();
                break;
            }
        }
        if (t.value.empty()) {
            return fail("registry " + m_o.registry_host + ": token server " + http::strip_query(req.url) +
                        " answered without token or access_token");
        }
        if (t.value.find_first_of("\r\n") != std::string::npos) {
            return fail("registry " + m_o.registry_host + ": token server returned a token with line breaks");
        }
        // expires_in: default 60 s; token.md says clients should assume at least 60 s.
        if (auto it = j.find("expires_in"); it != j.end() && it->is_number()) {
            t.expires_in = std::max<long long>(it->get<long long>(), 60);
        }
        return t;
    }

    Result<Token> fetch_token(const BearerChallenge& b, const std::vector<std::string>& scopes) {
        EDGESHIP_TRY_ASSIGN(auto* cl, client(b.realm));
        const auto& cred = m_o.credential;
        if (cred.kind == Credential::Kind::identity_token) {
            // §5.3/§5.7: OAuth2 POST with the refresh_token grant; 404 ⇒ fall back to GET (oauth.md; ggcr).
            http::Request post;
            post.method = "POST";
            post.url = b.realm;
            post.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
            std::string form = "grant_type=refresh_token";
            auto add = [&form](std::string_view k, std::string_view v) {
                form += '&';
                form += k;
                form += '=';
                form += http::percent_encode(v);
            };
            if (!b.service.empty()) {
                add("service", b.service);
            }
            if (!scopes.empty()) {
                add("scope", join(scopes)); // OAuth2: one space-delimited scope parameter
            }
            add("client_id", m_o.client_id);
            add("refresh_token", cred.secret);
            post.body = std::move(form);
            EDGESHIP_TRY_ASSIGN(auto resp, cl->send(post));
            if (resp.status != 404) {
                if (resp.status != 200) {
                    return unexpected(token_failure(post, resp));
                }
                return parse_token(post, resp);
            }
            m_o.http.logger.debug("registry " + m_o.registry_host + ": token server has no OAuth2 POST (404), using GET");
        }
        http::Request get;
        std::vector<std::pair<std::string, std::string>> query;
        if (!b.service.empty()) {
            query.emplace_back("service", b.service);
        }
        for (const auto& s : scopes) {
            query.emplace_back("scope", s); // §5.2: repeat scope
        }
        if (cred.kind == Credential::Kind::basic && !cred.username.empty()) {
            query.emplace_back("account", cred.username); // as skopeo/docker send it
        }
        std::string url = b.realm;
        char sep = url.find('?') == std::string::npos ? '?' : '&';
        for (const auto& [k, v] : query) {
            url += sep;
            url += k + "=" + http::percent_encode(v);
            sep = '&';
        }
        get.url = std::move(url);
        if (cred.kind != Credential::Kind::anonymous) {
            get.headers.emplace_back("Authorization", basic_header());
        }
        EDGESHIP_TRY_ASSIGN(auto resp, cl->send(get));
        if (resp.status != 200) {
            return unexpected(token_failure(get, resp));
        }
        return parse_token(get, resp);
    }

    AuthenticatorOptions m_o;
    std::mutex m_mutex;       // guards m_tokens, m_bearer, m_basic
    std::mutex m_fetch_mutex; // serializes token requests and guards m_client
    std::map<std::string, CachedToken> m_tokens;
    std::optional<BearerChallenge> m_bearer;
    bool m_basic = false;
    std::unique_ptr<http::Client> m_client;
};

} // namespace

Result<std::shared_ptr<Authenticator>> Authenticator::create(AuthenticatorOptions options) {
    auto& cred = options.credential;
    // The ACR all-zeros user holds a refresh token, whichever source built the credential (§5.6).
    if (cred.kind == Credential::Kind::basic && cred.username == k_acr_token_user) {
        cred.kind = Credential::Kind::identity_token;
    }
    if (cred.kind != Credential::Kind::anonymous && cred.secret.empty()) {
        return fail("registry " + options.registry_host + ": the credential from " + cred.source + " has an empty " +
                        (cred.kind == Credential::Kind::basic ? "password" : "token"),
                    ExitCode::auth);
    }
    if (options.client_id.empty()) {
        options.client_id = "edgeship";
    }
    return std::shared_ptr<Authenticator>(std::make_shared<AuthenticatorImpl>(std::move(options)));
}

} // namespace edgeship::registry
