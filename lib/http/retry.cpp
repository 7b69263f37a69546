#include "http/retry.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <string>

namespace edgeship::http {

bool RetryPolicy::retries_status(long status) const {
    return std::find(retry_statuses.begin(), retry_statuses.end(), status) != retry_statuses.end();
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry, double random01) {
    double base = static_cast<double>(policy.initial_delay.count()) *
                  std::pow(policy.multiplier, static_cast<double>(std::max(0, retry - 1)));
    base = std::min(base, static_cast<double>(policy.max_delay.count()));
    double factor = 1.0 + policy.jitter * (2.0 * std::clamp(random01, 0.0, 1.0) - 1.0);
    return std::chrono::milliseconds(static_cast<long long>(std::max(0.0, base * factor)));
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r')) {
        value.remove_suffix(1);
    }
    if (value.empty()) {
        return std::nullopt;
    }
    if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (value.size() > 9) {
            return std::nullopt;
        }
        return std::chrono::seconds(std::stoll(std::string(value)));
    }
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    std::tm tm{};
    std::string s(value);
    const char* end = ::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') {
        return std::nullopt;
    }
    auto when = std::chrono::system_clock::from_time_t(::timegm(&tm));
    if (when <= now) {
        return std::chrono::milliseconds(0);
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
}

} // namespace edgeship::http
