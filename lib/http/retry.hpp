#pragma once

// Retry policy: which failures are worth another attempt and how long to wait before it.

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

namespace edgeship::http {

/// Exponential backoff with jitter. Network errors and `retry_statuses` are retried; everything else
/// is final. A wait is skipped (and the last answer returned) when it would push the total time past
/// `max_total`, so a caller's per-minute budget bounds the retries.
struct RetryPolicy {
    int max_attempts = 4; ///< first try included; 1 disables retries
    std::chrono::milliseconds initial_delay{1000};
    double multiplier = 2.0;
    std::chrono::milliseconds max_delay{30000};
    double jitter = 0.2; ///< each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
    std::chrono::milliseconds max_total{120000};
    std::vector<long> retry_statuses{429, 503};

    bool retries_status(long status) const;
};

/// The wait before retry number `retry` (1 = the first retry): initial_delay * multiplier^(retry-1),
/// capped at max_delay, then scaled by the jitter factor derived from `random01` in [0, 1).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, double random01);

/// Parses a Retry-After value: delta-seconds ("120") or an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT")
/// relative to `now`. nullopt when absent or unparseable; a date in the past gives 0.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

} // namespace edgeship::http
