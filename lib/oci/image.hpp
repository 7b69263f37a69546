#pragma once

#include "core/result.hpp"
#include "oci/blob_writer.hpp"
#include "oci/image_config.hpp"
#include "oci/manifest.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace edgeship::oci {

/// A blob in a registry repository: "host[:port]" as references spell it (docker.io, localhost:5000) and
/// the repository inside it.
struct RemoteBlob {
    std::string host;
    std::string repository;

    std::string str() const { return host + "/" + repository; }
    bool operator==(const RemoteBlob&) const = default;
};

/// A layer's blob as a file on disk (in an OCI layout, a staging directory, a cache). `also_in` names a
/// registry repository known to hold the same blob (a layer-cache hit), so a push there may mount it.
struct LocalFile {
    std::filesystem::path path;
    std::optional<RemoteBlob> also_in;
};

/// Where a layer's bytes are: a local file, or a registry that keeps them (a base image read with
/// registry::Registry::get_image, whose layers are never downloaded when pushing; pushes HEAD-skip,
/// mount or stream them through).
using LayerSource = std::variant<LocalFile, RemoteBlob>;

/// A layer of an image.
struct ImageLayer {
    Descriptor descriptor; ///< media type, digest and size of the blob as stored
    Digest diff_id;        ///< sha256 of the uncompressed tar (config rootfs.diff_ids entry)
    LayerSource source;
    std::optional<std::uint64_t> uncompressed_size; ///< known when edgeship built or scanned the layer

    /// The file holding the blob; nullptr for a layer that stays in a registry.
    const std::filesystem::path* local_file() const {
        const auto* f = std::get_if<LocalFile>(&source);
        return f != nullptr ? &f->path : nullptr;
    }
    /// The registry repository holding the blob: where a remote layer is, or a local file's `also_in`;
    /// nullptr when no registry is known to have it.
    const RemoteBlob* in_registry() const {
        if (const auto* r = std::get_if<RemoteBlob>(&source)) {
            return r;
        }
        const auto& also = std::get<LocalFile>(source).also_in;
        return also ? &*also : nullptr;
    }
    /// The file, or an error naming the registry that keeps the blob (for code that reads layers).
    Result<std::filesystem::path> require_file(std::string_view what) const;

    /// A layer just built by build_layer / LayerBlobWriter, with the media type of `format`.
    static ImageLayer from_blob(const LayerBlob& blob, ManifestFormat format);
};

/// An image whose config and manifest are in memory and whose layers are files or registry blobs
/// (ImageLayer::source): what `build` assembles, a layout, archive or registry reader returns, and the
/// registry client pushes (layers, then config, then manifest; docs/design/registry.md
/// §3.1). The config and manifest are kept as the exact bytes their digests cover.
struct LocalImage {
    Blob manifest; ///< bytes + descriptor (descriptor.platform set from the config)
    Manifest parsed_manifest;
    Blob config;
    ImageConfig parsed_config;
    std::vector<ImageLayer> layers;

    ManifestFormat format() const { return parsed_manifest.format(); }
    Platform platform() const { return parsed_config.platform(); }
};

/// Serializes `config` and a manifest of `format` over `layers` (canonical JSON, so the same inputs give
/// the same digests). Checks that config.diff_ids equals the layers' DiffIDs, in order, and converts
/// layer media types to `format`. `annotations` go into an OCI manifest (ignored for Docker).
Result<LocalImage> assemble_image(const ImageConfig& config, std::vector<ImageLayer> layers, ManifestFormat format,
                                  const std::map<std::string, std::string>& annotations = {});

/// Same, but keeps `config` as the exact bytes it is (an image read from an archive or a registry), only
/// switching its media type to `format`'s; `parsed` must be those bytes parsed.
Result<LocalImage> assemble_image(const Blob& config, const ImageConfig& parsed, std::vector<ImageLayer> layers,
                                  ManifestFormat format, const std::map<std::string, std::string>& annotations = {});

/// An index (OCI) or manifest list (Docker) over platform images, each entry carrying its platform.
/// Errors when two images share a platform or the formats differ.
Result<Blob> make_index(const std::vector<const LocalImage*>& images, ManifestFormat format,
                        const std::map<std::string, std::string>& annotations = {});

/// Same image with every uncompressed tar layer gzip-compressed into `out_dir` (one pass each; layers
/// already compressed are kept) and the manifest re-assembled in `format`. The config is unchanged
/// (DiffIDs do not depend on compression), so its digest is kept.
Result<LocalImage> compress_layers(const LocalImage& image, const std::filesystem::path& out_dir,
                                   ManifestFormat format, const BlobWriterOptions& options);

} // namespace edgeship::oci
