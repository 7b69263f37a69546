#include "oci/layer.hpp"

#include "oci/detail/async_sha256.hpp"
#include "oci/detail/files.hpp"
#include "oci/detail/paths.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace edgeship::oci {
namespace fs = std::filesystem;

LayerEntry LayerEntry::file(std::string path, fs::path source, std::optional<std::uint32_t> mode) {
    LayerEntry e;
    e.type = Type::file;
    e.path = std::move(path);
    e.source_file = std::move(source);
    e.mode = mode;
    return e;
}

LayerEntry LayerEntry::bytes(std::string path, std::string content, std::optional<std::uint32_t> mode) {
    LayerEntry e;
    e.type = Type::file;
    e.path = std::move(path);
    e.content = std::move(content);
    e.mode = mode;
    return e;
}

LayerEntry LayerEntry::directory(std::string path, std::optional<std::uint32_t> mode) {
    LayerEntry e;
    e.type = Type::directory;
    e.path = std::move(path);
    e.mode = mode;
    return e;
}

LayerEntry LayerEntry::symlink(std::string path, std::string target) {
    LayerEntry e;
    e.type = Type::symlink;
    e.path = std::move(path);
    e.link_target = std::move(target);
    return e;
}

LayerEntry LayerEntry::whiteout(std::string_view path) {
    std::string p(path);
    while (p.size() > 1 && p.back() == '/') {
        p.pop_back();
    }
    auto slash = p.rfind('/');
    std::string dir = slash == std::string::npos ? "" : p.substr(0, slash + 1);
    std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
    return bytes(dir + ".wh." + name, "");
}

LayerEntry LayerEntry::opaque_whiteout(std::string_view dir) {
    std::string d(dir);
    if (!d.empty() && d.back() != '/') {
        d += '/';
    }
    return bytes(d + ".wh..wh..opq", "");
}

std::int64_t layer_epoch(const LayerOptions& options) { return options.source_date_epoch.value_or(k_default_epoch); }

Result<std::int64_t> parse_source_date_epoch(std::string_view text) {
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < 0) {
        return fail("SOURCE_DATE_EPOCH=\"" + std::string(text) +
                    "\": must be a non-negative integer (seconds since 1970-01-01 UTC)");
    }
    return v;
}

Result<std::vector<LayerEntry>> entries_from_directory(const fs::path& dir, std::string_view image_dir) {
    std::error_code ec;
    auto st = fs::symlink_status(dir, ec);
    if (ec || !fs::exists(st)) {
        return fail(dir.string() + ": no such directory");
    }
    if (!fs::is_directory(st)) {
        return fail(dir.string() + ": not a directory");
    }
    std::string prefix;
    if (!image_dir.empty() && image_dir != "/" && image_dir != ".") {
        EDGESHIP_TRY_ASSIGN(prefix, detail::normalize_image_dir(image_dir, "image directory"));
    }
    auto join = [&](const fs::path& rel) {
        std::string r = rel.generic_string();
        return prefix.empty() ? r : prefix + "/" + r;
    };
    std::vector<LayerEntry> out;
    if (!prefix.empty()) {
        out.push_back(LayerEntry::directory(prefix));
    }
    fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
    if (ec) {
        return fail(dir.string() + ": cannot list: " + ec.message());
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) {
            return fail(dir.string() + ": cannot list: " + ec.message());
        }
        const auto& p = it->path();
        auto rel = p.lexically_relative(dir);
        auto s = it->symlink_status(ec);
        if (ec) {
            return fail(p.string() + ": " + ec.message());
        }
        if (fs::is_symlink(s)) {
            auto target = fs::read_symlink(p, ec);
            if (ec) {
                return fail(p.string() + ": cannot read link: " + ec.message());
            }
            out.push_back(LayerEntry::symlink(join(rel), target.string()));
        } else if (fs::is_directory(s)) {
            out.push_back(LayerEntry::directory(join(rel)));
        } else if (fs::is_regular_file(s)) {
            out.push_back(LayerEntry::file(join(rel), p));
        } else {
            return fail(p.string() + ": unsupported file type (only files, directories and symlinks go into a layer)");
        }
    }
    return out;
}

namespace {

struct Planned {
    LayerEntry::Type type;
    std::string path;
    const LayerEntry* source = nullptr; // null for implicit parent directories
    std::uint32_t mode = 0;
    std::uint64_t size = 0;
};

// libarchive client state: every block goes through the LayerBlobWriter.
struct WriteContext {
    LayerBlobWriter* writer;
    std::optional<Error> error;
    bool discard = false; // after an error: let libarchive's close/free finish without failing
};

// On an early return, libarchive's free() still closes the archive and flushes padding; letting that
// succeed (into the discarded temporary file) avoids a leak in libarchive's failure path.
struct DiscardOnExit {
    WriteContext& ctx;
    ~DiscardOnExit() { ctx.discard = true; }
};

la_ssize_t write_cb(struct archive*, void* client, const void* buffer, size_t length) {
    auto* ctx = static_cast<WriteContext*>(client);
    if (ctx->discard) {
        return static_cast<la_ssize_t>(length);
    }
    auto r = ctx->writer->write(std::string_view(static_cast<const char*>(buffer), length));
    if (!r) {
        // Not -1: libarchive's fatal state leaks its client filter on free. The error is kept here and
        // checked after every libarchive call; later bytes are dropped.
        ctx->error = std::move(r).error();
        ctx->discard = true;
    }
    return static_cast<la_ssize_t>(length);
}

struct ArchiveDeleter {
    void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};

Result<std::vector<Planned>> plan(const std::vector<LayerEntry>& entries) {
    std::map<std::string, Planned, bool (*)(const std::string&, const std::string&)> by_path(
        [](const std::string& a, const std::string& b) { return detail::path_less(a, b); });
    for (const auto& e : entries) {
        EDGESHIP_TRY_ASSIGN(auto path, detail::normalize_entry_path(e.path, "layer entry"));
        Planned p;
        p.type = e.type;
        p.path = path;
        p.source = &e;
        switch (e.type) {
        case LayerEntry::Type::directory:
            p.mode = e.mode.value_or(0755) & 07777;
            break;
        case LayerEntry::Type::symlink:
            if (e.link_target.empty()) {
                return fail("layer entry \"" + path + "\": empty symlink target");
            }
            if (detail::symlink_escapes(path, e.link_target)) {
                return fail("layer entry \"" + path + "\": symlink target \"" + e.link_target +
                            "\" escapes the image root");
            }
            p.mode = 0777;
            break;
        case LayerEntry::Type::file:
            if (e.content) {
                p.size = e.content->size();
                p.mode = e.mode.value_or(0644) & 07777;
            } else {
                struct stat st {};
                if (::stat(e.source_file.c_str(), &st) != 0) {
                    return fail("layer entry \"" + path + "\": " + e.source_file.string() + ": " + std::strerror(errno));
                }
                if (!S_ISREG(st.st_mode)) {
                    return fail("layer entry \"" + path + "\": " + e.source_file.string() + ": not a regular file");
                }
                p.size = static_cast<std::uint64_t>(st.st_size);
                p.mode = e.mode.value_or((st.st_mode & S_IXUSR) ? 0755 : 0644) & 07777;
            }
            break;
        }
        auto [it, inserted] = by_path.emplace(path, p);
        if (!inserted) {
            // A directory listed twice (explicitly, or also implied) is harmless; anything else is a clash.
            if (!(it->second.type == LayerEntry::Type::directory && p.type == LayerEntry::Type::directory)) {
                return fail("layer entry \"" + path + "\": listed twice");
            }
        }
    }
    // Parents of every entry, added as 0755 directories when not listed; a non-directory parent is an error.
    std::vector<Planned> parents;
    for (const auto& [path, p] : by_path) {
        auto comps = detail::split_path(path);
        std::string prefix;
        for (std::size_t i = 0; i + 1 < comps.size(); ++i) {
            prefix += (i ? "/" : "") + std::string(comps[i]);
            auto found = by_path.find(prefix);
            if (found != by_path.end()) {
                if (found->second.type != LayerEntry::Type::directory) {
                    return fail("layer entry \"" + path + "\": parent \"" + prefix + "\" is not a directory");
                }
                continue;
            }
            parents.push_back(Planned{LayerEntry::Type::directory, prefix, nullptr, 0755, 0});
        }
    }
    for (auto& p : parents) {
        by_path.emplace(p.path, p);
    }
    std::vector<Planned> out;
    out.reserve(by_path.size());
    for (auto& [path, p] : by_path) {
        out.push_back(p);
    }
    return out;
}

Result<void> copy_file_data(struct archive* a, const Planned& p, WriteContext& ctx, const LayerOptions& options,
                            detail::AsyncSha256* content_hash) {
    const auto& src = p.source->source_file;
    int fd = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fail("layer entry \"" + p.path + "\": " + src.string() + ": " + std::strerror(errno));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    std::vector<char> buf(1 << 20);
    std::uint64_t done = 0;
    for (;;) {
        if (options.blob.cancel != nullptr && options.blob.cancel->cancelled()) {
            return unexpected(core::cancelled_error());
        }
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail("layer entry \"" + p.path + "\": " + src.string() + ": read failed: " + std::strerror(errno));
        }
        if (n == 0) {
            break;
        }
        if (done + static_cast<std::uint64_t>(n) > p.size) {
            return fail("layer entry \"" + p.path + "\": " + src.string() + " grew while it was read");
        }
        if (content_hash != nullptr) {
            content_hash->update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
        }
        if (archive_write_data(a, buf.data(), static_cast<std::size_t>(n)) < 0 || ctx.error) {
            if (ctx.error) {
                return unexpected(*ctx.error);
            }
            return fail("layer entry \"" + p.path + "\": tar: " + archive_error_string(a));
        }
        done += static_cast<std::uint64_t>(n);
    }
    if (done != p.size) {
        return fail("layer entry \"" + p.path + "\": " + src.string() + " shrank while it was read");
    }
    return {};
}

} // namespace

Result<LayerBlob> build_layer(std::vector<LayerEntry> entries, const fs::path& out_dir, const LayerOptions& options) {
    detail::Utf8Locale utf8_names;
    EDGESHIP_TRY_ASSIGN(auto planned, plan(entries));
    BlobWriterOptions blob_options = options.blob;
    if (blob_options.expected_total == 0) {
        for (const auto& p : planned) {
            blob_options.expected_total += p.size;
        }
    }
    EDGESHIP_TRY_ASSIGN(auto writer, LayerBlobWriter::create(out_dir, std::move(blob_options)));
    WriteContext ctx{&writer, std::nullopt};

    std::unique_ptr<struct archive, ArchiveDeleter> a(archive_write_new());
    if (!a) {
        return fail("libarchive: cannot allocate a writer");
    }
    DiscardOnExit discard_on_exit{ctx};
    // PAX restricted: plain ustar headers unless a name, link or size needs a PAX record; no
    // atime/ctime records (docs/design/registry.md §8.1). Block size 0: no record padding, data goes
    // straight to the pipeline.
    if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(a.get(), 0) != ARCHIVE_OK ||
        archive_write_open2(a.get(), &ctx, nullptr, write_cb, nullptr, nullptr) != ARCHIVE_OK) {
        return fail(std::string("libarchive: cannot open the tar writer: ") + archive_error_string(a.get()));
    }
    const std::int64_t mtime = layer_epoch(options);
    std::map<fs::path, std::string> source_sha256;
    auto tar_error = [&](const std::string& path) -> Error {
        if (ctx.error) {
            return *ctx.error;
        }
        const char* msg = archive_error_string(a.get());
        return Error("layer entry \"" + path + "\": tar: " + (msg ? msg : "write failed"));
    };
    for (const auto& p : planned) {
        std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
        archive_entry_set_pathname_utf8(e.get(), p.path.c_str());
        archive_entry_set_uid(e.get(), 0);
        archive_entry_set_gid(e.get(), 0);
        archive_entry_set_mtime(e.get(), mtime, 0);
        switch (p.type) {
        case LayerEntry::Type::directory:
            archive_entry_set_filetype(e.get(), AE_IFDIR);
            archive_entry_set_size(e.get(), 0);
            break;
        case LayerEntry::Type::symlink:
            archive_entry_set_filetype(e.get(), AE_IFLNK);
            archive_entry_set_symlink_utf8(e.get(), p.source->link_target.c_str());
            archive_entry_set_size(e.get(), 0);
            break;
        case LayerEntry::Type::file:
            archive_entry_set_filetype(e.get(), AE_IFREG);
            archive_entry_set_size(e.get(), static_cast<la_int64_t>(p.size));
            break;
        }
        archive_entry_set_perm(e.get(), static_cast<mode_t>(p.mode));
        if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK || ctx.error) {
            return unexpected(tar_error(p.path));
        }
        if (p.type == LayerEntry::Type::file) {
            if (p.source->content) {
                const auto& c = *p.source->content;
                if ((!c.empty() && archive_write_data(a.get(), c.data(), c.size()) < 0) || ctx.error) {
                    return unexpected(tar_error(p.path));
                }
            } else if (std::find(options.hash_sources.begin(), options.hash_sources.end(), p.source->source_file) !=
                       options.hash_sources.end()) {
                detail::AsyncSha256 content_hash;
                EDGESHIP_TRY(copy_file_data(a.get(), p, ctx, options, &content_hash));
                source_sha256[p.source->source_file] = content_hash.hex_digest();
            } else {
                EDGESHIP_TRY(copy_file_data(a.get(), p, ctx, options, nullptr));
            }
        }
        if (archive_write_finish_entry(a.get()) != ARCHIVE_OK || ctx.error) {
            return unexpected(tar_error(p.path));
        }
    }
    if (archive_write_close(a.get()) != ARCHIVE_OK || ctx.error) {
        return unexpected(tar_error("(end of archive)"));
    }
    EDGESHIP_TRY_ASSIGN(auto blob, writer.commit());
    blob.source_sha256 = std::move(source_sha256);
    return blob;
}

} // namespace edgeship::oci
