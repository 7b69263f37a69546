#include "oci/detail/files.hpp"

#include <cerrno>
#include <clocale>
#include <locale.h>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace edgeship::oci::detail {
namespace fs = std::filesystem;

Utf8Locale::Utf8Locale() {
    locale_t loc = ::newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (loc != static_cast<locale_t>(nullptr)) {
        m_new = loc;
        m_old = ::uselocale(loc);
    }
}

Utf8Locale::~Utf8Locale() {
    if (m_new != nullptr) {
        ::uselocale(static_cast<locale_t>(m_old));
        ::freelocale(static_cast<locale_t>(m_new));
    }
}

Result<TempFile> TempFile::create(const fs::path& dir, std::string_view prefix) {
    std::string tmpl = (dir / ("." + std::string(prefix) + "-XXXXXX")).string();
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0) {
        return fail(dir.string() + ": cannot create a temporary file: " + std::strerror(errno));
    }
    mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd, 0666 & ~mask);
    return TempFile(fs::path(tmpl), fd);
}

TempFile::TempFile(TempFile&& other) noexcept : m_path(std::move(other.m_path)), m_fd(other.m_fd), m_done(other.m_done) {
    other.m_fd = -1;
    other.m_done = true;
}

TempFile::~TempFile() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
    if (!m_done && !m_path.empty()) {
        ::unlink(m_path.c_str());
    }
}

Result<void> TempFile::write(std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(m_fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail(m_path.string() + ": write failed: " + std::strerror(errno));
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

Result<void> TempFile::commit_as(const fs::path& target, bool sync) {
    if (sync && ::fsync(m_fd) != 0) {
        return fail(target.string() + ": fsync failed: " + std::strerror(errno));
    }
    int rc = ::close(m_fd);
    m_fd = -1;
    if (rc != 0) {
        return fail(target.string() + ": close failed: " + std::strerror(errno));
    }
    if (::rename(m_path.c_str(), target.c_str()) != 0) {
        return fail(target.string() + ": rename failed: " + std::strerror(errno));
    }
    m_done = true;
    return {};
}

Result<void> read_chunks(const fs::path& path, const std::function<Result<void>(std::string_view)>& fn,
                         const core::CancelToken* cancel, std::size_t chunk) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fail(path.string() + ": " + std::strerror(errno));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    std::vector<char> buf(chunk);
    for (;;) {
        if (cancel != nullptr && cancel->cancelled()) {
            return unexpected(core::cancelled_error());
        }
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail(path.string() + ": read failed: " + std::strerror(errno));
        }
        if (n == 0) {
            return {};
        }
        EDGESHIP_TRY(fn(std::string_view(buf.data(), static_cast<std::size_t>(n))));
    }
}

Result<void> link_or_copy(const fs::path& src, const fs::path& dst) {
    std::error_code ec;
    if (fs::exists(dst, ec)) {
        return {};
    }
    if (::link(src.c_str(), dst.c_str()) == 0) {
        return {};
    }
    EDGESHIP_TRY_ASSIGN(auto tmp, TempFile::create(dst.parent_path(), "copy"));
    EDGESHIP_TRY(read_chunks(src, [&](std::string_view d) { return tmp.write(d); }));
    return tmp.commit_as(dst);
}

} // namespace edgeship::oci::detail
