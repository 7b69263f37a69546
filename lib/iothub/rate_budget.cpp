#include "iothub/rate_budget.hpp"

#include <algorithm>

namespace edgeship::iothub {

RateBudget::RateBudget(std::string name, int limit, std::chrono::milliseconds window, Clock clock)
    : m_name(std::move(name)), m_limit(std::max(limit, 1)), m_window(window),
      m_clock(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

void RateBudget::expire(std::chrono::steady_clock::time_point now) {
    while (!m_sent.empty() && now - m_sent.front() >= m_window) {
        m_sent.pop_front();
    }
}

std::chrono::milliseconds RateBudget::wait_time() {
    auto now = m_clock();
    expire(now);
    if (static_cast<int>(m_sent.size()) < m_limit) {
        return std::chrono::milliseconds(0);
    }
    // The oldest request in a full window leaves it at front + window.
    auto free_at = m_sent[m_sent.size() - static_cast<std::size_t>(m_limit)] + m_window;
    return std::chrono::ceil<std::chrono::milliseconds>(free_at - now);
}

void RateBudget::record() {
    auto now = m_clock();
    expire(now);
    m_sent.push_back(now);
}

Budgets budgets_for(Tier tier, int units) {
    units = std::max(units, 1);
    switch (tier) {
    case Tier::f1: return {20, 100, 20, 100};
    case Tier::s1: return {20 * units, 100 * units, 20 * units, 100};
    case Tier::s2: return {20 * units, 100 * units, 20 * units, std::max(100, 10 * units)};
    case Tier::s3: return {20 * units, 5000 * units, 1000 * units, 500 * units};
    }
    return {20, 100, 20, 100};
}

} // namespace edgeship::iothub
