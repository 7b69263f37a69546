#pragma once

#include "core/cancel.hpp"
#include "core/result.hpp"
#include "oci/blob_writer.hpp"
#include "oci/digest.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace edgeship::oci {

/// One tar member as read back from a layer.
struct TarEntryInfo {
    enum class Type { file, directory, symlink, hardlink, other };
    Type type = Type::file;
    std::string path;        ///< as stored (not normalized)
    std::string link_target; ///< symlink or hardlink target
    std::uint32_t mode = 0;  ///< permission bits
    std::uint64_t size = 0;
    std::int64_t mtime = 0;
    std::int64_t uid = 0;
    std::int64_t gid = 0;
    std::string uname;
    std::string gname;
    bool has_pax_times = false; ///< atime or ctime present (reproducible layers have neither)
};

/// What reading a layer blob established.
struct LayerScan {
    Digest digest;                       ///< sha256 of the blob as stored
    std::uint64_t size = 0;              ///< blob size
    Digest diff_id;                      ///< sha256 of the uncompressed tar
    std::uint64_t uncompressed_size = 0;
    Compression compression = Compression::none; ///< detected from the magic bytes
    std::vector<TarEntryInfo> entries;   ///< when ScanOptions::keep_entries
};

struct ScanOptions {
    bool keep_entries = true;
    /// Refuse absolute paths, ".." components, symlinks whose relative target climbs out of the root,
    /// hardlinks to such paths and members reached through a symlink of the same layer
    /// (docs/design/registry.md §8.1, issue 6 "Bad input").
    bool check_safety = true;
    GzipEngine engine = default_gzip_engine();
    /// Receives every uncompressed byte in order (e.g. to write the tar into a docker-archive).
    std::function<Result<void>(std::string_view)> tar_sink;
    ProgressCallback progress;
    const core::CancelToken* cancel = &core::CancelToken::global();
};

/// Reads a layer blob (plain tar or gzip, detected from its first bytes) in one streaming pass:
/// sha256 of the blob, gunzip, sha256 of the tar (DiffID), every tar header parsed with libarchive.
/// Errors (one line, naming `what`): truncated or corrupt gzip, truncated or malformed tar, and with
/// check_safety the unsafe members listed above.
Result<LayerScan> scan_layer(const std::filesystem::path& blob, std::string_view what, const ScanOptions& options);

} // namespace edgeship::oci
