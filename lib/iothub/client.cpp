#include "iothub/client.hpp"

#include "http/error.hpp"
#include "http/redact.hpp"
#include "http/url.hpp"
#include "iothub/service_error.hpp"

#include <algorithm>
#include <thread>

namespace edgeship::iothub {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string seconds_text(std::chrono::milliseconds d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

} // namespace

Result<nlohmann::json> parse_json_body(const http::Request& request, const http::Response& response) {
    if (response.body.empty()) {
        return nlohmann::json();
    }
    auto j = nlohmann::json::parse(response.body, nullptr, false);
    if (j.is_discarded()) {
        return fail(request.method + " " + http::redact_text(http::strip_query(request.url)) + ": " +
                    std::to_string(response.status) + " response is not JSON");
    }
    return j;
}

HubClient::HubClient(HubOptions options, http::Client http, std::string endpoint)
    : m_options(std::move(options)), m_http(std::move(http)), m_endpoint(std::move(endpoint)),
      m_tokens(m_options.credentials, m_options.token_ttl, m_options.clock) {
    const auto& b = m_options.budgets;
    using namespace std::chrono_literals;
    m_budgets[Operation::configuration] = std::make_unique<RateBudget>("configuration", b.configuration_per_min, 60s);
    m_budgets[Operation::apply] = std::make_unique<RateBudget>("configuration", b.configuration_per_min, 60s);
    m_budgets[Operation::registry] = std::make_unique<RateBudget>("identity registry", b.registry_per_min, 60s);
    m_budgets[Operation::query] = std::make_unique<RateBudget>("query", b.query_per_min, 60s);
    m_budgets[Operation::twin_read] = std::make_unique<RateBudget>("twin read", b.twin_reads_per_sec, 1s);
}

Result<HubClient> HubClient::create(HubOptions options, http::ClientOptions http_options) {
    std::string endpoint = options.endpoint.empty() ? "https://" + lower(options.credentials.host_name)
                                                    : options.endpoint;
    while (endpoint.ends_with("/")) {
        endpoint.pop_back();
    }
    if (http::url_scheme(endpoint) != "https") {
        return unexpected(Error("hub endpoint '" + http::redact_text(endpoint) + "' is not an https:// URL",
                                ExitCode::usage)
                              .hint("IoT Hub is only reached over HTTPS; use --ca-file for a private CA"));
    }
    http_options.allow_http = http::AllowHttp::no;
    EDGESHIP_TRY_ASSIGN(auto http, http::Client::create(std::move(http_options)));
    return HubClient(std::move(options), std::move(http), std::move(endpoint));
}

http::Request HubClient::make_request(std::string method, const std::vector<std::string>& segments,
                                      const std::optional<nlohmann::json>& body,
                                      const http::Headers& extra_headers) const {
    http::Request r;
    r.method = std::move(method);
    r.url = http::build_url(m_endpoint, segments, {{"api-version", m_options.api_version}});
    r.headers.emplace_back("Content-Type", "application/json; charset=utf-8"); // docs/design/iothub.md §12.2
    r.headers.emplace_back("Accept", "application/json");
    for (const auto& h : extra_headers) {
        r.headers.push_back(h);
    }
    if (body) {
        r.body = body->dump(2);
    }
    return r;
}

std::string HubClient::authorization_placeholder() const {
    return "SharedAccessSignature sr=" + http::percent_encode(lower(m_options.credentials.host_name)) +
           "&sig=<redacted>&se=<expiry>&skn=" + http::percent_encode(m_options.credentials.key_name);
}

Result<void> HubClient::take_budget(Operation op) {
    auto& budget = *m_budgets.at(op);
    const auto* cancel = m_http.options().cancel;
    for (int guard = 0; guard < 100000; ++guard) {
        auto wait = budget.wait_time();
        if (wait.count() <= 0) {
            budget.record();
            return {};
        }
        logger().debug("waiting " + seconds_text(wait) + " for the hub's " + budget.name() + " budget (" +
                       std::to_string(budget.limit()) + " per " +
                       (budget.window() >= std::chrono::seconds(60) ? "minute" : "second") + ")");
        auto end = std::chrono::steady_clock::now() + wait;
        while (std::chrono::steady_clock::now() < end) {
            if (cancel != nullptr && cancel->cancelled()) {
                return unexpected(core::cancelled_error());
            }
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
                end - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
        }
    }
    return fail("rate budget wait did not converge");
}

Result<http::Response> HubClient::send(const http::Request& request, Operation op) {
    http::Request signed_request = request;
    http::SendOptions so;
    // The token is (re)signed before every attempt so retries after long waits never carry an expired one.
    so.before_attempt = [this, &signed_request, op](int) -> Result<void> {
        EDGESHIP_TRY(take_budget(op));
        EDGESHIP_TRY_ASSIGN(std::string token, m_tokens.token());
        auto& hs = signed_request.headers;
        hs.erase(std::remove_if(hs.begin(), hs.end(), [](const auto& h) { return lower(h.first) == "authorization"; }),
                 hs.end());
        hs.emplace_back("Authorization", std::move(token));
        return {};
    };
    // before_attempt mutates signed_request, which send() reads on every attempt.
    return m_http.send(signed_request, so);
}

Result<nlohmann::json> HubClient::call(const http::Request& request, Operation op, std::initializer_list<long> ok) {
    EDGESHIP_TRY_ASSIGN(auto response, send(request, op));
    if (std::find(ok.begin(), ok.end(), response.status) == ok.end()) {
        return unexpected(hub_error(request, response));
    }
    return parse_json_body(request, response);
}

Result<void> HubClient::apply_configuration_content(const std::string& device_id, const nlohmann::json& content) {
    auto req = make_request("POST", {"devices", device_id, "applyConfigurationContent"}, content);
    // docs/design/iothub.md §12.5: expect 204, accept 200
    EDGESHIP_TRY(call(req, Operation::apply, {204, 200}));
    return {};
}

Result<nlohmann::json> HubClient::get_device(const std::string& device_id) {
    return call(make_request("GET", {"devices", device_id}), Operation::registry, {200});
}

Result<nlohmann::json> HubClient::create_device(const std::string& device_id, bool edge) {
    nlohmann::json body = {
        {"deviceId", device_id},
        {"status", "enabled"},
        {"authentication",
         {{"type", "sas"}, {"symmetricKey", {{"primaryKey", nullptr}, {"secondaryKey", nullptr}}}}},
        {"capabilities", {{"iotEdge", edge}}}};
    return call(make_request("PUT", {"devices", device_id}, body), Operation::registry, {200});
}

Result<nlohmann::json> HubClient::get_module_twin(const std::string& device_id, const std::string& module_id) {
    return call(make_request("GET", {"twins", device_id, "modules", module_id}), Operation::twin_read, {200});
}

Result<nlohmann::json> HubClient::get_configuration(const std::string& id) {
    return call(make_request("GET", {"configurations", id}), Operation::configuration, {200});
}

Result<nlohmann::json> HubClient::list_configurations() {
    EDGESHIP_TRY_ASSIGN(auto j, call(make_request("GET", {"configurations"}), Operation::configuration, {200}));
    if (!j.is_array()) {
        return fail("GET /configurations: expected a JSON array");
    }
    return j;
}

Result<QueryPage> HubClient::query_page(const std::string& sql, int page_size, const std::string& continuation) {
    http::Headers extra = {{"x-ms-max-item-count", std::to_string(page_size)}};
    if (!continuation.empty()) {
        extra.emplace_back("x-ms-continuation", continuation);
    }
    auto req = make_request("POST", {"devices", "query"}, nlohmann::json{{"query", sql}}, extra);
    EDGESHIP_TRY_ASSIGN(auto response, send(req, Operation::query));
    if (response.status != 200) {
        return unexpected(hub_error(req, response));
    }
    EDGESHIP_TRY_ASSIGN(auto j, parse_json_body(req, response));
    if (!j.is_array()) {
        return fail("POST /devices/query: expected a JSON array");
    }
    QueryPage page;
    page.items.reserve(j.size());
    for (auto& item : j) {
        page.items.push_back(std::move(item));
    }
    if (const auto* c = response.header("x-ms-continuation")) {
        page.continuation = *c;
    }
    return page;
}

Result<std::size_t> HubClient::query(const std::string& sql, int page_size,
                                     const std::function<Result<void>(const nlohmann::json&)>& each,
                                     std::size_t max_pages) {
    std::string continuation;
    std::size_t count = 0;
    for (std::size_t page = 0; page < max_pages; ++page) {
        EDGESHIP_TRY_ASSIGN(auto p, query_page(sql, page_size, continuation));
        for (const auto& item : p.items) {
            EDGESHIP_TRY(each(item));
            ++count;
        }
        if (p.continuation.empty()) {
            return count;
        }
        if (p.continuation == continuation) {
            return fail("query: the hub returned the same continuation token twice");
        }
        continuation = std::move(p.continuation);
    }
    return fail("query: more than " + std::to_string(max_pages) + " pages");
}

} // namespace edgeship::iothub
