#pragma once

// Identifier rules checked before any request (docs/design/iothub.md §7.1, §8).

#include "core/result.hpp"

#include <string>
#include <string_view>

namespace edgeship::iothub {

/// Device and module ids: `^[A-Za-z0-9\-:.+%_#*?!(),=@;$']{1,128}$` (C# DeviceIdRegex). The error
/// (exit 2) names the first forbidden character.
Result<std::string> check_device_id(std::string_view id, std::string_view what = "device id");

/// Deployment (configuration) ids: ≤ 128 characters of lower-case letters, digits and -+%_*!'
/// (docs/design/iothub.md §8). Upper case is folded to lower case as `az` does; anything else is an error
/// (exit 2).
Result<std::string> check_deployment_id(std::string_view id);

} // namespace edgeship::iothub
