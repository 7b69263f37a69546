#include "cli/settings_catalog.hpp"

namespace edgeship::cli {

const std::vector<core::SettingDef>& settings_catalog() {
    static const std::vector<core::SettingDef> defs = {
        {"color", "--color", {"EDGESHIP_COLOR"}, "auto", "colour on stderr: auto, always or never", false},
        // IoT Hub (issue 7, docs/design/iothub.md §1.1, §6, §11). The connection string is a secret.
        {"iothub_connection_string", "--connection-string-file", {"EDGESHIP_IOTHUB_CONNECTION_STRING", "IOTHUB_CONNECTION_STRING"},
         std::nullopt, "IoT Hub service connection string (HostName=…;SharedAccessKeyName=…;SharedAccessKey=…)", true},
        {"iothub_endpoint", "--hub-url", {"EDGESHIP_IOTHUB_ENDPOINT"}, std::nullopt,
         "https:// URL of the hub instead of https://<HostName> (private endpoints, tests)", false},
        {"iothub_ca_file", "--ca-file", {"EDGESHIP_IOTHUB_CA_FILE"}, std::nullopt, "PEM CA bundle trusted for the hub", false},
        {"iothub_api_version", "--api-version", {"EDGESHIP_IOTHUB_API_VERSION"}, std::nullopt, "IoT Hub REST api-version", false},
        {"iothub_tier", "", {"EDGESHIP_IOTHUB_TIER"}, "S1", "hub tier for client-side request budgets: F1, S1, S2, S3", false},
        {"iothub_units", "", {"EDGESHIP_IOTHUB_UNITS"}, "1", "hub units for client-side request budgets", false},
        {"iothub_retry_delay", "", {"EDGESHIP_IOTHUB_RETRY_DELAY"}, "10s", "first retry delay after 408/429/500/503 and network errors", false},
        // The dependencies layer and default bases of build/ship (issue 13, docs/build.md).
        {"npm", "--npm", {"EDGESHIP_NPM"}, "npm", "npm that installs node-onnxruntime's dependencies layer", false},
        {"pip", "--pip", {"EDGESHIP_PIP"}, "pip3", "pip that installs python-onnxruntime's dependencies layer", false},
        {"base_registry", "--base-registry", {"EDGESHIP_BASE_REGISTRY"}, std::nullopt,
         "registry (HOST[:PORT]) holding the runtimes' official base images instead of Docker Hub", false},
    };
    return defs;
}

} // namespace edgeship::cli
