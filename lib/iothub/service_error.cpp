#include "iothub/service_error.hpp"

#include "http/error.hpp"
#include "http/retry.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <ctime>

namespace edgeship::iothub {

namespace {

std::string first_line(std::string_view text, std::size_t limit = 200) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\r')) {
        text.remove_prefix(1);
    }
    auto nl = text.find_first_of("\r\n");
    std::string s(text.substr(0, nl));
    if (s.size() > limit) {
        s = s.substr(0, limit) + "…";
    }
    return s;
}

// The text of a message value: a string as it is, an object's own message (recursively), or the JSON text.
std::string message_text(const nlohmann::json& v, int depth = 0);

void parse_json_message(const nlohmann::json& j, ServiceError& e, int depth = 0) {
    if (j.contains("errorCode")) {
        const auto& c = j["errorCode"];
        e.number = c.is_number() ? std::to_string(c.get<long long>()) : (c.is_string() ? c.get<std::string>() : "");
    }
    for (const char* key : {"message", "Message"}) {
        if (j.contains(key) && !j[key].is_null()) {
            e.message = message_text(j[key], depth + 1);
            break;
        }
    }
    if (e.message.empty() && !j.contains("errorCode")) {
        e.message = j.dump(); // an object we do not know: keep its text rather than lose it
    }
    for (const char* key : {"trackingId", "TrackingId"}) {
        if (j.contains(key) && j[key].is_string()) {
            e.tracking_id = j[key].get<std::string>();
        }
    }
}

std::string message_text(const nlohmann::json& v, int depth) {
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        if (depth < 4 && !s.empty() && s.front() == '{') {
            auto inner = nlohmann::json::parse(s, nullptr, false);
            if (inner.is_object()) {
                ServiceError nested;
                parse_json_message(inner, nested, depth);
                return nested.message.empty() ? s : nested.message;
            }
        }
        return s;
    }
    if (v.is_object() && depth < 4) {
        ServiceError nested;
        parse_json_message(v, nested, depth);
        return nested.message;
    }
    return v.dump();
}

} // namespace

std::string error_name_for_code(std::string_view number) {
    static const std::pair<std::string_view, std::string_view> table[] = {
        {"400004", "ArgumentInvalid"},     {"400005", "ArgumentNull"},
        {"400006", "IotHubFormatError"},   {"401002", "IotHubUnauthorizedAccess"},
        {"403002", "IotHubQuotaExceeded"}, {"404001", "DeviceNotFound"},
        {"404010", "ModuleNotFound"},      {"409001", "DeviceAlreadyExists"},
        {"409301", "ModuleAlreadyExistsOnDevice"}, {"412001", "PreconditionFailed"},
        {"413003", "TooManyModulesOnDevice"},      {"429001", "ThrottlingException"},
        {"429002", "ThrottleBacklogLimitExceeded"}, {"500001", "ServerError"},
        {"503001", "ServiceUnavailable"},           {"404301", "ConfigurationNotFound"},
        {"404103", "DeviceNotOnline"},              {"408000", "RequestTimeout"},
        {"429003", "ThrottlingBacklogTimeout"},     {"429000", "GenericTooManyRequests"},
        {"403004", "DeviceMaximumQueueDepthExceeded"}, {"504101", "GatewayTimeout"},
    };
    for (const auto& [code, name] : table) {
        if (code == number) {
            return std::string(name);
        }
    }
    return "";
}

ServiceError parse_service_error(const http::Response& response) {
    ServiceError e;
    auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_object()) {
        std::string message;
        const nlohmann::json* message_object = nullptr;
        for (const char* key : {"Message", "message"}) {
            if (body.contains(key) && body[key].is_string()) {
                message = body[key].get<std::string>();
                break;
            }
            if (body.contains(key) && body[key].is_object()) {
                message_object = &body[key]; // {"Message": {"errorCode": …, "message": …}}: keep its text
                break;
            }
        }
        if (body.contains("errorCode")) {
            parse_json_message(body, e); // top-level JSON form
        }
        if (message_object != nullptr) {
            parse_json_message(*message_object, e);
        } else if (message.starts_with("ErrorCode:")) {
            auto semi = message.find(';');
            e.name = message.substr(10, semi == std::string::npos ? std::string::npos : semi - 10);
            e.message = semi == std::string::npos ? "" : message.substr(semi + 1);
        } else if (!message.empty() && message.front() == '{') {
            auto inner = nlohmann::json::parse(message, nullptr, false);
            if (inner.is_object()) {
                parse_json_message(inner, e); // its own message may again be JSON text: message_text unwraps it
            } else {
                e.message = message;
            }
        } else if (!message.empty()) {
            e.message = message;
        }
        if (e.tracking_id.empty() && body.contains("ExceptionMessage") && body["ExceptionMessage"].is_string()) {
            std::string em = body["ExceptionMessage"].get<std::string>();
            if (em.starts_with("Tracking ID:")) {
                e.tracking_id = em.substr(12, em.find("-G:") == std::string::npos ? std::string::npos : em.find("-G:") - 12);
            }
        }
    } else if (!response.body.empty()) {
        e.message = first_line(response.body);
    }
    if (const auto* h = response.header("iothub-errorcode"); h != nullptr && !h->empty()) {
        e.name = *h; // the header is authoritative (docs/design/iothub.md §7.1)
    }
    if (e.name.empty() && !e.number.empty()) {
        e.name = error_name_for_code(e.number);
    }
    e.message = first_line(e.message, 300);
    return e;
}

Error hub_error(const http::Request& request, const http::Response& response,
                std::chrono::system_clock::time_point local_now) {
    ServiceError se = parse_service_error(response);
    std::string code = se.name;
    if (!se.number.empty() && se.name != se.number) {
        code += code.empty() ? se.number : " (" + se.number + ")";
    }
    auto failure = http::make_failure(request, response, code, se.message);
    bool auth = response.status == 401 || (response.status == 403 && se.name == "IotHubUnauthorizedAccess");
    Error e = http::to_error(failure, auth ? ExitCode::auth : ExitCode::failure);
    if (auth) {
        std::string hint = "check the connection string's SharedAccessKey and SharedAccessKeyName (policy)";
        if (const auto* date = response.header("Date")) {
            std::tm tm{};
            const char* end = ::strptime(date->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
            if (end != nullptr) {
                auto hub_now = std::chrono::system_clock::from_time_t(::timegm(&tm));
                auto skew = std::chrono::duration_cast<std::chrono::seconds>(hub_now - local_now).count();
                if (std::llabs(skew) > 300) {
                    hint = "the hub's clock is " + std::to_string(std::llabs(skew)) + " s " +
                           (skew > 0 ? "ahead of" : "behind") +
                           " this machine's, so SAS tokens look expired or not yet valid: fix the clock (NTP)";
                }
            }
        }
        e.hint(hint);
    } else if (response.status == 429) {
        e.hint("the hub is throttling requests (reference quotas: 20 configuration writes and 20 queries per "
               "minute per S1 unit); wait a minute or add units");
    }
    return e;
}

} // namespace edgeship::iothub
