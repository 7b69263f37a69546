#pragma once

// Local bytes of an upload (docs/design/registry.md §11.3-4): a blob read from a file at any offset or
// from memory, hashed as it is sent, and the scratch directory a stream-through stages in. Internal.

#include "core/result.hpp"
#include "core/sha256.hpp"
#include "http/client.hpp"
#include "oci/digest.hpp"
#include "oci/manifest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace edgeship::registry::detail {

/// Where a blob's bytes come from: a file (re-openable at any offset) or memory (config).
struct BlobInput {
    std::filesystem::path path;
    std::string_view bytes;
    bool is_file = false;
};

/// An open file shared by the body sources of one upload.
class FileHandle {
public:
    static Result<std::shared_ptr<FileHandle>> open(const std::filesystem::path& p) {
        int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            return fail(p.string() + ": cannot open: " + std::strerror(errno));
        }
        return std::shared_ptr<FileHandle>(new FileHandle(fd, p));
    }
    ~FileHandle() { ::close(m_fd); }
    Result<std::uint64_t> size() const {
        struct stat st {};
        if (::fstat(m_fd, &st) != 0) {
            return fail(m_path.string() + ": cannot stat: " + std::strerror(errno));
        }
        return static_cast<std::uint64_t>(st.st_size);
    }
    const std::filesystem::path& path() const { return m_path; }
    FileHandle(const FileHandle&) = delete;
    FileHandle& operator=(const FileHandle&) = delete;
    Result<std::size_t> read_at(char* buf, std::size_t n, std::uint64_t off) const {
        for (;;) {
            auto got = ::pread(m_fd, buf, n, static_cast<off_t>(off));
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got < 0) {
                return fail(m_path.string() + ": read failed: " + std::strerror(errno));
            }
            return static_cast<std::size_t>(got);
        }
    }

private:
    FileHandle(int fd, std::filesystem::path p) : m_fd(fd), m_path(std::move(p)) {}
    int m_fd;
    std::filesystem::path m_path;
};

/// A re-openable body for bytes [start, end) of a blob (§11.4: retries need re-openable bodies): read from
/// `file`, or from `bytes` when `file` is null. `on_read` sees every chunk read with its offset.
http::BodySource range_source(const std::shared_ptr<FileHandle>& file, std::string_view bytes, std::uint64_t start,
                              std::uint64_t end,
                              std::function<void(const char* data, std::uint64_t n, std::uint64_t at)> on_read);

/// A temporary directory removed when this goes out of scope.
class ScratchDir {
public:
    static Result<ScratchDir> create(const std::string& parent) {
        std::error_code ec;
        std::filesystem::path base = parent.empty() ? std::filesystem::temp_directory_path(ec) : std::filesystem::path(parent);
        if (ec) {
            return fail("no temporary directory: " + ec.message());
        }
        std::string tmpl = (base / "edgeship-blob-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            return fail(base.string() + ": cannot create a scratch directory: " + std::strerror(errno));
        }
        return ScratchDir(tmpl);
    }
    ScratchDir(ScratchDir&& o) noexcept : m_path(std::move(o.m_path)) { o.m_path.clear(); }
    ScratchDir& operator=(ScratchDir&&) = delete;
    ~ScratchDir() {
        if (!m_path.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(m_path, ec);
        }
    }
    const std::filesystem::path& path() const { return m_path; }

private:
    explicit ScratchDir(std::filesystem::path p) : m_path(std::move(p)) {}
    std::filesystem::path m_path;
};

/// sha256 of a blob computed from the bytes as they are sent. Re-sent ranges (retries, resumes) are
/// skipped; if the stream was not read in one sequence the file is hashed again at the end.
class LocalHash {
public:
    /// A LocalHash that hashes nothing (the bytes were hashed by their producer; see push_growing).
    static LocalHash off() {
        LocalHash h;
        h.m_off = true;
        return h;
    }
    void feed(const char* data, std::uint64_t n, std::uint64_t at) {
        if (m_off) {
            return;
        }
        if (at == m_next) {
            m_sha.update(std::string_view(data, static_cast<std::size_t>(n)));
            m_next += n;
        } else if (at > m_next) {
            m_gap = true;
        }
    }
    Result<void> verify(const oci::Descriptor& d, const BlobInput& in, const std::shared_ptr<FileHandle>& file) {
        oci::Digest got;
        if (!in.is_file) {
            got = oci::Digest::of(in.bytes);
        } else if (!m_gap && m_next == static_cast<std::uint64_t>(d.size)) {
            got = oci::Digest::from_sha256_hex(m_sha.hex_digest());
        } else {
            EDGESHIP_TRY_ASSIGN(got, oci::Digest::of_file(file->path()));
        }
        if (got != d.digest) {
            return fail((in.is_file ? file->path().string() : "blob " + d.digest.short_str()) +
                        ": digest mismatch: content hashes to " + got.str() + ", expected " + d.digest.str());
        }
        return {};
    }

    /// The digest of the bytes sent, when they were [0, size) read in one sequence.
    std::optional<oci::Digest> sent_digest(std::uint64_t size) {
        if (m_gap || m_next != size) {
            return std::nullopt;
        }
        return oci::Digest::from_sha256_hex(m_sha.hex_digest());
    }

private:
    core::Sha256 m_sha;
    std::uint64_t m_next = 0;
    bool m_gap = false;
    bool m_off = false;
};

} // namespace edgeship::registry::detail
