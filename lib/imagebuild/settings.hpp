#pragma once

// The settings lib/imagebuild reads (issue 16: each module declares its own keys): the tools of the
// dependencies layer and the registry mirroring the runtimes' official base images (docs/build.md).

#include "core/settings.hpp"
#include "imagebuild/deps_layer.hpp"

#include <string>
#include <vector>

namespace edgeship::imagebuild {

/// npm, pip, base_registry.
std::vector<core::SettingDef> settings_keys();

struct ToolSettings {
    DepsTools tools;           ///< npm / pip (an empty value counts as unset: npm, pip3)
    std::string base_registry; ///< empty: Docker Hub
};

/// The tools and base registry `config` names (marking them used for `-v`).
ToolSettings tool_settings(const core::Config& config);

} // namespace edgeship::imagebuild
