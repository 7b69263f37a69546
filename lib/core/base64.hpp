#pragma once

// Standard base64 with padding, over OpenSSL (EVP_EncodeBlock / EVP_DecodeBlock): docker config.json
// `auth` values and Basic credentials (docs/design/registry.md §6), IoT Hub SharedAccessKeys and SAS
// signatures (docs/design/iothub.md §6.2).

#include "core/result.hpp"

#include <string>
#include <string_view>

namespace edgeship::core {

std::string base64_encode(std::string_view bytes);

/// Strict decoding: length a multiple of 4, only the standard alphabet, padding only at the end (at most
/// two '='), no whitespace. "" decodes to "". Errors never quote the input (it may be a secret).
Result<std::string> base64_decode(std::string_view text);

} // namespace edgeship::core
