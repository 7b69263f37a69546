#pragma once

// Helpers for lib/oci tests: raw tarballs written with libarchive (to forge malicious layers), gzip
// with zlib, and an independent tar reader — so tests do not check lib/oci with itself.

#include "test_support.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace edgeship::test {

struct RawMember {
    RawMember(std::string p, char t = 'f', std::string c = {}, std::string l = {}, unsigned m = 0644)
        : path(std::move(p)), type(t), content(std::move(c)), link(std::move(l)), mode(m) {}
    std::string path;
    char type = 'f'; // f file, d dir, l symlink, h hardlink
    std::string content;
    std::string link;
    unsigned mode = 0644;
};

/// A plain (uncompressed) ustar/pax tarball of the given members, in order, as bytes.
inline std::string make_tar(const std::vector<RawMember>& members) {
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_set_bytes_per_block(a, 0);
    std::string out;
    archive_write_open2(
        a, &out, nullptr,
        [](struct archive*, void* client, const void* buf, size_t len) -> la_ssize_t {
            static_cast<std::string*>(client)->append(static_cast<const char*>(buf), len);
            return static_cast<la_ssize_t>(len);
        },
        nullptr, nullptr);
    for (const auto& m : members) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, m.path.c_str());
        archive_entry_set_perm(e, m.mode);
        switch (m.type) {
        case 'd':
            archive_entry_set_filetype(e, AE_IFDIR);
            break;
        case 'l':
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, m.link.c_str());
            break;
        case 'h':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, m.link.c_str());
            break;
        default:
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, static_cast<la_int64_t>(m.content.size()));
        }
        archive_write_header(a, e);
        if (m.type == 'f' && !m.content.empty()) {
            archive_write_data(a, m.content.data(), m.content.size());
        }
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

/// gzip (zlib, default level) of bytes.
inline std::string zlib_gzip(const std::string& data) {
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    std::string out(deflateBound(&z, data.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

/// gunzip with zlib; throws on error or truncation.
inline std::string zlib_gunzip(const std::string& data) {
    z_stream z{};
    inflateInit2(&z, 15 + 16);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    std::string out;
    char buf[65536];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&z);
            throw std::runtime_error("zlib_gunzip failed");
        }
        out.append(buf, sizeof buf - z.avail_out);
    }
    inflateEnd(&z);
    return out;
}

/// A member as libarchive reads it back.
struct ReadMember {
    std::string path;
    int filetype = 0;
    unsigned perm = 0;
    std::int64_t size = 0;
    std::int64_t mtime = 0;
    std::int64_t uid = -1;
    std::int64_t gid = -1;
    std::string uname;
    std::string gname;
    std::string symlink;
    std::string content;
    bool atime = false;
    bool ctime = false;
};

/// Reads a tar or tar.gz file with libarchive (all filters), contents included.
inline std::vector<ReadMember> read_tar_file(const std::filesystem::path& path) {
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_filter_all(a);
    if (archive_read_open_filename(a, path.c_str(), 65536) != ARCHIVE_OK) {
        archive_read_free(a);
        throw std::runtime_error("cannot open " + path.string());
    }
    std::vector<ReadMember> out;
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        ReadMember m;
        m.path = archive_entry_pathname(e);
        m.filetype = static_cast<int>(archive_entry_filetype(e));
        m.perm = archive_entry_perm(e);
        m.size = archive_entry_size(e);
        m.mtime = archive_entry_mtime(e);
        m.uid = archive_entry_uid(e);
        m.gid = archive_entry_gid(e);
        m.uname = archive_entry_uname(e) ? archive_entry_uname(e) : "";
        m.gname = archive_entry_gname(e) ? archive_entry_gname(e) : "";
        m.symlink = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
        m.atime = archive_entry_atime_is_set(e);
        m.ctime = archive_entry_ctime_is_set(e);
        char buf[65536];
        la_ssize_t n = 0;
        while ((n = archive_read_data(a, buf, sizeof buf)) > 0) {
            m.content.append(buf, static_cast<std::size_t>(n));
        }
        out.push_back(std::move(m));
    }
    archive_read_free(a);
    return out;
}

inline std::size_t count_files(const std::filesystem::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) {
        ++n;
    }
    return n;
}

} // namespace edgeship::test
