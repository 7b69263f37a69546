#pragma once
// What a module contributes to its image: the files of the runtime's COPY rules (honouring the
// module's .dockerignore), split into the model layer and the app layer.

#include "core/result.hpp"
#include "imagebuild/runtime_image.hpp"
#include "oci/layer.hpp"
#include "solution/layout.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::imagebuild {

/// The model the image serves.
struct ModelInfo {
    std::string file;                 ///< file name in the image's model directory ("model.onnx")
    std::string image_path;           ///< "/app/model/model.onnx"
    std::filesystem::path source;     ///< the file read (module's model/ or --model)
    std::string sha256;               ///< hex
    std::uint64_t size = 0;
};

struct ModuleSources {
    std::filesystem::path context; ///< module dir + image.contextPath
    std::vector<oci::LayerEntry> model_entries;
    std::vector<oci::LayerEntry> app_entries;
    ModelInfo model;
};

/// Collects the files of `runtime`'s copy rules from the module's build context. The model is the one
/// *.onnx file directly in the model rule's source directory; `model_override` (--model) replaces it
/// under the same name (or under its own name when the directory holds none). Errors (exit 1): missing
/// context or copy source, no model / several models, an unreadable --model, a special file.
/// `hash_model = false` leaves ModelInfo::sha256 empty for the caller to fill (build_images takes it from
/// the digest memo or from the model layer's own read: oci::LayerOptions::hash_sources).
Result<ModuleSources> collect_sources(const solution::ModuleInfo& module, const RuntimeImage& runtime,
                                      const std::optional<std::filesystem::path>& model_override,
                                      bool hash_model = true);

} // namespace edgeship::imagebuild
