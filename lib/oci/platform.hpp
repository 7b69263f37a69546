#pragma once

#include "core/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace edgeship::oci {

/// An image platform (OCI image-index "platform"; docs/design/registry.md §3.4).
struct Platform {
    std::string os = "linux";
    std::string architecture = "amd64";
    std::string variant;    ///< "v7" for 32-bit Raspberry Pi, "v8" for arm64 (optional)
    std::string os_version; ///< "os.version", Windows only in practice
    std::vector<std::string> os_features;

    /// Parses "os/arch[/variant]" ("linux/arm/v7", "linux/arm64") or an IoT Edge platform name
    /// ("amd64", "arm32v7", "arm64v8"). Errors name the text and list the accepted forms.
    static Result<Platform> parse(std::string_view text);
    /// "os/arch[/variant]".
    std::string str() const;
    /// IoT Edge's name for tags and module folders (Dockerfile.<platform>): amd64, arm32v7, arm64v8;
    /// falls back to "arch" or "arch-variant" for anything else.
    std::string iotedge_name() const;

    friend bool operator==(const Platform&, const Platform&) = default;
};

} // namespace edgeship::oci
