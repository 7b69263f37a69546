#include "iothub/ids.hpp"

#include <cctype>
#include <cstdio>

namespace edgeship::iothub {

namespace {
std::string show_char(char c) {
    if (c == ' ') {
        return "' ' (space)";
    }
    if (std::isprint(static_cast<unsigned char>(c)) == 0) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned char>(c));
        return buf;
    }
    return std::string("'") + c + "'";
}
} // namespace

Result<std::string> check_device_id(std::string_view id, std::string_view what) {
    if (id.empty()) {
        return fail(std::string(what) + " is empty", ExitCode::usage);
    }
    if (id.size() > 128) {
        return fail(std::string(what) + " '" + std::string(id.substr(0, 20)) + "…' is longer than 128 characters",
                    ExitCode::usage);
    }
    static const std::string_view allowed = "-:.+%_#*?!(),=@;$'";
    for (char c : id) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && allowed.find(c) == std::string_view::npos) {
            return unexpected(Error(std::string(what) + " '" + std::string(id) + "': character " + show_char(c) +
                                        " is not allowed",
                                    ExitCode::usage)
                                  .hint("ids use letters, digits and - : . + % _ # * ? ! ( ) , = @ ; $ '"));
        }
    }
    return std::string(id);
}

Result<std::string> check_deployment_id(std::string_view id) {
    if (id.empty()) {
        return fail("deployment id is empty", ExitCode::usage);
    }
    if (id.size() > 128) {
        return fail("deployment id '" + std::string(id.substr(0, 20)) + "…' is longer than 128 characters",
                    ExitCode::usage);
    }
    std::string out;
    static const std::string_view allowed = "-+%_*!'";
    for (char c : id) {
        auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 && u < 128) {
            out.push_back(static_cast<char>(std::tolower(u)));
        } else if (allowed.find(c) != std::string_view::npos) {
            out.push_back(c);
        } else {
            return unexpected(Error("deployment id '" + std::string(id) + "': character " + show_char(c) +
                                        " is not allowed",
                                    ExitCode::usage)
                                  .hint("deployment ids use lower-case letters, digits and - + % _ * ! '"));
        }
    }
    return out;
}

} // namespace edgeship::iothub
