#pragma once

#include "core/env.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

#include <cstddef>
#include <iosfwd>
#include <sstream>
#include <string>
#include <string_view>

namespace edgeship::cli {

/// The process's streams and what they are connected to. Commands write results to `out` and
/// everything else (logs, progress, warnings, errors) to `err`.
struct Io {
    std::ostream& out;
    std::ostream& err;
    std::istream& in;
    bool stdin_tty = false;
    bool stdout_tty = false;
    bool stderr_tty = false;
    /// Columns of the terminal on stderr (status lines are elided to it); 0 when unknown.
    std::size_t stderr_columns = 0;
};

/// Io over std::cout/cerr/cin with isatty() answers.
Io real_io();

/// In-memory Io for in-process tests; TTY flags are set by the test.
struct FakeIo {
    std::ostringstream out;
    std::ostringstream err;
    std::istringstream in;
    Io io{out, err, in};
    explicit FakeIo(bool tty = false, std::string input = "") : in(std::move(input)) {
        io.stdin_tty = io.stdout_tty = io.stderr_tty = tty;
    }
};

enum class Verbosity { quiet = -1, normal = 0, debug = 1, trace = 2 };

/// Colour on stderr: NO_COLOR disables it; CLICOLOR_FORCE enables it unless NO_COLOR is set;
/// otherwise only on a TTY whose TERM is not "dumb" (ninja's line_printer.cc). `setting` is the
/// resolved `color` setting: auto, always or never.
bool colour_enabled(const core::Environment& env, bool stderr_tty, std::string_view setting);

/// Progress bars only on a TTY that is not dumb, and never with -q or --json (STYLE.md §7).
bool progress_enabled(const core::Environment& env, bool stderr_tty, Verbosity v, bool json);

/// Writes diagnostics to stderr in the edgeship format. Results never go through here.
class Console {
public:
    Console(Io& io, Verbosity verbosity, bool colour) : m_io(&io), m_verbosity(verbosity), m_colour(colour) {}

    /// "edgeship: error: …" and, when the error has one, "hint: …".
    void error(const Error& e) const;
    void warning(std::string_view msg) const;
    void info(std::string_view msg) const;
    void debug(std::string_view msg) const;
    void trace(std::string_view msg) const;

    Verbosity verbosity() const { return m_verbosity; }
    bool colour() const { return m_colour; }
    /// A Logger for the library that writes through this console.
    core::Logger logger() const;

private:
    std::string paint(std::string_view text, const char* code) const;
    Io* m_io;
    Verbosity m_verbosity;
    bool m_colour;
};

} // namespace edgeship::cli
