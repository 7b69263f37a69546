#include "cli/io.hpp"

#include <iostream>
#include <sys/ioctl.h>
#include <unistd.h>

namespace edgeship::cli {

Io real_io() {
    Io io{std::cout, std::cerr, std::cin};
    io.stdin_tty = ::isatty(STDIN_FILENO) == 1;
    io.stdout_tty = ::isatty(STDOUT_FILENO) == 1;
    io.stderr_tty = ::isatty(STDERR_FILENO) == 1;
    if (struct winsize ws {}; io.stderr_tty && ::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0) {
        io.stderr_columns = ws.ws_col;
    }
    return io;
}

bool colour_enabled(const core::Environment& env, bool stderr_tty, std::string_view setting) {
    if (setting == "never") {
        return false;
    }
    if (core::find_env(env, "NO_COLOR") != nullptr) {
        return false;
    }
    if (setting == "always") {
        return true;
    }
    if (const auto* force = core::find_env(env, "CLICOLOR_FORCE"); force != nullptr && *force != "0") {
        return true;
    }
    const auto* term = core::find_env(env, "TERM");
    return stderr_tty && !(term != nullptr && *term == "dumb");
}

bool progress_enabled(const core::Environment& env, bool stderr_tty, Verbosity v, bool json) {
    const auto* term = core::find_env(env, "TERM");
    return stderr_tty && !(term != nullptr && *term == "dumb") && v != Verbosity::quiet && !json;
}

std::string Console::paint(std::string_view text, const char* code) const {
    if (!m_colour) {
        return std::string(text);
    }
    return std::string("\x1b[") + code + "m" + std::string(text) + "\x1b[0m";
}

void Console::error(const Error& e) const {
    m_io->err << paint("edgeship: error:", "1;31") << ' ' << e.what() << '\n';
    if (!e.hint_text().empty()) {
        m_io->err << paint("hint:", "1;36") << ' ' << e.hint_text() << '\n';
    }
    m_io->err.flush();
}

void Console::warning(std::string_view msg) const {
    m_io->err << paint("edgeship: warning:", "1;33") << ' ' << msg << '\n';
}

void Console::info(std::string_view msg) const {
    if (m_verbosity >= Verbosity::normal) {
        m_io->err << msg << '\n';
    }
}

void Console::debug(std::string_view msg) const {
    if (m_verbosity >= Verbosity::debug) {
        m_io->err << paint("debug:", "2") << ' ' << msg << '\n';
    }
}

void Console::trace(std::string_view msg) const {
    if (m_verbosity >= Verbosity::trace) {
        m_io->err << paint("trace:", "2") << ' ' << msg << '\n';
    }
}

core::Logger Console::logger() const {
    Console copy = *this;
    return core::Logger([copy](core::LogLevel level, std::string_view msg) {
        switch (level) {
        case core::LogLevel::trace: copy.trace(msg); break;
        case core::LogLevel::debug: copy.debug(msg); break;
        case core::LogLevel::info: copy.info(msg); break;
        case core::LogLevel::warning: copy.warning(msg); break;
        }
    });
}

} // namespace edgeship::cli
