#pragma once

#include "core/result.hpp"
#include "oci/digest.hpp"
#include "oci/platform.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::oci {

/// Which manifest family an image is written in (docs/design/registry.md §3.3).
enum class ManifestFormat {
    oci,   ///< application/vnd.oci.image.manifest.v1+json, OCI index, OCI layer/config types
    docker ///< Docker schema 2 manifest, manifest list, Docker layer/config types
};

/// A content descriptor (OCI image-spec descriptor.md). Value type.
struct Descriptor {
    std::string media_type;
    Digest digest;
    std::int64_t size = 0;
    std::optional<Platform> platform;               ///< only in index entries
    std::map<std::string, std::string> annotations; ///< OCI only; omitted when empty
    std::vector<std::string> urls;                  ///< foreign layers
    std::string artifact_type;                      ///< OCI 1.1; omitted when empty

    /// A descriptor for in-memory bytes (sha256 and size computed here).
    static Descriptor for_bytes(std::string_view media_type, std::string_view bytes);
    nlohmann::json to_json() const;
    /// Reads a descriptor object; errors name `what` and the field ("manifest: layers[2].digest: …").
    static Result<Descriptor> from_json(const nlohmann::json& j, std::string_view what);
    /// The ref name annotation (org.opencontainers.image.ref.name) or "".
    std::string ref_name() const;
};

/// An image manifest, OCI or Docker schema 2 (the format follows media_type). Value type.
struct Manifest {
    std::string media_type = "application/vnd.oci.image.manifest.v1+json";
    Descriptor config;
    std::vector<Descriptor> layers;
    std::map<std::string, std::string> annotations; ///< OCI only
    std::string artifact_type;                      ///< OCI only
    std::optional<Descriptor> subject;              ///< OCI only (referrers)

    ManifestFormat format() const;
    nlohmann::json to_json() const;
    /// Canonical JSON bytes (oci/json.hpp): the same manifest always gives the same digest.
    Result<std::string> serialize() const;
    /// Parses and validates (schemaVersion 2, known mediaType, descriptors well formed). Unknown fields
    /// are ignored; keep the original bytes when their digest matters.
    static Result<Manifest> parse(std::string_view bytes, std::string_view what);
};

/// An OCI image index or a Docker manifest list. Value type.
struct Index {
    std::string media_type = "application/vnd.oci.image.index.v1+json";
    std::vector<Descriptor> manifests;
    std::map<std::string, std::string> annotations; ///< OCI only

    ManifestFormat format() const;
    nlohmann::json to_json() const;
    Result<std::string> serialize() const;
    static Result<Index> parse(std::string_view bytes, std::string_view what);
};

/// Serialized bytes together with their descriptor: a config, a manifest or an index ready to be
/// written to a layout or PUT to a registry ("serialize once, hash those exact bytes", §3.1).
struct Blob {
    std::string bytes;
    Descriptor descriptor;
};

/// Canonical bytes + descriptor of a manifest / index.
Result<Blob> make_blob(const Manifest& manifest);
Result<Blob> make_blob(const Index& index);

/// Manifest media type of a format; index media type; config media type.
std::string_view manifest_media_type(ManifestFormat format);
std::string_view index_media_type(ManifestFormat format);
std::string_view config_media_type(ManifestFormat format);
/// Maps a layer media type to its equivalent in `format` (OCI tar+gzip ⇔ Docker rootfs.diff.tar.gzip,
/// tar ⇔ tar, foreign ⇔ nondistributable). Errors for types with no equivalent (zstd in Docker format).
Result<std::string> convert_layer_media_type(std::string_view media_type, ManifestFormat format);
/// Reads the "mediaType" of a manifest or index document without a full parse ("" when absent).
std::string sniff_media_type(const nlohmann::json& document);

} // namespace edgeship::oci
