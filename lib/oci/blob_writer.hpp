#pragma once

#include "core/cancel.hpp"
#include "core/result.hpp"
#include "oci/digest.hpp"
#include "oci/gzip.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <functional>
#include <memory>
#include <string_view>

namespace edgeship::oci {

/// How a layer blob is stored. gzip is the default and the only compression every IoT Edge device
/// pulls; zstd is not offered yet (docs/design/registry.md §8.4).
enum class Compression { none, gzip };

/// Progress of a streaming stage, reported roughly every MiB and once at the end.
struct Progress {
    std::uint64_t bytes_in = 0;  ///< uncompressed bytes consumed so far
    std::uint64_t total_in = 0;  ///< expected uncompressed total, 0 when unknown
    std::uint64_t bytes_out = 0; ///< bytes written to the blob so far
};
/// Called on the thread doing the work; must not throw.
using ProgressCallback = std::function<void(const Progress&)>;

/// Where and how a layer blob is produced.
struct BlobWriterOptions {
    Compression compression = Compression::gzip;
    GzipOptions gzip;
    ProgressCallback progress;                                  ///< optional
    std::uint64_t expected_total = 0;                           ///< fills Progress::total_in
    const core::CancelToken* cancel = &core::CancelToken::global(); ///< polled per chunk; may be null
    bool sync = true;                                           ///< fsync before the rename
    /// Optional: called once, before any byte is written, with the temporary file the blob grows in
    /// (LayerBlobWriter only). Together with `progress` (Progress::bytes_out = bytes already written to
    /// that file) this lets another thread upload the blob while it is compressed (§9.8). The file is
    /// renamed to LayerBlob::path by commit(); a reader should open it from this callback.
    std::function<void(const std::filesystem::path&)> on_temp_file;
};

/// A finished layer blob on disk.
struct LayerBlob {
    std::filesystem::path path;      ///< out_dir/<digest hex>
    Digest digest;                   ///< sha256 of the blob (compressed bytes)
    std::uint64_t size = 0;          ///< blob size
    Digest diff_id;                  ///< sha256 of the uncompressed tar
    std::uint64_t uncompressed_size = 0;
    Compression compression = Compression::gzip;
    /// build_layer only: hex sha256 of each LayerOptions::hash_sources file found among the entries.
    std::map<std::filesystem::path, std::string> source_sha256;
};

/// The one-pass layer pipeline (docs/design/registry.md §8.6, §9.8):
///   tar bytes → sha256 (DiffID) → gzip → sha256 (digest) → temporary file in out_dir
/// commit() finishes the stream and renames the file to out_dir/<digest hex>; an error, a cancel or
/// destruction before commit() removes the temporary file. The two sha256 run on threads of their own
/// once a layer passes 1 MiB (detail/async_sha256.hpp). Memory use is bounded (under 20 MiB: each hash
/// queues at most 8 chunks of 1 MiB), whatever the layer size. Not thread-safe; one writer per layer (several writers may run in parallel).
class LayerBlobWriter {
public:
    /// out_dir must exist (for an OCI layout: DIR/blobs/sha256).
    static Result<LayerBlobWriter> create(const std::filesystem::path& out_dir, BlobWriterOptions options);
    LayerBlobWriter(LayerBlobWriter&&) noexcept;
    LayerBlobWriter& operator=(LayerBlobWriter&&) noexcept;
    ~LayerBlobWriter();

    /// Feeds uncompressed bytes. Returns core::cancelled_error() once the token is cancelled.
    Result<void> write(std::string_view data);
    /// Ends the stream; returns the blob. Call once.
    Result<LayerBlob> commit();

    struct Impl;

private:
    explicit LayerBlobWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

/// A sink for a blob whose digest is known in advance (a registry download, a copy between layouts):
/// bytes → sha256 → temporary file in out_dir; commit() checks size and digest and renames the file to
/// out_dir/<digest hex>. A mismatch, an error or destruction before commit() removes the temporary file.
/// Not thread-safe; one writer per blob.
class BlobFileWriter {
public:
    static Result<BlobFileWriter> create(const std::filesystem::path& out_dir,
                                         const core::CancelToken* cancel = &core::CancelToken::global());
    BlobFileWriter(BlobFileWriter&&) noexcept;
    BlobFileWriter& operator=(BlobFileWriter&&) noexcept;
    ~BlobFileWriter();

    Result<void> write(std::string_view data);
    std::uint64_t size() const;
    /// Errors: "blob sha256:…: size mismatch: got N bytes, expected M" / "…: digest mismatch: content hashes
    /// to sha256:…". Returns the final path.
    Result<std::filesystem::path> commit(const Digest& expected, std::uint64_t expected_size, bool sync = true);

    struct Impl;

private:
    explicit BlobFileWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

/// Turns an existing uncompressed tar file into a layer blob in out_dir (same pipeline).
Result<LayerBlob> compress_tar_file(const std::filesystem::path& tar, const std::filesystem::path& out_dir,
                                    const BlobWriterOptions& options);

} // namespace edgeship::oci
