#pragma once

#include "core/result.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace edgeship::core {

/// Reads a whole regular file. Errors name the path: missing file, a directory, unreadable.
Result<std::string> read_file(const std::filesystem::path& path);

/// Size of a regular file, with the same errors as read_file.
Result<std::uint64_t> regular_file_size(const std::filesystem::path& path);

/// Writes a file atomically (Bear's Output.cc): a temporary file in the same directory, flushed and
/// fsync'ed, then renamed over `path`. On any error the temporary is removed and `path` is untouched.
/// `path` "-" is not handled here; the CLI maps it to stdout.
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content);

/// A file being written atomically in pieces. commit() renames it into place; the destructor removes
/// the temporary if commit() was not reached, so an error or Ctrl-C leaves nothing half-written.
/// Not copyable; movable. One writer per instance.
class AtomicFile {
public:
    static Result<AtomicFile> create(const std::filesystem::path& path);
    AtomicFile(AtomicFile&& other) noexcept;
    AtomicFile& operator=(AtomicFile&&) = delete;
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile();

    Result<void> write(std::string_view data);
    Result<void> commit();
    const std::filesystem::path& temp_path() const { return m_temp; }

private:
    AtomicFile(std::filesystem::path target, std::filesystem::path temp, int fd)
        : m_target(std::move(target)), m_temp(std::move(temp)), m_fd(fd) {}
    std::filesystem::path m_target;
    std::filesystem::path m_temp;
    int m_fd = -1;
    bool m_committed = false;
};

/// A private directory (mode 0700, mkdtemp) removed with its contents when destroyed, on every path
/// out of a build, a conversion or a tool run. Movable, not copyable.
class TempDir {
public:
    /// `parent`/`prefix`XXXXXX; `parent` is created when missing.
    static Result<TempDir> create(const std::filesystem::path& parent, std::string_view prefix);
    TempDir(TempDir&& other) noexcept;
    TempDir& operator=(TempDir&&) = delete;
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir();
    const std::filesystem::path& path() const { return m_path; }

private:
    explicit TempDir(std::filesystem::path p) : m_path(std::move(p)) {}
    std::filesystem::path m_path;
};

} // namespace edgeship::core
