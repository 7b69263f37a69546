#include "core/status_line.hpp"

namespace edgeship::core {

namespace {

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

} // namespace

std::string elide_to_width(std::string_view text, std::size_t width) {
    // Walk the code points: remember where the width-th one starts (the ellipsis takes its column) and
    // stop at the first one past the width.
    std::size_t columns = 0;
    std::size_t cut = text.size(); // where column `width - 1` starts, if the text is too long
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (continuation(text[i])) {
            continue;
        }
        if (columns + 1 == width) {
            cut = i;
        }
        if (++columns > width) {
            if (width == 0) {
                return "";
            }
            return std::string(text.substr(0, cut)) + "…";
        }
    }
    return std::string(text);
}

void StatusLine::update(std::string_view text) {
    if (!m_smart) {
        *m_out << text << '\n' << std::flush;
        return;
    }
    *m_out << '\r' << elide_to_width(text, m_width - 1) << "\x1b[K" << std::flush;
    m_drawn = true;
}

void StatusLine::clear() {
    if (m_drawn) {
        *m_out << "\r\x1b[K" << std::flush;
        m_drawn = false;
    }
}

} // namespace edgeship::core
