#pragma once
// The image-build facade used by `edgeship build` and `edgeship ship` (docs/build.md): a solution's
// modules × platforms → planned tags and bases → model and app layers (built once per module, in a
// staging directory) → one image per platform and a multi-platform index per module → an OCI layout, a
// docker-archive or a registry. Two phases, so a caller can build first and send later:
//
//   build_images(request, collaborators) → BuiltImages   (nothing at the destination is touched; with a
//                                                         registry destination the model layer's blob is
//                                                         uploaded while it is compressed, untagged)
//   publish_images(built, collaborators)                  (layout / archive written, or images then indexes
//                                                         pushed; manifests only after verified blobs)
//
// Nothing here prints: progress, per-module and per-push notices reach the caller through the
// collaborators, which the CLI draws.

#include "core/cancel.hpp"
#include "core/env.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "imagebuild/build.hpp"
#include "imagebuild/deps_layer.hpp"
#include "oci/image.hpp"
#include "oci/reference.hpp"
#include "registry/client.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::imagebuild {

/// Where publish_images sends the images.
enum class ImageDestination {
    registry,       ///< each image's reference (repo:version[-CONTAINER_TAG]-platform), plus index tags
    oci_layout,     ///< BuildImagesRequest::output, tagged with the references' tags
    docker_archive, ///< BuildImagesRequest::output, exactly one image
};

/// What to build and where it goes (the flags of `edgeship build`, as data).
struct BuildImagesRequest {
    std::filesystem::path solution = ".";
    std::vector<std::string> modules;       ///< folders under MODULES_PATH; empty = all, in solution order
    std::vector<std::string> platforms;     ///< empty = each module.json's platforms without ".debug" ones
    std::optional<std::string> base;        ///< --base REF for every module/platform; else module.json's, else the runtime's official image
    /// Where the runtime's official base images are read from instead of Docker Hub (a mirror holding
    /// the same names: HOST[:PORT], --base-registry / setting base_registry). Empty: docker.io.
    std::string base_registry;
    DepsTools tools;                        ///< npm / pip for the dependencies layer
    std::optional<std::filesystem::path> model; ///< serve this .onnx instead of the module's
    oci::ManifestFormat format = oci::ManifestFormat::oci;
    std::string template_dir;               ///< runtimes/<name>/runtime.json over the embedded ones ("" = embedded)
    ImageDestination destination = ImageDestination::oci_layout;
    std::filesystem::path output;           ///< layout directory or archive file (not used for a registry)
    std::optional<std::int64_t> source_date_epoch; ///< every timestamp; unset ⇒ oci::k_default_epoch
    /// The process environment: the solution's .env is merged under it (tags, CONTAINER_TAG), and
    /// XDG_CACHE_HOME / HOME locate the model-layer cache (registry destination only).
    core::Environment environment;
};

enum class TransferDirection { pull, push };

/// Progress of one registry transfer: `events` goes to the registry client; `done` (may be empty) is
/// called once the transfer ended, successfully or not, before anything else is reported.
struct TransferHooks {
    registry::BlobEventCallback events;
    std::function<void()> done;
};

/// One image as built (and, after publish_images to a registry, as pushed).
struct BuiltImageOutput {
    BuiltImage built;                          ///< module folder, platform name, the image, model info
    oci::Reference reference;                  ///< repo:version[-CONTAINER_TAG]-platform
    std::vector<std::string> layer_roles;      ///< per layer: "base", "deps", "model" or "app"
    std::optional<registry::TransferReport> transfer; ///< set once pushed (streamed model layer counted as uploaded)
    std::optional<registry::BlobResult> streamed_model; ///< the model layer uploaded while it was built
};

/// A module's multi-platform index (only for modules built for two or more platforms).
struct BuiltIndexOutput {
    oci::Reference reference;                  ///< repo:version[-CONTAINER_TAG]
    oci::Blob blob;
    std::vector<std::string> platforms;        ///< platform names, in image order
    std::vector<std::size_t> images;           ///< indexes into BuiltImages::images
    std::optional<registry::TransferReport> transfer; ///< set once pushed
};

class StagingDirectory;

/// The result of build_images: images in plan order (module by module, platforms in order), then one
/// index per multi-platform module. Owns the staging directory that holds the new layers; it is
/// removed when the last copy of the BuiltImages is destroyed, on every path.
struct BuiltImages {
    ImageDestination destination = ImageDestination::oci_layout;
    std::filesystem::path output;
    std::vector<BuiltImageOutput> images;
    std::vector<BuiltIndexOutput> indexes;
    std::shared_ptr<const StagingDirectory> staging;
};

/// What the facade calls out to. All optional except `registry_for` when a registry is involved (a
/// registry destination, or a base image in a registry).
struct BuildCollaborators {
    /// The client for a registry host, connected once by the caller and alive as long as the BuiltImages
    /// (credentials are the caller's: the CLI passes its registry_options-based connector).
    std::function<Result<registry::Registry*>(const std::string& host)> registry_for;
    core::Logger log;
    /// Progress of one transfer (a base pull, an image push, an index push). Empty: no events.
    std::function<TransferHooks(TransferDirection)> transfer;
    /// Called once a platform's dependencies layer is ready (built, or found in the cache).
    std::function<void(const std::string& module, const std::string& platform, const DepsLayer& deps)> on_deps_built;
    /// Called once a module's model and app layers are built (before its images are assembled).
    std::function<void(const std::string& module, const ModuleLayers& layers)> on_layers_built;
    /// Called after each image or index push with the final report.
    std::function<void(const registry::TransferReport& report)> on_pushed;
    const core::CancelToken* cancel = &core::CancelToken::global();
};

/// Plans, resolves every base (local bases read and verified; registry bases kept remote for a
/// registry destination, pulled into the staging directory otherwise) and builds every image and index.
/// Errors (each names the module, platform or file): no modules / unknown module / unknown platform
/// (exit 1), a missing base, an archive asked for more than one image (exit 2), two images claiming one
/// layout tag, a base for another platform, unreadable sources, registry errors (4 for auth), interrupted
/// (130). Nothing is written at the destination.
Result<BuiltImages> build_images(const BuildImagesRequest& request, const BuildCollaborators& collaborators);

/// Writes `built` to its destination: the layout (blobs, then tags), the archive (atomic), or the
/// registry (per module: every image, then its index). With a registry, each output's `transfer` is set.
/// On error, nothing is tagged in a layout and no archive is left; registry tags already pushed stay.
Result<void> publish_images(BuiltImages& built, const BuildCollaborators& collaborators);

/// Pushes one built image to its reference (publish_images's per-image step, also used by `ship`'s push
/// step). Sets and returns `image.transfer`.
Result<registry::TransferReport> push_built_image(BuiltImageOutput& image, const BuildCollaborators& collaborators);

/// Pushes one index (its platform images by digest, then the index under its tag). Sets `index.transfer`.
Result<registry::TransferReport> push_built_index(BuiltIndexOutput& index, const BuiltImages& built,
                                                  const BuildCollaborators& collaborators);

/// Counts a model layer uploaded during the build as uploaded in a push report (push_image found it
/// present and counted it as skipped).
void account_streamed(registry::TransferReport& report, const registry::BlobResult& streamed);

/// Every runtime's image recipe (runtimes/<name>/runtime.json), from `template_dir` over the embedded ones.
Result<std::vector<RuntimeImage>> load_runtime_images(const std::string& template_dir);

/// "base", "deps", "model" or "app" for layer `i` of `image`.
const char* layer_role(const BuiltImage& image, std::size_t i);

} // namespace edgeship::imagebuild
