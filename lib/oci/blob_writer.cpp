#include "oci/blob_writer.hpp"

#include "core/sha256.hpp"
#include "oci/detail/async_sha256.hpp"
#include "oci/detail/files.hpp"

#include <optional>

namespace edgeship::oci {

namespace {
constexpr std::uint64_t k_progress_step = 1u << 20;
}

struct LayerBlobWriter::Impl {
    std::filesystem::path out_dir;
    BlobWriterOptions options;
    detail::TempFile file;
    std::optional<GzipCompressor> gzip;
    detail::AsyncSha256 diff_hash; // DiffID and digest each on a thread of their own (large layers)
    detail::AsyncSha256 blob_hash;
    std::uint64_t in_bytes = 0;
    std::uint64_t out_bytes = 0;
    std::uint64_t next_report = 0;
    bool finished = false;
    ByteSink sink;

    Impl(std::filesystem::path dir, BlobWriterOptions opts, detail::TempFile f)
        : out_dir(std::move(dir)), options(std::move(opts)), file(std::move(f)) {
        sink = [this](std::string_view compressed) -> Result<void> {
            if (gzip) {
                blob_hash.update(compressed);
            }
            out_bytes += compressed.size();
            return file.write(compressed);
        };
    }

    void report(bool force) {
        if (options.progress && (force || in_bytes >= next_report)) {
            next_report = in_bytes + k_progress_step;
            options.progress(Progress{in_bytes, options.expected_total, out_bytes});
        }
    }
};

LayerBlobWriter::LayerBlobWriter(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
LayerBlobWriter::LayerBlobWriter(LayerBlobWriter&&) noexcept = default;
LayerBlobWriter& LayerBlobWriter::operator=(LayerBlobWriter&&) noexcept = default;
LayerBlobWriter::~LayerBlobWriter() = default;

Result<LayerBlobWriter> LayerBlobWriter::create(const std::filesystem::path& out_dir, BlobWriterOptions options) {
    EDGESHIP_TRY_ASSIGN(auto file, detail::TempFile::create(out_dir, "layer"));
    auto impl = std::make_unique<Impl>(out_dir, std::move(options), std::move(file));
    if (impl->options.compression == Compression::gzip) {
        EDGESHIP_TRY_ASSIGN(auto gz, GzipCompressor::create(impl->options.gzip));
        impl->gzip.emplace(std::move(gz));
    }
    if (impl->options.on_temp_file) {
        impl->options.on_temp_file(impl->file.path());
    }
    return LayerBlobWriter(std::move(impl));
}

Result<void> LayerBlobWriter::write(std::string_view data) {
    auto& s = *m_impl;
    if (s.options.cancel != nullptr && s.options.cancel->cancelled()) {
        return unexpected(core::cancelled_error());
    }
    s.diff_hash.update(data);
    s.in_bytes += data.size();
    if (s.gzip) {
        EDGESHIP_TRY(s.gzip->write(data, s.sink));
    } else {
        EDGESHIP_TRY(s.sink(data));
    }
    s.report(false);
    return {};
}

Result<LayerBlob> LayerBlobWriter::commit() {
    auto& s = *m_impl;
    if (s.finished) {
        return fail("layer blob already committed");
    }
    s.finished = true;
    if (s.options.cancel != nullptr && s.options.cancel->cancelled()) {
        return unexpected(core::cancelled_error());
    }
    if (s.gzip) {
        EDGESHIP_TRY(s.gzip->finish(s.sink));
    }
    LayerBlob blob;
    blob.diff_id = Digest::from_sha256_hex(s.diff_hash.hex_digest());
    blob.uncompressed_size = s.in_bytes;
    blob.digest = s.gzip ? Digest::from_sha256_hex(s.blob_hash.hex_digest()) : blob.diff_id;
    blob.size = s.out_bytes;
    blob.compression = s.options.compression;
    blob.path = s.out_dir / blob.digest.hex();
    EDGESHIP_TRY(s.file.commit_as(blob.path, s.options.sync));
    s.report(true);
    return blob;
}

struct BlobFileWriter::Impl {
    std::filesystem::path out_dir;
    const core::CancelToken* cancel;
    detail::TempFile file;
    core::Sha256 hash;
    std::uint64_t bytes = 0;
    bool finished = false;
};

BlobFileWriter::BlobFileWriter(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
BlobFileWriter::BlobFileWriter(BlobFileWriter&&) noexcept = default;
BlobFileWriter& BlobFileWriter::operator=(BlobFileWriter&&) noexcept = default;
BlobFileWriter::~BlobFileWriter() = default;

Result<BlobFileWriter> BlobFileWriter::create(const std::filesystem::path& out_dir, const core::CancelToken* cancel) {
    EDGESHIP_TRY_ASSIGN(auto file, detail::TempFile::create(out_dir, "blob"));
    return BlobFileWriter(std::unique_ptr<Impl>(new Impl{out_dir, cancel, std::move(file), core::Sha256(), 0, false}));
}

Result<void> BlobFileWriter::write(std::string_view data) {
    if (m_impl->cancel != nullptr && m_impl->cancel->cancelled()) {
        return unexpected(core::cancelled_error());
    }
    m_impl->hash.update(data);
    m_impl->bytes += data.size();
    return m_impl->file.write(data);
}

std::uint64_t BlobFileWriter::size() const { return m_impl->bytes; }

Result<std::filesystem::path> BlobFileWriter::commit(const Digest& expected, std::uint64_t expected_size, bool sync) {
    auto& s = *m_impl;
    if (s.finished) {
        return fail("blob " + expected.str() + ": already committed");
    }
    s.finished = true;
    if (s.bytes != expected_size) {
        return fail("blob " + expected.str() + ": size mismatch: got " + std::to_string(s.bytes) + " bytes, expected " +
                    std::to_string(expected_size));
    }
    auto actual = Digest::from_sha256_hex(s.hash.hex_digest());
    if (actual != expected) {
        return fail("blob " + expected.str() + ": digest mismatch: content hashes to " + actual.str());
    }
    auto target = s.out_dir / expected.hex();
    EDGESHIP_TRY(s.file.commit_as(target, sync));
    return target;
}

Result<LayerBlob> compress_tar_file(const std::filesystem::path& tar, const std::filesystem::path& out_dir,
                                    const BlobWriterOptions& options) {
    EDGESHIP_TRY_ASSIGN(auto writer, LayerBlobWriter::create(out_dir, options));
    EDGESHIP_TRY(detail::read_chunks(tar, [&](std::string_view d) { return writer.write(d); }, options.cancel));
    return writer.commit();
}

} // namespace edgeship::oci
