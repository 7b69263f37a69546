#pragma once

#include "core/result.hpp"
#include "oci/blob_writer.hpp"
#include "oci/image_config.hpp"
#include "oci/manifest.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::oci {

/// A layer of an image whose blob is a file on disk (in an OCI layout, a staging directory, a cache).
struct ImageLayer {
    Descriptor descriptor; ///< media type, digest and size of the blob as stored
    Digest diff_id;        ///< sha256 of the uncompressed tar (config rootfs.diff_ids entry)
    std::filesystem::path path;
    std::optional<std::uint64_t> uncompressed_size; ///< known when edgeship built or scanned the layer
    /// Set, with `path` empty, for a layer that stays in a registry ("host/repo" holding it): a base image
    /// read with registry::Registry::get_image. Pushes HEAD-skip or mount it instead of reading a file.
    std::string source_repository;

    /// A layer just built by build_layer / LayerBlobWriter, with the media type of `format`.
    static ImageLayer from_blob(const LayerBlob& blob, ManifestFormat format);
};

/// An image whose blobs are all available locally: what `build` assembles, a layout or archive reader
/// returns, and the registry client pushes (layers, then config, then manifest; docs/design/registry.md
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
