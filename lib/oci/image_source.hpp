#pragma once

// Where an image comes from, in skopeo's transport syntax: `oci:DIR[:TAG]` (an OCI image layout),
// `docker-archive:FILE` (`docker save` output) or `docker://REF` (a registry). A bare REF is a registry
// reference too. The one parser for `push SRC`, `build --base`, `export --base`, `ship --base` and
// module.json's edgeship.baseImage.

#include "core/result.hpp"
#include "oci/reference.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace edgeship::oci {

struct ImageSource {
    enum class Kind { oci_layout, docker_archive, registry };
    Kind kind = Kind::registry;
    std::string text;           ///< as given
    std::filesystem::path path; ///< layout directory or archive file
    std::string tag;            ///< layout tag ("" = the only image)
    Reference reference;        ///< registry kind
    bool transport_given = true; ///< false for a bare REF (no `docker://`)

    /// Parses the forms above. `what` names the argument in errors ("base image", "source"):
    /// `base image "oci:": empty layout directory (oci:DIR[:TAG])`, `base image: invalid reference "X": why`.
    static Result<ImageSource> parse(std::string_view text, std::string_view what = "image");
};

} // namespace edgeship::oci
