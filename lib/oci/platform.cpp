#include "oci/platform.hpp"

#include <cctype>

namespace edgeship::oci {
namespace {

bool is_word(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
              c == '_' || c == '-' || c == '.')) {
            return false;
        }
    }
    return true;
}

} // namespace

Result<Platform> Platform::parse(std::string_view text) {
    auto bad = [&](const std::string& why) {
        return fail("invalid platform \"" + std::string(text) + "\": " + why +
                    " (use os/arch[/variant] such as linux/amd64, linux/arm64, linux/arm/v7, or amd64, "
                    "arm32v7, arm64v8)");
    };
    // IoT Edge's platform names (the Dockerfile.<platform> suffixes).
    if (text == "amd64") {
        return Platform{"linux", "amd64", "", "", {}};
    }
    if (text == "arm32v7") {
        return Platform{"linux", "arm", "v7", "", {}};
    }
    if (text == "arm64v8" || text == "arm64") {
        return Platform{"linux", "arm64", "v8", "", {}};
    }
    std::vector<std::string_view> parts;
    std::size_t start = 0;
    for (;;) {
        auto pos = text.find('/', start);
        parts.push_back(text.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (pos == std::string_view::npos) {
            break;
        }
        start = pos + 1;
    }
    if (parts.size() < 2 || parts.size() > 3) {
        return bad("expected 2 or 3 parts");
    }
    for (auto p : parts) {
        if (!is_word(p)) {
            return bad("empty or invalid part \"" + std::string(p) + "\"");
        }
    }
    Platform p;
    p.os = std::string(parts[0]);
    p.architecture = std::string(parts[1]);
    if (parts.size() == 3) {
        p.variant = std::string(parts[2]);
    }
    return p;
}

std::string Platform::str() const {
    std::string out = os + "/" + architecture;
    if (!variant.empty()) {
        out += "/" + variant;
    }
    return out;
}

std::string Platform::iotedge_name() const {
    if (architecture == "amd64") {
        return "amd64";
    }
    if (architecture == "arm" && (variant == "v7" || variant.empty())) {
        return "arm32v7";
    }
    if (architecture == "arm64") {
        return "arm64v8";
    }
    return variant.empty() ? architecture : architecture + "-" + variant;
}

} // namespace edgeship::oci
