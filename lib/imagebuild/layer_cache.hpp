#pragma once
// A small local cache of built model layers: the layer's inputs → (DiffID, digest, size), so a
// `build --push` of an unchanged model HEAD-checks the registry instead of re-reading, re-compressing and
// re-uploading it (docs/design/registry.md §8.2, §9.8, §11.9: "cache (DiffID, codec, level) → (digest,
// size) so re-pushes HEAD-skip without recompressing"). An entry is written only after the layer was
// built; a hit is used only when the registry confirms it holds the blob (HEAD), so a stale or foreign
// entry costs a rebuild, never a broken image.

#include "core/env.hpp"
#include "core/result.hpp"
#include "imagebuild/sources.hpp"
#include "oci/blob_writer.hpp"
#include "oci/layer.hpp"

#include <cstdint>
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

// --- digest memo ---------------------------------------------------------------------------------------
// The model's sha256 by the file's identity, so an unchanged model is not read at all to find its cache
// entry (a 256 MiB model cost ~0.15 s per `build --push`). The identity is what Bazel's digest cache and
// git's index trust: device, inode, size, mtime and ctime in nanoseconds (ctime cannot be set back by a
// user). As git does for "racily clean" entries, a file modified within the last 2 seconds is not
// remembered: a change in the same timestamp tick would go unseen. A stale memo can only name a digest
// whose cached layer the registry must still confirm (HEAD); a layer that is built is always built, and
// labelled, from the bytes read.

struct DigestMemo {
    bool seen = false;                 ///< a memo exists for this path (the file was built from before)
    std::optional<std::string> sha256; ///< its sha256, when the file's identity is unchanged since then
};

/// What the memo knows about `file`.
DigestMemo recall_file_sha256(const std::filesystem::path& dir, const std::filesystem::path& file);

/// Remembers `sha256` for `file`'s current identity. A file changed in the 2 seconds before `now_ns`
/// (CLOCK_REALTIME, nanoseconds) is only marked as seen: its digest is not trusted later.
Result<void> remember_file_sha256(const std::filesystem::path& dir, const std::filesystem::path& file,
                                  const std::string& sha256, std::int64_t now_ns);

} // namespace edgeship::imagebuild
