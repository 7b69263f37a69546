#pragma once

#include "core/result.hpp"

#include <atomic>

namespace edgeship::core {

/// Process-wide cancellation flag set by the CLI's SIGINT handler (async-signal-safe: one atomic
/// store). Long loops poll it and return cancelled_error(), which the CLI maps to exit 130.
class CancelToken {
public:
    static CancelToken& global();
    void cancel() { m_flag.store(true, std::memory_order_relaxed); }
    void reset() { m_flag.store(false, std::memory_order_relaxed); }
    bool cancelled() const { return m_flag.load(std::memory_order_relaxed); }

private:
    std::atomic<bool> m_flag{false};
};

/// The error long operations return when cancelled: "interrupted", exit 130.
inline Error cancelled_error() { return Error("interrupted", ExitCode::interrupted); }

} // namespace edgeship::core
