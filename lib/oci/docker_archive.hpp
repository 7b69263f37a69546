#pragma once

#include "core/cancel.hpp"
#include "core/result.hpp"
#include "oci/blob_writer.hpp"
#include "oci/image.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace edgeship::oci {

/// Writing a `docker save` archive (loadable with `docker load`, readable by skopeo's docker-archive:).
struct DockerArchiveWriteOptions {
    std::vector<std::string> repo_tags; ///< "repo:tag" in Docker's familiar form (Reference::familiar())
    ProgressCallback progress;
    const core::CancelToken* cancel = &core::CancelToken::global();
};

/// Writes `image` as a docker-archive tar: `<config hex>.json`, one uncompressed `<diffid hex>.tar` per
/// distinct layer (gzip blobs are decompressed on the fly and their DiffID checked against the config),
/// and `manifest.json` `[{"Config","RepoTags","Layers"}]`. Entries are written in a fixed order with
/// fixed metadata, so the same image gives the same archive bytes. The file appears atomically.
Result<void> write_docker_archive(const LocalImage& image, const std::filesystem::path& archive,
                                  const DockerArchiveWriteOptions& options = {});

struct DockerArchiveReadOptions {
    /// Which image of manifest.json: one whose RepoTags contain this ("repo:tag"); empty ⇒ `index`.
    std::string repo_tag;
    std::size_t index = 0;
    /// Manifest format of the returned LocalImage (layers stay as stored, usually uncompressed tar).
    ManifestFormat format = ManifestFormat::docker;
    bool check_safety = true; ///< refuse unsafe members inside layers (see ScanOptions)
    ProgressCallback progress;
    const core::CancelToken* cancel = &core::CancelToken::global();
};

/// One image read from a docker-archive.
struct DockerArchiveImage {
    std::vector<std::string> repo_tags;
    LocalImage image; ///< layers staged in staging_dir as `<blob digest hex>` files
};

/// Reads a docker-archive (plain or gzip-compressed outer tar; classic `<id>/layer.tar`, skopeo's
/// `<hex>.tar` and Docker 25's `blobs/sha256/<hex>` layouts; links between members resolved). Layers are
/// streamed into `staging_dir` (which must exist; an OCI layout's blobs/sha256 works) and verified:
/// the config's file name, when it is a digest, must match its content, and each layer's DiffID must
/// equal the config's rootfs.diff_ids entry. Errors name the archive and member.
Result<DockerArchiveImage> read_docker_archive(const std::filesystem::path& archive,
                                               const std::filesystem::path& staging_dir,
                                               const DockerArchiveReadOptions& options = {});

} // namespace edgeship::oci
