#pragma once

// Private file helpers for lib/oci: a temporary file committed under a name known only at the end
// (a content digest), chunked reads, and copy-or-hardlink of blobs.
// TODO(oci): core::AtomicFile could grow commit_as(path); then TempFile moves there.

#include "core/cancel.hpp"
#include "core/result.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

namespace edgeship::oci::detail {

/// Switches the calling thread (only) to a UTF-8 LC_CTYPE while libarchive converts path names, so
/// non-ASCII names are written as UTF-8 PAX records whatever the process locale (often "C").
/// uselocale() is per thread: other threads and the process locale are untouched.
class Utf8Locale {
public:
    Utf8Locale();
    ~Utf8Locale();
    Utf8Locale(const Utf8Locale&) = delete;
    Utf8Locale& operator=(const Utf8Locale&) = delete;

private:
    void* m_new = nullptr;
    void* m_old = nullptr;
};

class TempFile {
public:
    /// Creates `dir/.<prefix>-XXXXXX` (mode honours the umask).
    static Result<TempFile> create(const std::filesystem::path& dir, std::string_view prefix);
    TempFile(TempFile&& other) noexcept;
    TempFile& operator=(TempFile&&) = delete;
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile();

    Result<void> write(std::string_view data);
    /// fsync (when `sync`), close, rename to `target`. After this the destructor leaves the file alone.
    Result<void> commit_as(const std::filesystem::path& target, bool sync = true);
    const std::filesystem::path& path() const { return m_path; }

private:
    TempFile(std::filesystem::path path, int fd) : m_path(std::move(path)), m_fd(fd) {}
    std::filesystem::path m_path;
    int m_fd = -1;
    bool m_done = false;
};

/// Calls `fn` with successive chunks of the file (1 MiB). Polls `cancel` between chunks.
Result<void> read_chunks(const std::filesystem::path& path, const std::function<Result<void>(std::string_view)>& fn,
                         const core::CancelToken* cancel = nullptr, std::size_t chunk = 1 << 20);

/// Makes `dst` hold the bytes of `src`: a hard link when possible, else a copy through a temporary
/// file renamed into place. No-op when `dst` already exists (content-addressed blobs).
Result<void> link_or_copy(const std::filesystem::path& src, const std::filesystem::path& dst);

} // namespace edgeship::oci::detail
