#pragma once

#include <string_view>

/// Media types (docs/design/registry.md §3.3; OCI image-spec media-types.md; Docker manifest-v2-2.md).
namespace edgeship::oci::media_type {

inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view oci_layer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view oci_layer_zstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view oci_layer_nondistributable_gzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view oci_empty = "application/vnd.oci.empty.v1+json";

inline constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_manifest_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view docker_layer_gzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view docker_layer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view docker_foreign_layer_gzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

/// The empty blob `{}` (docs/design/registry.md §3.3).
inline constexpr std::string_view empty_json = "{}";
inline constexpr std::string_view empty_json_digest =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// The four manifest types a registry GET must always accept (docs/design/registry.md §3.2).
inline constexpr std::string_view manifest_accept =
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

/// The annotation an OCI layout's index.json uses for a tag (skopeo's oci:DIR:TAG).
inline constexpr std::string_view ref_name_annotation = "org.opencontainers.image.ref.name";

inline bool is_manifest(std::string_view t) { return t == oci_manifest || t == docker_manifest; }
inline bool is_index(std::string_view t) { return t == oci_index || t == docker_manifest_list; }
inline bool is_config(std::string_view t) { return t == oci_config || t == docker_config; }
/// Layer types whose blob is gzip-compressed.
inline bool is_gzip_layer(std::string_view t) {
    return t == oci_layer_gzip || t == docker_layer_gzip || t == docker_foreign_layer_gzip ||
           t == oci_layer_nondistributable_gzip;
}
/// Layer types whose blob is a plain tar.
inline bool is_tar_layer(std::string_view t) {
    return t == oci_layer || t == docker_layer || t == "application/vnd.oci.image.layer.nondistributable.v1.tar";
}

} // namespace edgeship::oci::media_type
