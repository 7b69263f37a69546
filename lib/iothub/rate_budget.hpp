#pragma once

// Client-side request budgets matching IoT Hub's per-minute throttles (docs/design/iothub.md §11.1),
// so retries and polling stay inside the quota instead of provoking 429s.

#include <chrono>
#include <deque>
#include <functional>
#include <string>

namespace edgeship::iothub {

/// A sliding-window limit: at most `limit` requests in any `window`.
class RateBudget {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    RateBudget(std::string name, int limit, std::chrono::milliseconds window, Clock clock = {});

    /// How long to wait before the next request fits; 0 when it fits now.
    std::chrono::milliseconds wait_time();
    /// Records a request sent now.
    void record();
    const std::string& name() const { return m_name; }
    int limit() const { return m_limit; }
    std::chrono::milliseconds window() const { return m_window; }

private:
    void expire(std::chrono::steady_clock::time_point now);
    std::string m_name;
    int m_limit;
    std::chrono::milliseconds m_window;
    Clock m_clock;
    std::deque<std::chrono::steady_clock::time_point> m_sent;
};

enum class Tier { f1, s1, s2, s3 };

/// Per-minute (or per-second) budgets for a hub tier and unit count (docs/design/iothub.md §11.1).
struct Budgets {
    int configuration_per_min; ///< configurations and edge deployments: 20/min/unit on every tier
    int registry_per_min;      ///< identity registry: 100/min/unit (S3: 5,000)
    int query_per_min;         ///< queries: 20/min/unit (S3: 1,000)
    int twin_reads_per_sec;    ///< device + module twin reads
};

Budgets budgets_for(Tier tier, int units);

} // namespace edgeship::iothub
