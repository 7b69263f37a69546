#pragma once
// The runtime base image of a module image: where it comes from (--base REF, or module.json
// "edgeship": {"baseImage": {"<platform>": REF}}) and reading it when it is local.
// A daemonless build only appends layers: it cannot run the Dockerfile's RUN steps, so the base must
// already hold the runtime (the runtime's image.requires).

#include "core/cancel.hpp"
#include "core/result.hpp"
#include "imagebuild/runtime_image.hpp"
#include "oci/image.hpp"
#include "oci/platform.hpp"
#include "oci/reference.hpp"
#include "solution/layout.hpp"

#include "oci/image_source.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace edgeship::imagebuild {

/// A base image reference: `oci:DIR[:TAG]`, `docker-archive:FILE`, `docker://REF` or a bare registry
/// reference, parsed by the one image-source parser (oci/image_source.hpp); errors say "base image".
using BaseRef = oci::ImageSource;
Result<BaseRef> parse_base_ref(std::string_view text);

/// The base REF text for `module` on `platform` ("amd64", "amd64.debug"): `flag` (--base) when set,
/// else module.json edgeship.baseImage["<platform>"] (for a debug platform, then the release one),
/// else the runtime's official image for the platform (runtime.json "platforms"), read from
/// `base_registry` instead of Docker Hub when set. Errors when the runtime names none for the platform.
Result<std::string> base_ref_for(const solution::ModuleInfo& module, const std::string& platform,
                                 const std::optional<std::string>& flag, const RuntimeImage& runtime,
                                 const std::string& base_registry = "");

/// `official` ("node:20-bookworm-slim", "arm64v8/node:…") as found in `mirror` (HOST[:PORT]): the same
/// repository path Docker Hub gives it ("HOST/library/node:20-bookworm-slim"). Only Docker Hub names are
/// rewritten; `mirror` empty returns `official`.
Result<std::string> official_base_in(const std::string& official, const std::string& mirror);

/// Reads a local base (oci_layout or docker_archive) for `platform`. Layout blobs are verified (size and
/// digest) and used in place; archive layers are staged in `staging_dir` (must exist). Errors name the
/// REF; a single-platform image for another platform is refused.
Result<oci::LocalImage> load_local_base(const BaseRef& ref, const oci::Platform& platform,
                                        const std::filesystem::path& staging_dir,
                                        const core::CancelToken* cancel = &core::CancelToken::global());

/// Checks an image's config platform against `wanted` (variant compared only when both have one).
Result<void> check_base_platform(const oci::LocalImage& base, const oci::Platform& wanted, std::string_view name);

} // namespace edgeship::imagebuild
