#include "oci/docker_archive.hpp"

#include "core/sha256.hpp"
#include "oci/detail/files.hpp"
#include "oci/detail/paths.hpp"
#include "oci/json.hpp"
#include "oci/layer.hpp"
#include "oci/layer_reader.hpp"
#include "oci/media_types.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <map>
#include <optional>
#include <set>

namespace edgeship::oci {
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t k_max_json_member = 64 << 20;

// ------------------------------------------------------------------------------------------------
// Writing

struct WriteCtx {
    detail::TempFile* file;
    std::optional<Error> error;
    bool discard = false; // see layer.cpp: let libarchive's free() finish quietly after an error
};

struct DiscardOnExit {
    WriteCtx& ctx;
    ~DiscardOnExit() { ctx.discard = true; }
};

la_ssize_t archive_write_cb(struct archive*, void* client, const void* buffer, size_t length) {
    auto* ctx = static_cast<WriteCtx*>(client);
    if (ctx->discard) {
        return static_cast<la_ssize_t>(length);
    }
    auto r = ctx->file->write(std::string_view(static_cast<const char*>(buffer), length));
    if (!r) {
        // Not -1 (libarchive leaks on its fatal path): kept and checked after every call.
        ctx->error = std::move(r).error();
        ctx->discard = true;
    }
    return static_cast<la_ssize_t>(length);
}

struct WriterDeleter {
    void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ReaderDeleter {
    void operator()(struct archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};

class TarOut {
public:
    TarOut(struct archive* a, WriteCtx* ctx, std::string archive_name)
        : m_a(a), m_ctx(ctx), m_name(std::move(archive_name)) {}

    Error error(const std::string& member) const {
        if (m_ctx->error) {
            return *m_ctx->error;
        }
        const char* msg = archive_error_string(m_a);
        return Error(m_name + ": writing " + member + ": " + (msg ? msg : "tar error"));
    }
    Result<void> header(const std::string& name, std::uint64_t size) {
        std::unique_ptr<archive_entry, EntryDeleter> e(archive_entry_new());
        archive_entry_set_pathname_utf8(e.get(), name.c_str());
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), 0644);
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
        archive_entry_set_uid(e.get(), 0);
        archive_entry_set_gid(e.get(), 0);
        archive_entry_set_mtime(e.get(), k_default_epoch, 0);
        if (archive_write_header(m_a, e.get()) != ARCHIVE_OK || m_ctx->error) {
            return unexpected(error(name));
        }
        return {};
    }
    Result<void> data(const std::string& name, std::string_view d) {
        while (!d.empty()) {
            la_ssize_t n = archive_write_data(m_a, d.data(), d.size());
            if (n <= 0 || m_ctx->error) {
                return unexpected((n < 0 || m_ctx->error) ? error(name)
                                                          : Error(m_name + ": writing " + name + ": more data than its size"));
            }
            d.remove_prefix(static_cast<std::size_t>(n));
        }
        return {};
    }
    Result<void> finish(const std::string& name) {
        if (archive_write_finish_entry(m_a) != ARCHIVE_OK || m_ctx->error) {
            return unexpected(error(name));
        }
        return {};
    }
    Result<void> small(const std::string& name, std::string_view content) {
        EDGESHIP_TRY(header(name, content.size()));
        EDGESHIP_TRY(data(name, content));
        return finish(name);
    }

private:
    struct archive* m_a;
    WriteCtx* m_ctx;
    std::string m_name;
};

Result<void> write_layer_member(TarOut& out, const ImageLayer& layer, std::size_t i, const std::string& member,
                                const DockerArchiveWriteOptions& options) {
    std::string what = "layer " + std::to_string(i) + " (" + layer.descriptor.digest.short_str() + ")";
    bool gz = media_type::is_gzip_layer(layer.descriptor.media_type);
    if (!gz && !media_type::is_tar_layer(layer.descriptor.media_type)) {
        return fail(what + ": unsupported layer media type \"" + layer.descriptor.media_type + "\"");
    }
    EDGESHIP_TRY_ASSIGN(const auto path, layer.require_file("layer"));
    std::uint64_t size = 0;
    if (!gz) {
        size = static_cast<std::uint64_t>(layer.descriptor.size);
    } else if (layer.uncompressed_size) {
        size = *layer.uncompressed_size;
    } else {
        // The tar header needs the uncompressed size first: one counting pass (which checks the DiffID too).
        ScanOptions so;
        so.keep_entries = false;
        so.check_safety = false;
        so.cancel = options.cancel;
        EDGESHIP_TRY_ASSIGN(auto scan, scan_layer(path, what, so));
        if (scan.diff_id != layer.diff_id) {
            return fail(what + ": DiffID " + scan.diff_id.str() + " does not match the config's " + layer.diff_id.str());
        }
        size = scan.uncompressed_size;
    }
    EDGESHIP_TRY(out.header(member, size));
    std::uint64_t written = 0;
    auto sink = [&](std::string_view d) -> Result<void> {
        written += d.size();
        if (written > size) {
            return fail(what + ": more uncompressed bytes than expected (" + std::to_string(size) + ")");
        }
        return out.data(member, d);
    };
    Digest diff_id;
    if (gz) {
        ScanOptions so;
        so.keep_entries = false;
        so.check_safety = false;
        so.tar_sink = sink;
        so.progress = options.progress;
        so.cancel = options.cancel;
        EDGESHIP_TRY_ASSIGN(auto scan, scan_layer(path, what, so));
        diff_id = scan.diff_id;
    } else {
        core::Sha256 h;
        EDGESHIP_TRY(detail::read_chunks(
            path,
            [&](std::string_view d) -> Result<void> {
                h.update(d);
                return sink(d);
            },
            options.cancel));
        diff_id = Digest::from_sha256_hex(h.hex_digest());
    }
    if (written != size) {
        return fail(what + ": " + std::to_string(written) + " uncompressed bytes, expected " + std::to_string(size));
    }
    if (diff_id != layer.diff_id) {
        return fail(what + ": DiffID " + diff_id.str() + " does not match the config's " + layer.diff_id.str());
    }
    return out.finish(member);
}

// ------------------------------------------------------------------------------------------------
// Reading

std::string clean_member(std::string_view name) {
    std::string out;
    for (auto c : detail::split_path(name)) {
        if (c == ".") {
            continue;
        }
        if (!out.empty()) {
            out += '/';
        }
        out.append(c);
    }
    return out;
}

// Resolves a member name through the archive's symlinks/hardlinks (docker save links duplicate layers).
Result<std::string> resolve_member(std::string name, const std::map<std::string, std::string>& links,
                                   const std::string& what) {
    for (int hops = 0; hops < 16; ++hops) {
        auto it = links.find(name);
        if (it == links.end()) {
            return name;
        }
        name = it->second;
    }
    return fail(what + ": member links loop at \"" + name + "\"");
}

struct Pass {
    std::unique_ptr<struct archive, ReaderDeleter> a;
};

Result<Pass> open_archive(const fs::path& path) {
    Pass p{std::unique_ptr<struct archive, ReaderDeleter>(archive_read_new())};
    archive_read_support_format_tar(p.a.get());
    archive_read_support_filter_gzip(p.a.get());
    archive_read_support_filter_none(p.a.get());
    if (archive_read_open_filename(p.a.get(), path.c_str(), 1 << 20) != ARCHIVE_OK) {
        return fail(path.string() + ": not a docker-archive (tar): " + archive_error_string(p.a.get()));
    }
    return p;
}

Result<std::string> read_member_data(struct archive* a, const std::string& what, const std::string& member) {
    std::string out;
    const void* buf = nullptr;
    size_t len = 0;
    la_int64_t off = 0;
    for (;;) {
        int rc = archive_read_data_block(a, &buf, &len, &off);
        if (rc == ARCHIVE_EOF) {
            return out;
        }
        if (rc < ARCHIVE_WARN) {
            return fail(what + ": reading " + member + ": " + archive_error_string(a));
        }
        if (static_cast<std::size_t>(off) > out.size()) {
            out.resize(static_cast<std::size_t>(off), '\0');
        }
        out.append(static_cast<const char*>(buf), len);
        if (out.size() > static_cast<std::size_t>(k_max_json_member)) {
            return fail(what + ": " + member + " is too large");
        }
    }
}

std::optional<std::string> digest_hex_in_name(const std::string& name) {
    auto base = name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
    if (base.size() == 69 && base.ends_with(".json") && is_sha256_hex(base.substr(0, 64))) {
        return base.substr(0, 64);
    }
    if (name.starts_with("blobs/sha256/") && is_sha256_hex(base)) {
        return base;
    }
    return std::nullopt;
}

} // namespace

Result<void> write_docker_archive(const LocalImage& image, const fs::path& archive,
                                  const DockerArchiveWriteOptions& options) {
    detail::Utf8Locale utf8_names;
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        if (i >= image.parsed_config.diff_ids.size() || image.layers[i].diff_id != image.parsed_config.diff_ids[i]) {
            return fail(archive.string() + ": layer " + std::to_string(i) + " (" +
                        image.layers[i].descriptor.digest.short_str() + "): DiffID " + image.layers[i].diff_id.str() +
                        " does not match the config's rootfs.diff_ids[" + std::to_string(i) + "]");
        }
    }
    if (image.layers.size() != image.parsed_config.diff_ids.size()) {
        return fail(archive.string() + ": the image has " + std::to_string(image.layers.size()) +
                    " layers but its config lists " + std::to_string(image.parsed_config.diff_ids.size()) + " diff_ids");
    }
    auto dir = archive.parent_path().empty() ? fs::path(".") : archive.parent_path();
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return fail(archive.string() + ": directory " + dir.string() + " does not exist");
    }
    EDGESHIP_TRY_ASSIGN(auto file, detail::TempFile::create(dir, archive.filename().string()));
    WriteCtx ctx{&file, std::nullopt};
    std::unique_ptr<struct archive, WriterDeleter> a(archive_write_new());
    DiscardOnExit discard_on_exit{ctx};
    if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
        archive_write_open2(a.get(), &ctx, nullptr, archive_write_cb, nullptr, nullptr) != ARCHIVE_OK) {
        return fail(archive.string() + ": cannot start tar: " + archive_error_string(a.get()));
    }
    TarOut out(a.get(), &ctx, archive.string());
    std::string config_name = image.config.descriptor.digest.hex() + ".json";
    EDGESHIP_TRY(out.small(config_name, image.config.bytes));
    nlohmann::json layers = nlohmann::json::array();
    std::set<std::string> written;
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        const auto& l = image.layers[i];
        std::string member = l.diff_id.hex() + ".tar";
        layers.push_back(member);
        if (!written.insert(member).second) {
            continue;
        }
        EDGESHIP_TRY(write_layer_member(out, l, i, member, options));
    }
    nlohmann::json entry = {{"Config", config_name}, {"Layers", layers}};
    entry["RepoTags"] = options.repo_tags.empty() ? nlohmann::json(nullptr) : nlohmann::json(options.repo_tags);
    nlohmann::json manifest = nlohmann::json::array({entry});
    EDGESHIP_TRY_ASSIGN(auto manifest_bytes, canonical_json(manifest, "manifest.json"));
    EDGESHIP_TRY(out.small("manifest.json", manifest_bytes));
    if (archive_write_close(a.get()) != ARCHIVE_OK || ctx.error) {
        return unexpected(out.error("end of archive"));
    }
    return file.commit_as(archive);
}

Result<DockerArchiveImage> read_docker_archive(const fs::path& archive, const fs::path& staging_dir,
                                               const DockerArchiveReadOptions& options) {
    detail::Utf8Locale utf8_names;
    const std::string what = archive.string();
    // Pass 1: manifest.json and the links between members.
    std::optional<std::string> manifest_text;
    std::map<std::string, std::string> links;
    std::set<std::string> members;
    {
        EDGESHIP_TRY_ASSIGN(auto pass, open_archive(archive));
        archive_entry* e = nullptr;
        for (;;) {
            int rc = archive_read_next_header(pass.a.get(), &e);
            if (rc == ARCHIVE_EOF) {
                break;
            }
            if (rc < ARCHIVE_WARN) {
                return fail(what + ": malformed docker-archive: " + archive_error_string(pass.a.get()));
            }
            std::string name = clean_member(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
            members.insert(name);
            if (const char* hl = archive_entry_hardlink(e)) {
                links[name] = clean_member(hl);
            } else if (archive_entry_filetype(e) == AE_IFLNK && archive_entry_symlink(e) != nullptr) {
                std::string target = archive_entry_symlink(e);
                std::string base = name.find('/') == std::string::npos ? "" : name.substr(0, name.rfind('/'));
                if (detail::symlink_escapes(name, target) || (!target.empty() && target.front() == '/')) {
                    return fail(what + ": member \"" + name + "\" links outside the archive");
                }
                // Resolve lexically relative to the link's directory.
                std::vector<std::string> stack;
                for (auto c : detail::split_path(base)) {
                    stack.emplace_back(c);
                }
                for (auto c : detail::split_path(target)) {
                    if (c == ".") {
                        continue;
                    }
                    if (c == "..") {
                        if (!stack.empty()) {
                            stack.pop_back();
                        }
                        continue;
                    }
                    stack.emplace_back(c);
                }
                std::string resolved;
                for (const auto& c : stack) {
                    resolved += (resolved.empty() ? "" : "/") + c;
                }
                links[name] = resolved;
            } else if (name == "manifest.json") {
                EDGESHIP_TRY_ASSIGN(manifest_text, read_member_data(pass.a.get(), what, name));
                continue;
            }
            archive_read_data_skip(pass.a.get());
        }
    }
    if (!manifest_text) {
        return fail(what + ": not a docker-archive (no manifest.json)");
    }
    EDGESHIP_TRY_ASSIGN(auto manifest, parse_json(*manifest_text, what + ": manifest.json"));
    if (!manifest.is_array() || manifest.empty()) {
        return fail(what + ": manifest.json must be a non-empty array");
    }
    std::size_t chosen = options.index;
    if (!options.repo_tag.empty()) {
        bool found = false;
        for (std::size_t i = 0; i < manifest.size() && !found; ++i) {
            auto tags = manifest[i].value("RepoTags", nlohmann::json::array());
            for (const auto& t : tags.is_array() ? tags : nlohmann::json::array()) {
                if (t.is_string() && t.get<std::string>() == options.repo_tag) {
                    chosen = i;
                    found = true;
                    break;
                }
            }
        }
        if (!found) {
            return fail(what + ": no image tagged \"" + options.repo_tag + "\" in manifest.json");
        }
    }
    if (chosen >= manifest.size()) {
        return fail(what + ": manifest.json has " + std::to_string(manifest.size()) + " images, no index " +
                    std::to_string(chosen));
    }
    const auto& m = manifest[chosen];
    std::string mwhat = what + ": manifest.json[" + std::to_string(chosen) + "]";
    if (!m.is_object() || !m.contains("Config") || !m["Config"].is_string() || !m.contains("Layers") ||
        !m["Layers"].is_array()) {
        return fail(mwhat + ": needs \"Config\" (string) and \"Layers\" (array)");
    }
    DockerArchiveImage out;
    if (auto tags = m.find("RepoTags"); tags != m.end() && tags->is_array()) {
        for (const auto& t : *tags) {
            if (t.is_string()) {
                out.repo_tags.push_back(t.get<std::string>());
            }
        }
    }
    std::string config_member = clean_member(m["Config"].get<std::string>());
    EDGESHIP_TRY_ASSIGN(auto config_data_member, resolve_member(config_member, links, what));
    std::vector<std::string> layer_members;
    std::map<std::string, std::vector<std::size_t>> wanted; // data member → layer indexes
    for (std::size_t i = 0; i < m["Layers"].size(); ++i) {
        const auto& l = m["Layers"][i];
        if (!l.is_string()) {
            return fail(mwhat + ": Layers[" + std::to_string(i) + "] must be a string");
        }
        std::string name = clean_member(l.get<std::string>());
        EDGESHIP_TRY_ASSIGN(auto data_member, resolve_member(name, links, what));
        if (members.count(data_member) == 0) {
            return fail(mwhat + ": layer \"" + name + "\" is not in the archive");
        }
        layer_members.push_back(name);
        wanted[data_member].push_back(i);
    }
    if (members.count(config_data_member) == 0) {
        return fail(mwhat + ": config \"" + config_member + "\" is not in the archive");
    }

    // Pass 2: the config into memory, layers streamed into staging_dir and scanned.
    std::optional<std::string> config_bytes;
    std::map<std::size_t, ImageLayer> staged;
    {
        EDGESHIP_TRY_ASSIGN(auto pass, open_archive(archive));
        archive_entry* e = nullptr;
        for (;;) {
            if (options.cancel != nullptr && options.cancel->cancelled()) {
                return unexpected(core::cancelled_error());
            }
            int rc = archive_read_next_header(pass.a.get(), &e);
            if (rc == ARCHIVE_EOF) {
                break;
            }
            if (rc < ARCHIVE_WARN) {
                return fail(what + ": malformed docker-archive: " + archive_error_string(pass.a.get()));
            }
            std::string name = clean_member(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
            if (links.count(name) != 0) {
                continue;
            }
            if (name == config_data_member && !config_bytes) {
                EDGESHIP_TRY_ASSIGN(config_bytes, read_member_data(pass.a.get(), what, name));
            }
            auto want = wanted.find(name);
            if (want == wanted.end()) {
                continue;
            }
            EDGESHIP_TRY_ASSIGN(auto tmp, detail::TempFile::create(staging_dir, "staged-layer"));
            const void* buf = nullptr;
            size_t len = 0;
            la_int64_t off = 0;
            std::uint64_t pos = 0;
            for (;;) {
                if (options.cancel != nullptr && options.cancel->cancelled()) {
                    return unexpected(core::cancelled_error());
                }
                int drc = archive_read_data_block(pass.a.get(), &buf, &len, &off);
                if (drc == ARCHIVE_EOF) {
                    break;
                }
                if (drc < ARCHIVE_WARN) {
                    return fail(what + ": reading " + name + ": " + archive_error_string(pass.a.get()));
                }
                if (static_cast<std::uint64_t>(off) > pos) { // sparse hole
                    EDGESHIP_TRY(tmp.write(std::string(static_cast<std::size_t>(static_cast<std::uint64_t>(off) - pos), '\0')));
                    pos = static_cast<std::uint64_t>(off);
                }
                EDGESHIP_TRY(tmp.write(std::string_view(static_cast<const char*>(buf), len)));
                pos += len;
            }
            ScanOptions so;
            so.keep_entries = false;
            so.check_safety = options.check_safety;
            so.progress = options.progress;
            so.cancel = options.cancel;
            EDGESHIP_TRY_ASSIGN(auto scan, scan_layer(tmp.path(), what + ": " + name, so));
            ImageLayer layer;
            layer.descriptor.media_type = std::string(scan.compression == Compression::gzip ? media_type::docker_layer_gzip
                                                                                             : media_type::docker_layer);
            layer.descriptor.digest = scan.digest;
            layer.descriptor.size = static_cast<std::int64_t>(scan.size);
            layer.diff_id = scan.diff_id;
            layer.uncompressed_size = scan.uncompressed_size;
            const fs::path path = staging_dir / scan.digest.hex();
            layer.source = LocalFile{path, std::nullopt};
            EDGESHIP_TRY(tmp.commit_as(path, false));
            for (auto idx : want->second) {
                staged[idx] = layer;
            }
        }
    }
    if (!config_bytes) {
        return fail(mwhat + ": config \"" + config_member + "\" could not be read");
    }
    auto config_digest = Digest::of(*config_bytes);
    if (auto hex = digest_hex_in_name(config_member); hex && *hex != config_digest.hex()) {
        return fail(what + ": config " + config_member + ": digest mismatch: content hashes to " + config_digest.str());
    }
    EDGESHIP_TRY_ASSIGN(auto config, ImageConfig::parse(*config_bytes, what + ": config " + config_member));
    if (config.diff_ids.size() != layer_members.size()) {
        return fail(mwhat + ": lists " + std::to_string(layer_members.size()) + " layers but the config has " +
                    std::to_string(config.diff_ids.size()) + " diff_ids");
    }
    std::vector<ImageLayer> layers;
    for (std::size_t i = 0; i < layer_members.size(); ++i) {
        auto it = staged.find(i);
        if (it == staged.end()) {
            return fail(mwhat + ": layer \"" + layer_members[i] + "\" could not be read");
        }
        if (it->second.diff_id != config.diff_ids[i]) {
            return fail(what + ": layer " + std::to_string(i) + " (" + layer_members[i] + "): DiffID " +
                        it->second.diff_id.str() + " does not match config rootfs.diff_ids[" + std::to_string(i) +
                        "] " + config.diff_ids[i].str());
        }
        layers.push_back(it->second);
    }
    Blob config_blob{*config_bytes, Descriptor::for_bytes(config_media_type(options.format), *config_bytes)};
    EDGESHIP_TRY_ASSIGN(out.image, assemble_image(config_blob, config, std::move(layers), options.format));
    return out;
}

} // namespace edgeship::oci
