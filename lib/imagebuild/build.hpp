#pragma once
// A module image without a Docker daemon (docs/design/registry.md §8.5): the runtime base image's layers
// (reused by digest, never unpacked), then a model layer (the weights: large, changes per model
// version), then an app layer (the module code: small, changes most often), and a config that keeps the
// base's and sets the runtime's Env, Cmd, ExposedPorts, WorkingDir, User, Labels and history.
// Reproducible: the same sources, base and SOURCE_DATE_EPOCH give the same digests.

#include "core/result.hpp"
#include "imagebuild/runtime_image.hpp"
#include "imagebuild/sources.hpp"
#include "oci/image.hpp"
#include "oci/layer.hpp"
#include "oci/platform.hpp"
#include "oci/reference.hpp"
#include "solution/layout.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace edgeship::imagebuild {

/// Label keys edgeship adds besides org.opencontainers.image.*.
inline constexpr const char* k_label_model_sha256 = "com.edgeship.model.sha256";
inline constexpr const char* k_label_model_file = "com.edgeship.model.file";
inline constexpr const char* k_label_runtime = "com.edgeship.runtime";

/// An IoT Edge platform name of module.json ("amd64", "arm64v8", "amd64.debug") and its OCI platform.
struct TargetPlatform {
    std::string name;
    oci::Platform platform;
    bool debug = false;

    /// Errors name the platform and list the accepted forms (exit 2).
    static Result<TargetPlatform> parse(const std::string& name);
};

/// `repo:version[-CONTAINER_TAG]-platform` (solution::image_tag, docs/design/iothub.md §2.4), checked
/// against the reference grammar. Errors name the module.json.
Result<oci::Reference> platform_reference(const solution::ModuleInfo& module, const std::string& platform,
                                          const std::string& container_tag);
/// `repo:version[-CONTAINER_TAG]`: the multi-platform index's tag.
Result<oci::Reference> index_reference(const solution::ModuleInfo& module, const std::string& container_tag);

/// The model and app layers of one module, built once and shared by all its platforms.
struct ModuleLayers {
    oci::LayerBlob model;
    oci::LayerBlob app;
};

/// Builds both layers into `blobs_dir` (a layout's blobs/sha256 or a staging directory). The caller
/// owns `blobs_dir`: on error, blobs already written there may remain (build into a staging directory).
Result<ModuleLayers> build_module_layers(const ModuleSources& sources, const std::filesystem::path& blobs_dir,
                                         const oci::LayerOptions& options);
/// The same with the model layer's own options (e.g. BlobWriterOptions::on_temp_file/progress hooks that
/// upload it while it is compressed), or with `cached_model` (from the layer cache, confirmed present in
/// the registry) used as the model layer instead of building it (its `path` stays empty).
Result<ModuleLayers> build_module_layers(const ModuleSources& sources, const std::filesystem::path& blobs_dir,
                                         const oci::LayerOptions& options, const oci::LayerOptions& model_options,
                                         const std::optional<oci::LayerBlob>& cached_model);

/// Where the base image comes from. A local base (oci:DIR[:TAG], docker-archive:FILE) is named by a
/// path: the image keeps only its digest, so the same inputs give the same digests wherever the base
/// lies (docs/build.md, "What goes into the image").
enum class BaseOrigin { registry, local };

struct ImageRequest {
    const solution::ModuleInfo* module = nullptr;
    const RuntimeImage* runtime = nullptr;
    const ModuleSources* sources = nullptr;
    const ModuleLayers* layers = nullptr;
    /// The dependencies layer for this platform (runtime.json image.deps), between the base and the model.
    const oci::LayerBlob* deps = nullptr;
    std::string deps_text;        ///< what installed it, for the history ("npm ci … (npm 11.1.0)")
    TargetPlatform platform;
    const oci::LocalImage* base = nullptr;
    std::string base_name;        ///< REF as given (errors; org.opencontainers.image.base.name of a registry base)
    BaseOrigin base_origin = BaseOrigin::registry; ///< local: no base.name label/annotation, no path in history
    std::string version;          ///< version[-CONTAINER_TAG] (org.opencontainers.image.version)
    std::optional<std::int64_t> source_date_epoch; ///< created / label timestamps; unset ⇒ oci::k_default_epoch
    oci::ManifestFormat format = oci::ManifestFormat::oci;
};

struct BuiltImage {
    std::string module;          ///< folder
    std::string platform;        ///< "amd64"
    oci::LocalImage image;
    ModelInfo model;
    std::size_t base_layers = 0; ///< image.layers[0, base_layers) come from the base; then deps (if any), model, app
    bool has_deps = false;
    std::size_t model_layer() const { return base_layers + (has_deps ? 1 : 0); }
};

/// Assembles the image of one platform. Errors: a base for another platform, a base config whose
/// diff_ids do not match its layers, an invalid port in the runtime's expose list.
Result<BuiltImage> assemble_module_image(const ImageRequest& request);

} // namespace edgeship::imagebuild
