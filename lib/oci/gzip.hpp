#pragma once

#include "core/result.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace edgeship::oci {

/// Receives output bytes of a streaming stage; returning an error stops the stream.
using ByteSink = std::function<Result<void>(std::string_view)>;

/// Which deflate implementation compresses a layer. ISA-L (Intel's igzip) is ~25× GNU gzip at level 1
/// with output as small (docs/design/registry.md §8.6, §9.3); zlib is the portable fallback.
/// The two produce different bytes, hence different layer digests (§8.2): key caches on the engine.
enum class GzipEngine { isal, zlib };

/// True when edgeship was built with libisal.
bool isal_available();
/// isal when available, else zlib.
GzipEngine default_gzip_engine();
/// "isal" / "zlib".
std::string_view to_string(GzipEngine engine);

/// Compression settings. The gzip header is fixed (no name, mtime 0, OS 255) so output depends only
/// on the input, the engine (and its library version) and the level (§8.2).
struct GzipOptions {
    GzipEngine engine = default_gzip_engine();
    int level = 1; ///< ISA-L: 0–3; zlib: 1–9. Level 1 is what crane and this project default to (§11.9).
};

/// Streaming gzip compressor: write() any number of times, then finish() once. Output goes to the sink
/// passed to each call. Not thread-safe; one instance per stream.
class GzipCompressor {
public:
    /// Errors: unknown level for the engine, ISA-L requested but not built in.
    static Result<GzipCompressor> create(const GzipOptions& options);
    GzipCompressor(GzipCompressor&&) noexcept;
    GzipCompressor& operator=(GzipCompressor&&) noexcept;
    ~GzipCompressor();

    Result<void> write(std::string_view input, const ByteSink& out);
    /// Flushes the deflate stream and writes the gzip trailer (CRC-32, size mod 2^32).
    Result<void> finish(const ByteSink& out);

    struct Impl;

private:
    explicit GzipCompressor(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

/// Streaming gzip decompressor (multi-member streams accepted). write() fails on corrupt data;
/// finish() fails with "truncated gzip stream" if the input ended before the last member's trailer.
/// Not thread-safe; one instance per stream.
class GzipDecompressor {
public:
    static Result<GzipDecompressor> create(GzipEngine engine = default_gzip_engine());
    GzipDecompressor(GzipDecompressor&&) noexcept;
    GzipDecompressor& operator=(GzipDecompressor&&) noexcept;
    ~GzipDecompressor();

    Result<void> write(std::string_view compressed, const ByteSink& out);
    Result<void> finish();
    std::uint64_t total_in() const;
    std::uint64_t total_out() const;

    struct Impl;

private:
    explicit GzipDecompressor(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

/// True if `head` starts with the gzip magic 1f 8b.
bool looks_like_gzip(std::string_view head);

} // namespace edgeship::oci
