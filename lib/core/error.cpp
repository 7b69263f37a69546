#include "core/error.hpp"

namespace edgeship {

std::string Error::what() const {
    std::string out;
    for (const auto& step : m_context) {
        out += step;
        out += ": ";
    }
    out += m_message;
    // One line on the terminal, whatever a library or server put in the message.
    for (auto& c : out) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
    }
    return out;
}

} // namespace edgeship
