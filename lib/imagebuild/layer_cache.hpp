#pragma once
// A small local cache of built model layers: the layer's inputs → (DiffID, digest, size), so a
// `build --push` of an unchanged model HEAD-checks the registry instead of re-reading, re-compressing and
// re-uploading it (reference/registry.md §8.2, §9.8, §11.9: "cache (DiffID, codec, level) → (digest,
// size) so re-pushes HEAD-skip without recompressing"). An entry is written only after the layer was
// built; a hit is used only when the registry confirms it holds the blob (HEAD), so a stale or foreign
// entry costs a rebuild, never a broken image.

#include "core/env.hpp"
#include "core/result.hpp"
#include "imagebuild/sources.hpp"
#include "oci/blob_writer.hpp"
#include "oci/layer.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace edgeship::imagebuild {

/// $XDG_CACHE_HOME/edgeship/layers, else $HOME/.cache/edgeship/layers; empty when neither is set.
std::filesystem::path layer_cache_dir(const core::Environment& env);

/// sha256 over everything the model layer's bytes depend on: every model entry (type, image path, mode,
/// link target, the content's sha256 and size, the source's owner-exec bit), the mtime epoch, the
/// compression, gzip engine and level, and a format version. The model file's hash is
/// `sources.model.sha256` (already computed); other file entries are hashed here.
Result<std::string> model_layer_key(const ModuleSources& sources, const oci::LayerOptions& options);

/// The entry for `key`, or nullopt when there is none or it does not parse. The blob's `path` is empty.
std::optional<oci::LayerBlob> load_cached_layer(const std::filesystem::path& dir, const std::string& key);

/// Records `blob` under `key` (atomic write; the directory is created).
Result<void> store_cached_layer(const std::filesystem::path& dir, const std::string& key, const oci::LayerBlob& blob);

} // namespace edgeship::imagebuild
