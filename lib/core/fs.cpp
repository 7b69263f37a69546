#include "core/fs.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace edgeship::core {
namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) { return std::strerror(err); }

Result<struct stat> stat_regular(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        int err = errno;
        if (err == ENOENT) {
            return fail(path.string() + ": no such file");
        }
        return fail(path.string() + ": " + errno_text(err));
    }
    if (S_ISDIR(st.st_mode)) {
        return fail(path.string() + ": is a directory, not a file");
    }
    if (!S_ISREG(st.st_mode)) {
        return fail(path.string() + ": not a regular file");
    }
    return st;
}

} // namespace

Result<std::uint64_t> regular_file_size(const fs::path& path) {
    EDGESHIP_TRY_ASSIGN(auto st, stat_regular(path));
    return static_cast<std::uint64_t>(st.st_size);
}

Result<std::string> read_file(const fs::path& path) {
    EDGESHIP_TRY(stat_regular(path));
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fail(path.string() + ": " + errno_text(errno));
    }
    std::string data;
    struct stat st {};
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
        data.reserve(static_cast<std::size_t>(st.st_size));
    }
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int err = errno;
            ::close(fd);
            return fail(path.string() + ": read failed: " + errno_text(err));
        }
        if (n == 0) {
            break;
        }
        data.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return data;
}

Result<AtomicFile> AtomicFile::create(const fs::path& path) {
    fs::path dir = path.parent_path();
    if (dir.empty()) {
        dir = ".";
    }
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        return fail(path.string() + ": is a directory");
    }
    if (!fs::is_directory(dir, ec)) {
        return fail(path.string() + ": directory " + dir.string() + " does not exist");
    }
    std::string name = ".";
    name += path.filename().string();
    name += ".tmp-XXXXXX";
    std::string tmpl = (dir / name).string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) {
        return fail(path.string() + ": cannot create temporary file: " + errno_text(errno));
    }
    // mkstemp creates 0600; outputs are ordinary files, so honour the umask like a plain open() would.
    mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd, 0666 & ~mask);
    return AtomicFile(path, fs::path(tmpl), fd);
}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : m_target(std::move(other.m_target)), m_temp(std::move(other.m_temp)), m_fd(other.m_fd),
      m_committed(other.m_committed) {
    other.m_fd = -1;
    other.m_committed = true; // moved-from: nothing to clean
}

AtomicFile::~AtomicFile() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
    if (!m_committed && !m_temp.empty()) {
        ::unlink(m_temp.c_str());
    }
}

Result<void> AtomicFile::write(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(m_fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail(m_target.string() + ": write failed: " + errno_text(errno));
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

Result<void> AtomicFile::commit() {
    if (::fsync(m_fd) != 0) {
        return fail(m_target.string() + ": fsync failed: " + errno_text(errno));
    }
    if (::close(m_fd) != 0) {
        m_fd = -1;
        return fail(m_target.string() + ": close failed: " + errno_text(errno));
    }
    m_fd = -1;
    if (::rename(m_temp.c_str(), m_target.c_str()) != 0) {
        return fail(m_target.string() + ": rename failed: " + errno_text(errno));
    }
    m_committed = true;
    return {};
}

Result<void> write_file_atomic(const fs::path& path, std::string_view content) {
    EDGESHIP_TRY_ASSIGN(auto file, AtomicFile::create(path));
    EDGESHIP_TRY(file.write(content));
    return file.commit();
}

Result<TempDir> TempDir::create(const std::filesystem::path& parent, std::string_view prefix) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    std::string tmpl = (parent / (std::string(prefix) + "XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        return fail("cannot create a temporary directory in " + parent.string() + ": " + std::strerror(errno));
    }
    return TempDir(tmpl);
}

TempDir::TempDir(TempDir&& other) noexcept : m_path(std::move(other.m_path)) { other.m_path.clear(); }

TempDir::~TempDir() {
    if (!m_path.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
}

} // namespace edgeship::core
