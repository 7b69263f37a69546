#include "cli/settings_catalog.hpp"

namespace edgeship::cli {

const std::vector<core::SettingDef>& settings_catalog() {
    static const std::vector<core::SettingDef> defs = {
        {"color", "--color", {"EDGESHIP_COLOR"}, "auto", "colour on stderr: auto, always or never", false},
    };
    return defs;
}

} // namespace edgeship::cli
