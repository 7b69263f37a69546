#include "iothub/connect.hpp"

#include "core/exit_code.hpp"
#include "core/fs.hpp"
#include "iothub/connection_string.hpp"

#include <algorithm>
#include <cctype>

namespace edgeship::iothub {

namespace {

// A value from the configuration, with empty counting as unset (iotedgedev's .env rule,
// docs/design/iothub.md §1.1).
std::string setting(const core::Config& config, const char* key) {
    auto v = config.get(key);
    if (!v) {
        return "";
    }
    std::string s = *v;
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.pop_back();
    }
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) != 0) {
        ++i;
    }
    return s.substr(i);
}

Result<ConnectionString> credentials(const core::Config& config) {
    std::string text;
    std::string source;
    if (std::string file = setting(config, "iothub_connection_string_file"); !file.empty()) {
        auto content = core::read_file(file);
        if (!content) {
            return unexpected(Error(content.error().what(), ExitCode::auth).context("--connection-string-file"));
        }
        text = *content;
        source = file;
    } else {
        text = setting(config, "iothub_connection_string");
        if (const auto* v = config.find("iothub_connection_string")) {
            source = v->source;
        }
    }
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
        return unexpected(
            Error("no IoT Hub connection string", ExitCode::auth)
                .hint("set IOTHUB_CONNECTION_STRING in the environment or the solution's .env, or pass "
                      "--connection-string-file FILE (Azure portal: IoT Hub > Shared access policies)"));
    }
    auto cs = parse_connection_string(text);
    if (!cs) {
        return unexpected(std::move(cs).error().context(source));
    }
    return cs;
}

} // namespace

std::vector<core::SettingDef> settings_keys() {
    return {
        // The connection string is a secret: never a flag value, redacted by -v.
        {"iothub_connection_string", "", {"EDGESHIP_IOTHUB_CONNECTION_STRING", "IOTHUB_CONNECTION_STRING"},
         std::nullopt, "IoT Hub service connection string (HostName=…;SharedAccessKeyName=…;SharedAccessKey=…)", true},
        {"iothub_connection_string_file", "--connection-string-file", {}, std::nullopt,
         "file holding the IoT Hub service connection string (read instead of iothub_connection_string)", false},
        {"iothub_endpoint", "--hub-url", {"EDGESHIP_IOTHUB_ENDPOINT"}, std::nullopt,
         "https:// URL of the hub instead of https://<HostName> (private endpoints, tests)", false},
        {"iothub_ca_file", "--ca-file", {"EDGESHIP_IOTHUB_CA_FILE"}, std::nullopt, "PEM CA bundle trusted for the hub", false},
        {"iothub_api_version", "--api-version", {"EDGESHIP_IOTHUB_API_VERSION"}, std::nullopt, "IoT Hub REST api-version", false},
        {"iothub_tier", "", {"EDGESHIP_IOTHUB_TIER"}, "S1", "hub tier for client-side request budgets: F1, S1, S2, S3", false},
        {"iothub_units", "", {"EDGESHIP_IOTHUB_UNITS"}, "1", "hub units for client-side request budgets", false},
        {"iothub_retry_delay", "", {"EDGESHIP_IOTHUB_RETRY_DELAY"}, "10s",
         "first retry delay after 408/429/500/503 and network errors", false},
    };
}

Result<Tier> parse_tier(const std::string& text) {
    std::string t = text;
    std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
    if (t == "f1" || t == "free") {
        return Tier::f1;
    }
    if (t == "s1" || t.empty()) {
        return Tier::s1;
    }
    if (t == "s2") {
        return Tier::s2;
    }
    if (t == "s3") {
        return Tier::s3;
    }
    return unexpected(Error("EDGESHIP_IOTHUB_TIER: unknown tier '" + text + "'", ExitCode::usage).hint("use F1, S1, S2 or S3"));
}

Result<std::chrono::milliseconds> parse_duration(std::string_view text, std::string_view what) {
    auto bad = [&] {
        return unexpected(Error(std::string(what) + " '" + std::string(text) + "': expected a duration like 30s, 5m or 1h",
                                ExitCode::usage));
    };
    if (text.empty()) {
        return bad();
    }
    long long total = 0;
    std::size_t i = 0;
    bool any = false;
    while (i < text.size()) {
        std::size_t start = i;
        while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
            ++i;
        }
        if (i == start || i - start > 9) {
            return bad();
        }
        long long n = std::stoll(std::string(text.substr(start, i - start)));
        std::size_t ustart = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])) != 0) {
            ++i;
        }
        std::string_view unit = text.substr(ustart, i - ustart);
        if (unit.empty() && !any && i == text.size()) {
            unit = "s"; // plain seconds
        }
        if (unit == "ms") {
            total += n;
        } else if (unit == "s") {
            total += n * 1000;
        } else if (unit == "m") {
            total += n * 60000;
        } else if (unit == "h") {
            total += n * 3600000;
        } else {
            return bad();
        }
        any = true;
    }
    return std::chrono::milliseconds(total);
}

Result<HubClient> connect(const core::Config& config, ConnectOptions options) {
    EDGESHIP_TRY_ASSIGN(auto creds, credentials(config));
    HubOptions ho;
    ho.credentials = std::move(creds);
    ho.endpoint = setting(config, "iothub_endpoint");
    ho.api_version = setting(config, "iothub_api_version");
    if (ho.api_version.empty()) {
        ho.api_version = k_default_api_version;
    }
    EDGESHIP_TRY_ASSIGN(auto tier, parse_tier(setting(config, "iothub_tier")));
    int units = 1;
    if (auto u = setting(config, "iothub_units"); !u.empty()) {
        if (u.find_first_not_of("0123456789") != std::string::npos || u.size() > 4 || std::stoi(u) < 1) {
            return fail("EDGESHIP_IOTHUB_UNITS: '" + u + "' is not a positive unit count", ExitCode::usage);
        }
        units = std::stoi(u);
    }
    ho.budgets = budgets_for(tier, units);

    http::ClientOptions co;
    co.tls.ca_file = setting(config, "iothub_ca_file");
    co.user_agent = std::move(options.user_agent);
    co.logger = std::move(options.logger);
    // docs/design/iothub.md §11.1: retry network errors and the transient statuses (408, 429, 500, 503: the
    // C# SDK's rule, k_transient_statuses) with backoff from ~10 s; Retry-After is honoured when the hub
    // sends one.
    std::string delay = setting(config, "iothub_retry_delay");
    EDGESHIP_TRY_ASSIGN(co.retry.initial_delay, parse_duration(delay.empty() ? "10s" : delay, "EDGESHIP_IOTHUB_RETRY_DELAY"));
    co.retry.max_attempts = 4;
    co.retry.multiplier = 2.0;
    co.retry.max_delay = std::chrono::seconds(60);
    co.retry.max_total = std::chrono::seconds(150);
    co.retry.retry_statuses = k_transient_statuses;
    return HubClient::create(std::move(ho), std::move(co));
}

} // namespace edgeship::iothub
