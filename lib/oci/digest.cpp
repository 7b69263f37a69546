#include "oci/digest.hpp"

#include "core/sha256.hpp"

#include <cassert>

namespace edgeship::oci {

bool is_sha256_hex(std::string_view hex) {
    if (hex.size() != 64) {
        return false;
    }
    for (char c : hex) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

Result<Digest> Digest::parse(std::string_view text) {
    auto quoted = "invalid digest \"" + std::string(text) + "\": ";
    auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0) {
        return fail(quoted + "expected <algorithm>:<hex>, e.g. sha256:<64 hex characters>");
    }
    auto algorithm = text.substr(0, colon);
    auto hex = text.substr(colon + 1);
    if (algorithm != "sha256") {
        return fail(quoted + "unsupported algorithm \"" + std::string(algorithm) + "\" (only sha256 is supported)");
    }
    if (hex.size() != 64) {
        return fail(quoted + "sha256 needs 64 hex characters, got " + std::to_string(hex.size()));
    }
    if (!is_sha256_hex(hex)) {
        return fail(quoted + "only lower-case hex characters 0-9a-f are allowed");
    }
    return Digest(std::string(hex));
}

Digest Digest::from_sha256_hex(std::string hex) {
    assert(is_sha256_hex(hex));
    return Digest(std::move(hex));
}

Digest Digest::of(std::string_view bytes) { return Digest(core::sha256_hex(bytes)); }

Result<Digest> Digest::of_file(const std::filesystem::path& path) {
    EDGESHIP_TRY_ASSIGN(auto hex, core::sha256_file(path));
    return Digest(std::move(hex));
}

} // namespace edgeship::oci
