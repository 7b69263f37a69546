#pragma once

#include "core/settings.hpp"

#include <vector>

namespace edgeship::cli {

/// Every setting edgeship knows, with its flag, environment names and default. Commands add theirs
/// here so `-v` can list where each value came from.
const std::vector<core::SettingDef>& settings_catalog();

} // namespace edgeship::cli
