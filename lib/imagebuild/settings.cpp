#include "imagebuild/settings.hpp"

namespace edgeship::imagebuild {

std::vector<core::SettingDef> settings_keys() {
    return {
        {"npm", "--npm", {"EDGESHIP_NPM"}, "npm", "npm that installs node-onnxruntime's dependencies layer", false},
        {"pip", "--pip", {"EDGESHIP_PIP"}, "pip3", "pip that installs python-onnxruntime's dependencies layer", false},
        {"base_registry", "--base-registry", {"EDGESHIP_BASE_REGISTRY"}, std::nullopt,
         "registry (HOST[:PORT]) holding the runtimes' official base images instead of Docker Hub", false},
    };
}

ToolSettings tool_settings(const core::Config& config) {
    auto pick = [&config](const char* key, const std::string& fallback) {
        auto v = config.get(key);
        return v && !v->empty() ? *v : fallback;
    };
    ToolSettings t;
    t.tools.npm = pick("npm", "npm");
    t.tools.pip = pick("pip", "pip3");
    t.base_registry = pick("base_registry", "");
    return t;
}

} // namespace edgeship::imagebuild
