#pragma once

#include "core/settings.hpp"

#include <vector>

namespace edgeship::cli {

/// Every setting edgeship knows, with its flag, environment names and default: the keys each library
/// module declares (iothub::settings_keys(), imagebuild::settings_keys()) and the CLI's own (color).
const std::vector<core::SettingDef>& settings_catalog();

} // namespace edgeship::cli
