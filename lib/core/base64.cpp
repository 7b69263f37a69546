#include "core/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace edgeship::core {

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(std::max(n, 0)));
    return out;
}

Result<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return fail("not base64 (length is not a multiple of 4)");
    }
    for (char c : text) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '/' && c != '=') {
            return fail("not base64");
        }
    }
    auto first_pad = text.find('=');
    if (first_pad != std::string_view::npos &&
        (text.size() - first_pad > 2 || text.find_first_not_of('=', first_pad) != std::string_view::npos)) {
        return fail("not base64 (misplaced padding)");
    }
    std::string out(text.size() / 4 * 3 + 1, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (n < 0) {
        return fail("not base64");
    }
    // EVP_DecodeBlock counts padding as zero bytes: drop one output byte per '='.
    const std::size_t pad = text.size() - (first_pad == std::string_view::npos ? text.size() : first_pad);
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

} // namespace edgeship::core
