#pragma once

// One status line redrawn in place, in the spirit of ninja's LinePrinter (src/line_printer.cc): the
// progress of a wait or a transfer on a terminal, written to the stream the caller hands in (the
// library never picks stderr itself).

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

namespace edgeship::core {

/// Columns assumed when the terminal does not say (a pipe, a test's stream).
inline constexpr std::size_t k_default_status_width = 120;

/// `text` in at most `width` columns: cut with "…" as its last column when longer. Columns are UTF-8
/// code points (the lines hold "…" and file names, no wide characters); a code point is never split.
std::string elide_to_width(std::string_view text, std::size_t width);

/// On a smart terminal (a TTY whose TERM is not dumb: the caller decides) every update returns to the
/// start of the line, writes the text elided to the width and erases what is left of the previous one
/// ("\r" text "\x1b[K"). The width matters because a line that wraps cannot be returned to with "\r";
/// the last column stays free because a line that fills it leaves the cursor waiting to wrap, and the
/// erase would then take the last character.
/// Anywhere else every update is a line of its own. Not thread-safe: callers that update from several
/// threads hold their own lock.
class StatusLine {
public:
    /// `width`: the terminal's columns; 0 (unknown) means k_default_status_width.
    StatusLine(std::ostream& out, bool smart_terminal, std::size_t width = k_default_status_width)
        : m_out(&out), m_smart(smart_terminal), m_width(width == 0 ? k_default_status_width : width) {}

    void update(std::string_view text);
    /// Erases a drawn line, so a full line (a log line, the result, an error) starts in column one.
    /// Does nothing when nothing is drawn, or off a smart terminal.
    void clear();
    /// A status line is on the screen (smart terminal only).
    bool drawn() const { return m_drawn; }

private:
    std::ostream* m_out;
    bool m_smart;
    std::size_t m_width;
    bool m_drawn = false;
};

} // namespace edgeship::core
