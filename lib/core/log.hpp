#pragma once

#include <functional>
#include <string_view>

namespace edgeship::core {

enum class LogLevel { trace, debug, info, warning };

/// The library's only way to say something: the CLI installs a sink that writes to stderr (honouring
/// -q/-v/-vv and colour), tests install one that records. Nothing in lib/ prints to the terminal.
/// Copyable; the sink must be safe to call from the threads the caller uses it on.
class Logger {
public:
    using Sink = std::function<void(LogLevel, std::string_view)>;
    Logger() = default;
    explicit Logger(Sink sink) : m_sink(std::move(sink)) {}

    void log(LogLevel level, std::string_view msg) const {
        if (m_sink) {
            m_sink(level, msg);
        }
    }
    void trace(std::string_view msg) const { log(LogLevel::trace, msg); }
    void debug(std::string_view msg) const { log(LogLevel::debug, msg); }
    void info(std::string_view msg) const { log(LogLevel::info, msg); }
    void warning(std::string_view msg) const { log(LogLevel::warning, msg); }

private:
    Sink m_sink;
};

} // namespace edgeship::core
