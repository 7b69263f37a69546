#include "oci/layer_reader.hpp"

#include "core/sha256.hpp"
#include "oci/detail/files.hpp"
#include "oci/detail/paths.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <set>
#include <unistd.h>

namespace edgeship::oci {
namespace {

constexpr std::uint64_t k_progress_step = 1u << 20;

// Pulls the blob through sha256 → (gunzip) → sha256 → tar_sink and hands the uncompressed bytes to
// libarchive's read callback.
struct Source {
    int fd = -1;
    std::string what;
    const ScanOptions* options = nullptr;
    core::Sha256 blob_hash;
    core::Sha256 diff_hash;
    std::optional<GzipDecompressor> gunzip;
    bool detected = false;
    bool eof = false;
    std::uint64_t blob_size = 0;
    std::uint64_t tar_size = 0;
    std::uint64_t next_report = 0;
    std::string pending;
    std::string current;
    std::vector<char> in_buf = std::vector<char>(1 << 20);
    std::optional<Error> error;

    ~Source() {
        if (fd >= 0) {
            ::close(fd);
        }
    }

    Result<void> emit(std::string_view tar) {
        diff_hash.update(tar);
        tar_size += tar.size();
        if (options->tar_sink) {
            EDGESHIP_TRY(options->tar_sink(tar));
        }
        pending.append(tar);
        return {};
    }

    // Fills `current` with the next uncompressed bytes; false at the end of the blob.
    Result<bool> next() {
        current.clear();
        while (pending.empty()) {
            if (eof) {
                return false;
            }
            if (options->cancel != nullptr && options->cancel->cancelled()) {
                return unexpected(core::cancelled_error());
            }
            // gzip input goes in small pieces so one call's output stays bounded (deflate expands ≤ 1032×).
            std::size_t want = gunzip || !detected ? std::size_t(64) << 10 : in_buf.size();
            ssize_t n = ::read(fd, in_buf.data(), want);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return fail(what + ": read failed: " + std::strerror(errno));
            }
            std::string_view chunk(in_buf.data(), static_cast<std::size_t>(n));
            if (!detected) {
                detected = true;
                if (looks_like_gzip(chunk)) {
                    EDGESHIP_TRY_ASSIGN(auto g, GzipDecompressor::create(options->engine));
                    gunzip.emplace(std::move(g));
                }
            }
            if (n == 0) {
                eof = true;
                if (gunzip) {
                    auto done = gunzip->finish();
                    if (!done) {
                        return fail(what + ": " + done.error().message());
                    }
                }
                continue;
            }
            blob_hash.update(chunk);
            blob_size += chunk.size();
            if (gunzip) {
                auto r = gunzip->write(chunk, [this](std::string_view out) { return emit(out); });
                if (!r) {
                    return fail(what + ": " + r.error().message());
                }
            } else {
                EDGESHIP_TRY(emit(chunk));
            }
            if (options->progress && tar_size >= next_report) {
                next_report = tar_size + k_progress_step;
                options->progress(Progress{tar_size, 0, blob_size});
            }
        }
        current.swap(pending);
        return true;
    }
};

la_ssize_t read_cb(struct archive* a, void* client, const void** buffer) {
    auto* src = static_cast<Source*>(client);
    auto r = src->next();
    if (!r) {
        src->error = std::move(r).error();
        archive_set_error(a, EIO, "%s", src->error->message().c_str());
        return -1;
    }
    if (!*r) {
        *buffer = nullptr;
        return 0;
    }
    *buffer = src->current.data();
    return static_cast<la_ssize_t>(src->current.size());
}

struct ReaderDeleter {
    void operator()(struct archive* a) const { archive_read_free(a); }
};

TarEntryInfo::Type entry_type(archive_entry* e) {
    if (archive_entry_hardlink(e) != nullptr) {
        return TarEntryInfo::Type::hardlink;
    }
    switch (archive_entry_filetype(e)) {
    case AE_IFREG:
        return TarEntryInfo::Type::file;
    case AE_IFDIR:
        return TarEntryInfo::Type::directory;
    case AE_IFLNK:
        return TarEntryInfo::Type::symlink;
    default:
        return TarEntryInfo::Type::other;
    }
}

Result<void> check_member(const TarEntryInfo& info, std::set<std::string>& symlinks, const std::string& what) {
    auto member = what + ": member";
    std::string path;
    // A lone "./" (root) entry is common and harmless.
    if (info.type == TarEntryInfo::Type::directory && detail::split_path(info.path).size() <= 1 &&
        (info.path == "." || info.path == "./")) {
        return {};
    }
    EDGESHIP_TRY_ASSIGN(path, detail::normalize_entry_path(info.path, member));
    auto comps = detail::split_path(path);
    std::string prefix;
    for (std::size_t i = 0; i + 1 < comps.size(); ++i) {
        prefix += (i ? "/" : "") + std::string(comps[i]);
        if (symlinks.count(prefix) != 0) {
            return fail(member + " \"" + info.path + "\": is reached through the symlink \"" + prefix +
                        "\" of the same layer");
        }
    }
    if (info.type == TarEntryInfo::Type::symlink) {
        if (detail::symlink_escapes(path, info.link_target)) {
            return fail(member + " \"" + info.path + "\": symlink target \"" + info.link_target +
                        "\" escapes the image root");
        }
        symlinks.insert(path);
    } else {
        symlinks.erase(path);
    }
    if (info.type == TarEntryInfo::Type::hardlink) {
        EDGESHIP_TRY(detail::normalize_entry_path(info.link_target, member + " \"" + info.path + "\": hardlink target"));
    }
    return {};
}

} // namespace

Result<LayerScan> scan_layer(const std::filesystem::path& blob, std::string_view what_view, const ScanOptions& options) {
    detail::Utf8Locale utf8_names;
    std::string what(what_view);
    Source src;
    src.what = what;
    src.options = &options;
    src.fd = ::open(blob.c_str(), O_RDONLY | O_CLOEXEC);
    if (src.fd < 0) {
        return fail(what + ": " + blob.string() + ": " + std::strerror(errno));
    }
    std::unique_ptr<struct archive, ReaderDeleter> a(archive_read_new());
    archive_read_support_format_tar(a.get());
    archive_read_support_filter_none(a.get());
    if (archive_read_open2(a.get(), &src, nullptr, read_cb, nullptr, nullptr) != ARCHIVE_OK) {
        if (src.error) {
            return unexpected(*src.error);
        }
        return fail(what + ": not a tar archive: " + archive_error_string(a.get()));
    }
    LayerScan scan;
    std::set<std::string> symlinks;
    for (;;) {
        archive_entry* e = nullptr;
        int rc = archive_read_next_header(a.get(), &e);
        if (rc == ARCHIVE_EOF) {
            break;
        }
        if (rc < ARCHIVE_WARN) {
            if (src.error) {
                return unexpected(*src.error);
            }
            return fail(what + ": malformed tar: " + archive_error_string(a.get()));
        }
        TarEntryInfo info;
        info.type = entry_type(e);
        const char* p = archive_entry_pathname_utf8(e);
        info.path = p ? p : (archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
        if (info.type == TarEntryInfo::Type::hardlink) {
            info.link_target = archive_entry_hardlink(e);
        } else if (info.type == TarEntryInfo::Type::symlink) {
            const char* t = archive_entry_symlink_utf8(e);
            info.link_target = t ? t : (archive_entry_symlink(e) ? archive_entry_symlink(e) : "");
        }
        info.mode = archive_entry_perm(e);
        info.size = static_cast<std::uint64_t>(archive_entry_size(e));
        info.mtime = archive_entry_mtime(e);
        info.uid = archive_entry_uid(e);
        info.gid = archive_entry_gid(e);
        info.uname = archive_entry_uname(e) ? archive_entry_uname(e) : "";
        info.gname = archive_entry_gname(e) ? archive_entry_gname(e) : "";
        info.has_pax_times = archive_entry_atime_is_set(e) || archive_entry_ctime_is_set(e);
        if (options.check_safety) {
            EDGESHIP_TRY(check_member(info, symlinks, what));
        }
        if (archive_read_data_skip(a.get()) < ARCHIVE_WARN) {
            if (src.error) {
                return unexpected(*src.error);
            }
            return fail(what + ": malformed tar: " + archive_error_string(a.get()));
        }
        if (options.keep_entries) {
            scan.entries.push_back(std::move(info));
        }
    }
    // Whatever follows the end-of-archive marker (record padding) is part of the DiffID too.
    for (;;) {
        EDGESHIP_TRY_ASSIGN(bool more, src.next());
        if (!more) {
            break;
        }
    }
    scan.digest = Digest::from_sha256_hex(src.blob_hash.hex_digest());
    scan.size = src.blob_size;
    scan.diff_id = Digest::from_sha256_hex(src.diff_hash.hex_digest());
    scan.uncompressed_size = src.tar_size;
    scan.compression = src.gunzip ? Compression::gzip : Compression::none;
    if (options.progress) {
        options.progress(Progress{src.tar_size, src.tar_size, src.blob_size});
    }
    return scan;
}

} // namespace edgeship::oci
