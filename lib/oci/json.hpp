#pragma once

#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace edgeship::oci {

/// Canonical JSON: keys sorted (nlohmann::json's std::map), no white space, integers as integers,
/// UTF-8 kept as is. Identical values always give identical bytes, hence identical digests.
/// Errors (invalid UTF-8 in a string) name `what`.
Result<std::string> canonical_json(const nlohmann::json& value, std::string_view what);

/// Parses JSON text; errors are one line naming `what` ("manifest sha256:…: not JSON: …").
Result<nlohmann::json> parse_json(std::string_view text, std::string_view what);

} // namespace edgeship::oci
