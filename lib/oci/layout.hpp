#pragma once

#include "core/cancel.hpp"
#include "core/result.hpp"
#include "oci/blob_writer.hpp"
#include "oci/image.hpp"
#include "oci/manifest.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace edgeship::oci {

/// How much reading an image checks.
struct LoadOptions {
    /// Which image of a multi-platform index; unset ⇒ the only one, else an error listing them.
    std::optional<Platform> platform;
    /// Hash every layer blob and compare with its descriptor (digest and size). Manifest, index and
    /// config blobs are always verified.
    bool verify_layers = true;
    /// Also decompress every layer and compare its DiffID with the config's rootfs.diff_ids, refusing
    /// unsafe tar members (slower: a full gunzip per layer).
    bool verify_diff_ids = false;
    ProgressCallback progress;
    const core::CancelToken* cancel = &core::CancelToken::global();
};

/// An OCI image layout directory (image-spec image-layout.md): `oci-layout`, `index.json`,
/// `blobs/sha256/<hex>`. Tags are index.json entries annotated org.opencontainers.image.ref.name, as
/// skopeo's `oci:DIR:TAG` uses. Reading verifies digests and sizes; writing puts blobs first and
/// replaces index.json atomically last, so an interrupted write never leaves a tag pointing at a
/// missing blob. Not safe for concurrent writers on the same directory.
class OciLayout {
public:
    /// Opens an existing layout. Errors: no oci-layout file, unsupported imageLayoutVersion, bad index.json.
    static Result<OciLayout> open(const std::filesystem::path& dir);
    /// Opens the layout at `dir`, creating the directory, oci-layout, blobs/sha256 and an empty index
    /// when missing.
    static Result<OciLayout> create(const std::filesystem::path& dir);

    const std::filesystem::path& dir() const { return m_dir; }
    const Index& index() const { return m_index; }
    /// DIR/blobs/sha256 — where LayerBlobWriter / build_layer may write directly.
    std::filesystem::path blobs_dir() const;
    std::filesystem::path blob_path(const Digest& digest) const;
    bool has_blob(const Digest& digest) const;

    /// Tags listed in index.json, in order.
    std::vector<std::string> tags() const;
    /// The index.json entry for `tag`; with an empty tag, the only entry. Errors list the known tags.
    Result<Descriptor> find(std::string_view tag) const;

    /// Reads a small blob (manifest, index, config; at most 64 MiB), verifying size and digest.
    /// `what` names it in errors ("config of tag v1").
    Result<std::string> read_blob(const Descriptor& descriptor, std::string_view what) const;
    /// Streams a blob through sha256 and checks digest and size. Errors name the blob and `what`.
    Result<void> verify_blob(const Descriptor& descriptor, std::string_view what,
                             const core::CancelToken* cancel = &core::CancelToken::global()) const;

    /// Loads the image tagged `tag` (an index entry may point to an index: the platform is chosen by
    /// options.platform).
    Result<LocalImage> load_image(std::string_view tag, const LoadOptions& options = {}) const;
    /// Loads the image whose manifest (or index) `descriptor` names.
    Result<LocalImage> load(const Descriptor& descriptor, std::string_view what, const LoadOptions& options = {}) const;

    /// Stores in-memory bytes as a blob (no-op if present).
    Result<void> write_blob(const Blob& blob);
    /// Stores a blob file (hard link, else copy) after checking its digest and size against `descriptor`.
    Result<void> import_blob(const std::filesystem::path& file, const Descriptor& descriptor);
    /// Stores every blob of `image` (layers, config, manifest). Layers already in blobs/sha256 are kept.
    Result<void> write_image(const LocalImage& image);
    /// Points `tag` at a manifest or index descriptor (replacing an entry with the same tag) and writes
    /// index.json atomically. The blob must already be stored.
    Result<void> set_tag(const Descriptor& descriptor, std::string_view tag);

private:
    OciLayout(std::filesystem::path dir, Index index) : m_dir(std::move(dir)), m_index(std::move(index)) {}
    std::filesystem::path m_dir;
    Index m_index;
};

/// True if `tag` is acceptable as a layout ref name: non-empty, at most 255 characters, no white
/// space, control characters or '/'.
bool is_valid_ref_name(std::string_view tag);

} // namespace edgeship::oci
