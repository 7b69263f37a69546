#include "oci/layout.hpp"

#include "core/fs.hpp"
#include "core/sha256.hpp"
#include "oci/detail/files.hpp"
#include "oci/json.hpp"
#include "oci/layer_reader.hpp"
#include "oci/media_types.hpp"

#include <cctype>
#include <sys/stat.h>

namespace edgeship::oci {
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t k_max_small_blob = 64 << 20;
constexpr std::string_view k_layout_file = R"({"imageLayoutVersion":"1.0.0"})";

Result<Index> read_index_file(const fs::path& dir) {
    auto path = dir / "index.json";
    auto text = core::read_file(path);
    if (!text) {
        return unexpected(std::move(text).error().context("OCI layout " + dir.string()));
    }
    return Index::parse(*text, path.string());
}

} // namespace

bool is_valid_ref_name(std::string_view tag) {
    if (tag.empty() || tag.size() > 255) {
        return false;
    }
    for (char c : tag) {
        auto u = static_cast<unsigned char>(c);
        if (std::isspace(u) || std::iscntrl(u) || c == '/') {
            return false;
        }
    }
    return true;
}

Result<OciLayout> OciLayout::open(const fs::path& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return fail(dir.string() + ": not an OCI layout (no such directory)");
    }
    auto marker = core::read_file(dir / "oci-layout");
    if (!marker) {
        return fail(dir.string() + ": not an OCI layout (missing oci-layout file)");
    }
    EDGESHIP_TRY_ASSIGN(auto j, parse_json(*marker, (dir / "oci-layout").string()));
    if (!j.is_object() || j.value("imageLayoutVersion", std::string()) != "1.0.0") {
        return fail((dir / "oci-layout").string() + ": unsupported imageLayoutVersion (expected 1.0.0)");
    }
    EDGESHIP_TRY_ASSIGN(auto index, read_index_file(dir));
    return OciLayout(dir, std::move(index));
}

Result<OciLayout> OciLayout::create(const fs::path& dir) {
    std::error_code ec;
    if (fs::exists(dir / "oci-layout", ec)) {
        return open(dir);
    }
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
        return fail(dir.string() + ": exists and is not a directory");
    }
    fs::create_directories(dir / "blobs" / "sha256", ec);
    if (ec) {
        return fail(dir.string() + ": cannot create OCI layout: " + ec.message());
    }
    Index empty;
    EDGESHIP_TRY_ASSIGN(auto bytes, empty.serialize());
    EDGESHIP_TRY(core::write_file_atomic(dir / "index.json", bytes));
    EDGESHIP_TRY(core::write_file_atomic(dir / "oci-layout", k_layout_file));
    return OciLayout(dir, std::move(empty));
}

fs::path OciLayout::blobs_dir() const { return m_dir / "blobs" / "sha256"; }
fs::path OciLayout::blob_path(const Digest& digest) const { return blobs_dir() / digest.hex(); }

bool OciLayout::has_blob(const Digest& digest) const {
    std::error_code ec;
    return fs::is_regular_file(blob_path(digest), ec);
}

std::vector<std::string> OciLayout::tags() const {
    std::vector<std::string> out;
    for (const auto& d : m_index.manifests) {
        if (auto name = d.ref_name(); !name.empty()) {
            out.push_back(name);
        }
    }
    return out;
}

Result<Descriptor> OciLayout::find(std::string_view tag) const {
    if (tag.empty()) {
        if (m_index.manifests.size() == 1) {
            return m_index.manifests.front();
        }
        if (m_index.manifests.empty()) {
            return fail(m_dir.string() + ": OCI layout holds no image");
        }
        std::string list;
        for (const auto& t : tags()) {
            list += (list.empty() ? "" : ", ") + t;
        }
        return fail(m_dir.string() + ": OCI layout holds " + std::to_string(m_index.manifests.size()) +
                    " images; name one of the tags: " + list);
    }
    for (const auto& d : m_index.manifests) {
        if (d.ref_name() == tag) {
            return d;
        }
    }
    std::string list;
    for (const auto& t : tags()) {
        list += (list.empty() ? "" : ", ") + t;
    }
    return fail(m_dir.string() + ": no image tagged \"" + std::string(tag) + "\" (tags: " +
                (list.empty() ? "none" : list) + ")");
}

Result<std::string> OciLayout::read_blob(const Descriptor& d, std::string_view what) const {
    auto label = std::string(what) + " " + d.digest.str();
    if (d.size > k_max_small_blob) {
        return fail(m_dir.string() + ": " + label + ": " + std::to_string(d.size) + " bytes is too large for a " +
                    std::string(what));
    }
    auto path = blob_path(d.digest);
    if (!has_blob(d.digest)) {
        return fail(m_dir.string() + ": " + label + ": blob missing (expected " + path.string() + ")");
    }
    EDGESHIP_TRY_ASSIGN(auto bytes, core::read_file(path));
    if (static_cast<std::int64_t>(bytes.size()) != d.size) {
        return fail(m_dir.string() + ": " + label + ": size mismatch: blob has " + std::to_string(bytes.size()) +
                    " bytes, descriptor says " + std::to_string(d.size));
    }
    auto actual = Digest::of(bytes);
    if (actual != d.digest) {
        return fail(m_dir.string() + ": " + label + ": digest mismatch: content hashes to " + actual.str());
    }
    return bytes;
}

Result<void> OciLayout::verify_blob(const Descriptor& d, std::string_view what, const core::CancelToken* cancel) const {
    auto label = std::string(what) + " " + d.digest.str();
    auto path = blob_path(d.digest);
    if (!has_blob(d.digest)) {
        return fail(m_dir.string() + ": " + label + ": blob missing (expected " + path.string() + ")");
    }
    EDGESHIP_TRY_ASSIGN(auto size, core::regular_file_size(path));
    if (static_cast<std::int64_t>(size) != d.size) {
        return fail(m_dir.string() + ": " + label + ": size mismatch: blob has " + std::to_string(size) +
                    " bytes, descriptor says " + std::to_string(d.size));
    }
    core::Sha256 h;
    EDGESHIP_TRY(detail::read_chunks(
        path,
        [&](std::string_view chunk) -> Result<void> {
            h.update(chunk);
            return {};
        },
        cancel));
    auto actual = Digest::from_sha256_hex(h.hex_digest());
    if (actual != d.digest) {
        return fail(m_dir.string() + ": " + label + ": digest mismatch: content hashes to " + actual.str());
    }
    return {};
}

Result<LocalImage> OciLayout::load_image(std::string_view tag, const LoadOptions& options) const {
    EDGESHIP_TRY_ASSIGN(auto d, find(tag));
    std::string what = tag.empty() ? std::string("image") : "tag " + std::string(tag);
    return load(d, what, options);
}

Result<LocalImage> OciLayout::load(const Descriptor& descriptor, std::string_view what_view, const LoadOptions& options) const {
    std::string what(what_view);
    Descriptor d = descriptor;
    if (media_type::is_index(d.media_type)) {
        EDGESHIP_TRY_ASSIGN(auto bytes, read_blob(d, "index of " + what));
        EDGESHIP_TRY_ASSIGN(auto idx, Index::parse(bytes, "index of " + what));
        std::vector<const Descriptor*> candidates;
        for (const auto& m : idx.manifests) {
            if (!media_type::is_manifest(m.media_type)) {
                continue;
            }
            if (!options.platform || (m.platform && m.platform->os == options.platform->os &&
                                      m.platform->architecture == options.platform->architecture &&
                                      (options.platform->variant.empty() || m.platform->variant == options.platform->variant))) {
                candidates.push_back(&m);
            }
        }
        if (candidates.size() != 1) {
            std::string list;
            for (const auto& m : idx.manifests) {
                list += (list.empty() ? "" : ", ") + (m.platform ? m.platform->str() : std::string("(no platform)"));
            }
            if (candidates.empty()) {
                return fail(m_dir.string() + ": " + what + ": no image for platform " +
                            (options.platform ? options.platform->str() : std::string("?")) + " (has: " + list + ")");
            }
            return fail(m_dir.string() + ": " + what + " is a multi-platform index (" + list +
                        "); choose a platform");
        }
        Descriptor chosen = *candidates.front();
        auto img = load(chosen, what + " (" + (chosen.platform ? chosen.platform->str() : std::string("?")) + ")", options);
        return img;
    }
    if (!media_type::is_manifest(d.media_type)) {
        return fail(m_dir.string() + ": " + what + ": unsupported media type \"" + d.media_type + "\"");
    }
    LocalImage img;
    EDGESHIP_TRY_ASSIGN(img.manifest.bytes, read_blob(d, "manifest of " + what));
    img.manifest.descriptor = d;
    EDGESHIP_TRY_ASSIGN(img.parsed_manifest, Manifest::parse(img.manifest.bytes, "manifest of " + what));
    const auto& cfg_desc = img.parsed_manifest.config;
    EDGESHIP_TRY_ASSIGN(img.config.bytes, read_blob(cfg_desc, "config of " + what));
    img.config.descriptor = cfg_desc;
    EDGESHIP_TRY_ASSIGN(img.parsed_config, ImageConfig::parse(img.config.bytes, "config of " + what));
    img.manifest.descriptor.platform = img.parsed_config.platform();
    const auto& layers = img.parsed_manifest.layers;
    if (img.parsed_config.diff_ids.size() != layers.size()) {
        return fail(m_dir.string() + ": " + what + ": manifest lists " + std::to_string(layers.size()) +
                    " layers but the config has " + std::to_string(img.parsed_config.diff_ids.size()) + " diff_ids");
    }
    for (std::size_t i = 0; i < layers.size(); ++i) {
        std::string lwhat = "layer " + std::to_string(i) + " of " + what;
        ImageLayer l;
        l.descriptor = layers[i];
        l.diff_id = img.parsed_config.diff_ids[i];
        const fs::path path = blob_path(layers[i].digest);
        l.source = LocalFile{path, std::nullopt};
        if (!media_type::is_gzip_layer(l.descriptor.media_type) && !media_type::is_tar_layer(l.descriptor.media_type)) {
            return fail(m_dir.string() + ": " + lwhat + ": unsupported layer media type \"" + l.descriptor.media_type + "\"");
        }
        if (options.verify_diff_ids) {
            if (!has_blob(l.descriptor.digest)) {
                return fail(m_dir.string() + ": " + lwhat + " " + l.descriptor.digest.str() + ": blob missing (expected " +
                            path.string() + ")");
            }
            EDGESHIP_TRY_ASSIGN(auto on_disk, core::regular_file_size(path));
            if (static_cast<std::int64_t>(on_disk) != l.descriptor.size) {
                return fail(m_dir.string() + ": " + lwhat + " " + l.descriptor.digest.str() + ": size mismatch: blob has " +
                            std::to_string(on_disk) + " bytes, descriptor says " + std::to_string(l.descriptor.size));
            }
            ScanOptions so;
            so.keep_entries = false;
            so.progress = options.progress;
            so.cancel = options.cancel;
            EDGESHIP_TRY_ASSIGN(auto scan, scan_layer(path, m_dir.string() + ": " + lwhat, so));
            if (scan.digest != l.descriptor.digest || static_cast<std::int64_t>(scan.size) != l.descriptor.size) {
                return fail(m_dir.string() + ": " + lwhat + " " + l.descriptor.digest.str() +
                            ": digest mismatch: content hashes to " + scan.digest.str() + " (" +
                            std::to_string(scan.size) + " bytes)");
            }
            if (scan.diff_id != l.diff_id) {
                return fail(m_dir.string() + ": " + lwhat + ": DiffID " + scan.diff_id.str() +
                            " does not match config rootfs.diff_ids[" + std::to_string(i) + "] " + l.diff_id.str());
            }
            l.uncompressed_size = scan.uncompressed_size;
        } else if (options.verify_layers) {
            EDGESHIP_TRY(verify_blob(l.descriptor, lwhat, options.cancel));
        }
        img.layers.push_back(std::move(l));
    }
    return img;
}

Result<void> OciLayout::write_blob(const Blob& blob) {
    if (has_blob(blob.descriptor.digest)) {
        return {};
    }
    return core::write_file_atomic(blob_path(blob.descriptor.digest), blob.bytes);
}

Result<void> OciLayout::import_blob(const fs::path& file, const Descriptor& d) {
    auto target = blob_path(d.digest);
    std::error_code ec;
    if (fs::exists(target, ec) && fs::equivalent(file, target, ec)) {
        return {};
    }
    EDGESHIP_TRY_ASSIGN(auto size, core::regular_file_size(file));
    if (static_cast<std::int64_t>(size) != d.size) {
        return fail(file.string() + ": size " + std::to_string(size) + " does not match blob " + d.digest.str() + " (" +
                    std::to_string(d.size) + " bytes)");
    }
    EDGESHIP_TRY_ASSIGN(auto actual, Digest::of_file(file));
    if (actual != d.digest) {
        return fail(file.string() + ": content hashes to " + actual.str() + ", expected " + d.digest.str());
    }
    return detail::link_or_copy(file, target);
}

Result<void> OciLayout::write_image(const LocalImage& image) {
    for (std::size_t i = 0; i < image.layers.size(); ++i) {
        const auto& l = image.layers[i];
        auto file = l.require_file("layer");
        auto r = file ? import_blob(*file, l.descriptor) : Result<void>(unexpected(std::move(file).error()));
        if (!r) {
            return unexpected(std::move(r).error().context("writing layer " + std::to_string(i) + " to " + m_dir.string()));
        }
    }
    EDGESHIP_TRY(write_blob(image.config));
    return write_blob(image.manifest);
}

Result<void> OciLayout::set_tag(const Descriptor& descriptor, std::string_view tag) {
    if (!is_valid_ref_name(tag)) {
        return fail("invalid OCI layout tag \"" + std::string(tag) + "\": no white space, control characters or '/'");
    }
    if (!has_blob(descriptor.digest)) {
        return fail(m_dir.string() + ": cannot tag " + descriptor.digest.str() + ": blob not stored");
    }
    Descriptor entry = descriptor;
    entry.platform.reset();
    entry.annotations[std::string(media_type::ref_name_annotation)] = std::string(tag);
    Index updated = m_index;
    updated.media_type = std::string(media_type::oci_index);
    bool replaced = false;
    for (auto& d : updated.manifests) {
        if (d.ref_name() == tag) {
            d = entry;
            replaced = true;
        }
    }
    if (!replaced) {
        updated.manifests.push_back(entry);
    }
    EDGESHIP_TRY_ASSIGN(auto bytes, updated.serialize());
    EDGESHIP_TRY(core::write_file_atomic(m_dir / "index.json", bytes));
    m_index = std::move(updated);
    return {};
}

} // namespace edgeship::oci
