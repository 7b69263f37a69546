#pragma once

#include "core/result.hpp"
#include "oci/blob_writer.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::oci {

/// mtime of every entry when no SOURCE_DATE_EPOCH is given: 1970-01-01T00:00:01Z, as jib does
/// (docs/design/registry.md §8.1, §12: "files 1970-01-01T00:00:01Z"); some tools treat 0 as "unset".
inline constexpr std::int64_t k_default_epoch = 1;

/// One entry of a layer to build. Paths are relative to the image root ("app/main.py"); "./" and
/// repeated slashes are normalized; absolute paths and ".." are refused when the layer is built.
struct LayerEntry {
    enum class Type { file, directory, symlink };
    Type type = Type::file;
    std::string path;                  ///< path in the image
    std::filesystem::path source_file; ///< file entries read from disk (streamed, never loaded whole)
    std::optional<std::string> content; ///< file entries given as bytes
    std::string link_target;            ///< symlinks
    std::optional<std::uint32_t> mode;  ///< permission bits; unset ⇒ normalized default (see below)

    /// A file copied from disk. Default mode: 0755 if the source is executable by its owner, else 0644.
    static LayerEntry file(std::string path, std::filesystem::path source, std::optional<std::uint32_t> mode = {});
    /// A file with in-memory content (small files: configs, metadata). Default mode 0644.
    static LayerEntry bytes(std::string path, std::string content, std::optional<std::uint32_t> mode = {});
    /// A directory. Default mode 0755. Parents of every entry are added automatically when missing.
    static LayerEntry directory(std::string path, std::optional<std::uint32_t> mode = {});
    /// A symbolic link (mode 0777). Relative targets that climb out of the image root are refused.
    static LayerEntry symlink(std::string path, std::string target);
    /// A whiteout deleting `path` of lower layers: an empty file ".wh.<name>" (image-spec layer.md, §8.3).
    static LayerEntry whiteout(std::string_view path);
    /// An opaque-directory marker "<dir>/.wh..wh..opq": hides everything lower layers have in `dir`.
    static LayerEntry opaque_whiteout(std::string_view dir);
};

/// Settings of a reproducible layer (docs/design/registry.md §8.1).
struct LayerOptions {
    /// SOURCE_DATE_EPOCH as passed in by the caller (the library never reads the environment);
    /// unset ⇒ k_default_epoch. Used as every entry's mtime.
    std::optional<std::int64_t> source_date_epoch;
    BlobWriterOptions blob;
    /// Source files whose sha256 the caller wants (e.g. the model, for its image label): computed from the
    /// bytes the layer reads anyway, on a thread of its own, instead of in a separate pass over the file
    /// (~0.15 s per 256 MiB). Results in LayerBlob::source_sha256; the digest always matches the bytes
    /// that went into the layer, even if the file changed on disk.
    std::vector<std::filesystem::path> hash_sources;
};

/// The mtime `options` gives entries.
std::int64_t layer_epoch(const LayerOptions& options);

/// Parses a SOURCE_DATE_EPOCH value (decimal seconds ≥ 0). Errors name the variable.
Result<std::int64_t> parse_source_date_epoch(std::string_view text);

/// Entries for the tree under `dir`, placed under `image_dir` in the image ("app" or "/app"; "" or "/"
/// for the root). Regular files, directories and symlinks; other types (sockets, devices, FIFOs) are
/// an error naming the file. Symlinks are kept as links (not followed). Order does not matter.
Result<std::vector<LayerEntry>> entries_from_directory(const std::filesystem::path& dir, std::string_view image_dir);

/// Builds a reproducible layer blob in `out_dir` in one streaming pass (libarchive PAX tar → sha256 →
/// gzip → sha256 → file; see LayerBlobWriter). Entries are sorted (parents first, then byte-wise by
/// component), owned by 0:0 with empty user/group names, mtime = layer_epoch(options), modes
/// normalized, no atime/ctime/xattrs. The same entries and options always give the same DiffID, and
/// with the same engine and level the same digest.
/// Errors: invalid or duplicate paths, escaping symlinks, unreadable sources, a source file whose size
/// changed while it was read, cancellation (exit 130). Nothing is left in out_dir on error.
Result<LayerBlob> build_layer(std::vector<LayerEntry> entries, const std::filesystem::path& out_dir,
                              const LayerOptions& options);

} // namespace edgeship::oci
