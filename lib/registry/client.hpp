#pragma once

// A registry client over the OCI distribution API (docs/design/registry.md §1-§4, §11): blobs (HEAD skip,
// cross-repository mount, streamed upload with resume), manifests (PUT last with its digest checked,
// GET with all four Accept types) and whole images (push_image / push_index / pull_image).
// Interface fixed by the lead; registry/auth.hpp does the authentication.

#include "core/cancel.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "http/client.hpp"
#include "oci/blob_writer.hpp"
#include "oci/image.hpp"
#include "oci/layout.hpp"
#include "oci/manifest.hpp"
#include "oci/platform.hpp"
#include "oci/reference.hpp"
#include "registry/auth.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::registry {

/// How to reach a registry host (§11.8). Default: HTTPS with verification.
enum class Transport {
    https,          ///< verified TLS (system store or ca_file)
    https_insecure, ///< --insecure: TLS without certificate verification
    plain_http,     ///< --plain-http: http:// (only when the user asks)
};

struct RegistryOptions {
    std::string host;                ///< host[:port]; docker.io maps to registry-1.docker.io (Reference::api_host)
    Transport transport = Transport::https;
    std::string ca_file;             ///< PEM bundle instead of the system store
    Credential credential;           ///< from resolve_credential (registry/credentials.hpp)
    int parallel_blobs = 4;          ///< layers uploaded/downloaded at once (§9.8: 3-6)
    std::uint64_t chunk_size = 0;    ///< 0 = one streamed PATCH with Content-Length; else chunks (≥ 8 MiB, §9.6)
    http::RetryPolicy retry;         ///< network errors, 408, 429, 5xx; Retry-After honoured
    std::string user_agent;
    core::Logger logger;
    const core::CancelToken* cancel = &core::CancelToken::global();
    /// Options for another registry host, used when a layer of a pushed image stays in a registry other
    /// than the destination (an oci::RemoteBlob layer source): the CLI resolves that host's credential.
    /// Unset: the same transport settings with an anonymous credential.
    std::function<Result<RegistryOptions>(const std::string& host)> options_for_host;
    /// Where such cross-registry layers are staged while they stream through (a temporary directory is
    /// made inside and removed afterwards); empty = the system temporary directory.
    std::string scratch_dir;
};

/// Progress of one blob, for bars on a TTY or one line per blob otherwise.
struct BlobEvent {
    enum class Kind { started, progress, uploaded, skipped_exists, mounted, downloaded, retried, failed };
    Kind kind;
    oci::Descriptor blob;
    std::uint64_t bytes_done = 0;
    std::string detail; ///< e.g. "mounted from team/base", "retry 2 after HTTP 503"
};
using BlobEventCallback = std::function<void(const BlobEvent&)>; ///< called from worker threads, serialized

struct BlobResult {
    oci::Descriptor blob;
    enum class Outcome { uploaded, skipped_exists, mounted, downloaded } outcome;
    std::uint64_t bytes_sent = 0; ///< bytes of this blob actually sent (retries/resumes included once)
};

struct TransferReport {
    std::string reference;        ///< host/repo:tag
    oci::Digest digest;           ///< of the manifest (or index) pushed, as confirmed by Docker-Content-Digest
    std::string media_type;
    std::uint64_t bytes_uploaded = 0;
    std::uint64_t bytes_skipped = 0; ///< already present (HEAD) or mounted
    std::vector<BlobResult> blobs;
    /// The tag already named this very manifest (one HEAD answered its digest): nothing was sent and every
    /// blob is reported as present — the registry checked them when that manifest was put.
    bool up_to_date = false;
};

/// A registry image whose manifest and config were fetched but whose layers were not: each layer's source
/// is an oci::RemoteBlob naming the registry and repository, so a push to the same registry HEAD-skips or
/// mounts it, and a push elsewhere streams it through (never kept) (issue: "base layers are never
/// downloaded when pushing to the registry that holds them").
using RemoteImage = oci::LocalImage;

/// A blob that another thread is still writing to a file (a layer being compressed), uploaded while it
/// grows (docs/design/registry.md §9.8: "the digest is needed only at the final PUT ?digest="). The producer
/// calls open() once with the file (it is opened at once, so a later rename does not matter), grew() as
/// bytes reach it, then finish() with the digest and size, or abort() on any failure. Thread-safe.
class GrowingBlob {
public:
    GrowingBlob();
    ~GrowingBlob();
    GrowingBlob(const GrowingBlob&) = delete;
    GrowingBlob& operator=(const GrowingBlob&) = delete;

    void open(const std::filesystem::path& path);
    void grew(std::uint64_t bytes_in_file);
    void finish(const oci::Digest& digest, std::uint64_t size, const std::filesystem::path& final_path);
    void abort();

    struct Impl;
    Impl& impl() { return *m_impl; }

private:
    std::unique_ptr<Impl> m_impl;
};

class Registry {
public:
    static Result<std::unique_ptr<Registry>> connect(RegistryOptions options);
    virtual ~Registry() = default;
    virtual const RegistryOptions& options() const = 0;

    /// GET /v2/ (and the auth dance); errors: unreachable (1), TLS (1), auth (4).
    virtual Result<void> ping() = 0;

    /// Manifest or index by tag or digest, with all four Accept types (§3.2). The digest is checked
    /// when the reference has one.
    virtual Result<oci::Blob> get_manifest(const oci::Reference& ref) = 0;

    /// Resolves `ref` to one platform's image (an index is resolved with `platform`), fetches its config,
    /// and returns it with remote layers (see RemoteImage).
    virtual Result<RemoteImage> get_image(const oci::Reference& ref, const oci::Platform& platform) = 0;

    virtual Result<bool> blob_exists(const std::string& repository, const oci::Digest& digest) = 0;

    /// Layers (parallel), then config, then manifest with its Docker-Content-Digest checked (§3.1, §11.3-5).
    /// Nothing is tagged unless every blob was verified present.
    virtual Result<TransferReport> push_image(const oci::LocalImage& image, const oci::Reference& dest,
                                          const BlobEventCallback& events = {}) = 0;

    /// Uploads `blob` into `repository` while its producer writes it: chunked PATCHes of ≥ `chunk` bytes
    /// (0 = 16 MiB) as the file grows, the last one after finish(); the bytes sent are hashed and must
    /// match the producer's digest before the closing PUT ?digest= (the registry checks it too), else the
    /// session is deleted. No manifest is involved: a later push_image HEAD-skips the blob. Errors and an
    /// abort() delete the upload session.
    virtual Result<BlobResult> push_growing_blob(const std::string& repository, GrowingBlob& blob,
                                                 std::uint64_t chunk = 0, const BlobEventCallback& events = {}) = 0;
    /// Every platform image (as push_image, untagged: by digest), then the index/list under dest's tag.
    virtual Result<TransferReport> push_index(const std::vector<const oci::LocalImage*>& images, const oci::Blob& index,
                                          const oci::Reference& dest, const BlobEventCallback& events = {}) = 0;

    /// Downloads `ref` (all platforms of an index unless `platform` is given) into `layout`, verifying
    /// every blob, and tags it in index.json with `tag` (default: the reference's tag).
    virtual Result<TransferReport> pull_to_layout(const oci::Reference& ref, oci::OciLayout& layout,
                                              const std::optional<oci::Platform>& platform,
                                              const std::string& tag, const BlobEventCallback& events = {}) = 0;
};

} // namespace edgeship::registry
