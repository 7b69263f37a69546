#pragma once

// One place that turns the run's configuration into a ready IoT Hub client (issue 16): credentials from
// the connection string, the endpoint override, the CA file, the api-version, the client-side budgets of
// the hub's tier and units, and the retry policy. Every hub command and `ship` call connect().

#include "core/log.hpp"
#include "core/result.hpp"
#include "core/settings.hpp"
#include "iothub/client.hpp"
#include "iothub/rate_budget.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::iothub {

/// The settings this module reads (docs/design/iothub.md §1.1, §6, §11): iothub_connection_string
/// (secret), iothub_connection_string_file, iothub_endpoint, iothub_ca_file, iothub_api_version,
/// iothub_tier, iothub_units, iothub_retry_delay.
std::vector<core::SettingDef> settings_keys();

struct ConnectOptions {
    std::string user_agent; ///< http::default_user_agent(version)
    core::Logger logger;    ///< -v retries, -vv traces (secrets redacted)
};

/// A client for the hub `config` names. The connection string comes from the file in
/// iothub_connection_string_file when set, else iothub_connection_string (blank counts as unset,
/// §1.1). Errors (one line each): no connection string or an unreadable file (exit 4, with a hint),
/// a malformed one (exit 4, prefixed with where it came from; never the key), an unknown tier, a bad
/// unit count or retry delay (exit 2, naming the environment variable).
/// Reads `config` (marking the values used for `-v`); holds nothing of it afterwards.
Result<HubClient> connect(const core::Config& config, ConnectOptions options);

/// "F1"/"free", "S1" (or empty), "S2", "S3", any case. Errors name EDGESHIP_IOTHUB_TIER (exit 2).
Result<Tier> parse_tier(const std::string& text);

/// "30s", "5m", "1h", "250ms", "1m30s" or plain seconds ("90"). Errors are usage errors naming `what`.
Result<std::chrono::milliseconds> parse_duration(std::string_view text, std::string_view what);

} // namespace edgeship::iothub
