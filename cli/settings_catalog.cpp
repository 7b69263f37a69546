#include "cli/settings_catalog.hpp"

#include "imagebuild/settings.hpp"
#include "iothub/connect.hpp"

namespace edgeship::cli {

const std::vector<core::SettingDef>& settings_catalog() {
    // The union of what each library module declares, plus the CLI's own keys; a key nobody declared
    // cannot be read (core::Config throws).
    static const std::vector<core::SettingDef> defs = [] {
        std::vector<core::SettingDef> all = {
            {"color", "--color", {"EDGESHIP_COLOR"}, "auto", "colour on stderr: auto, always or never", false},
        };
        for (auto module : {iothub::settings_keys(), imagebuild::settings_keys()}) {
            all.insert(all.end(), module.begin(), module.end());
        }
        return all;
    }();
    return defs;
}

} // namespace edgeship::cli
