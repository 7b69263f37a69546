#pragma once

// Blob uploads (docs/design/registry.md §2.3-2.5, §9.8, §11.3-4): HEAD skip, a session opened by POST (a
// mount attempt doubles as one), one streamed PATCH or chunks, resume from the registry's Range after a
// cut, PUT ?digest= with the bytes' hash checked first, DELETE of abandoned sessions; and uploads of a
// blob its producer is still writing (GrowingBlob). Internal.

#include "registry/client.hpp"
#include "registry/detail/blob_io.hpp"
#include "registry/detail/session.hpp"

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace edgeship::registry {

/// A file another thread is still writing (§9.8); the producer's side is registry/client.hpp.
struct GrowingBlob::Impl {
    std::mutex mutex;
    std::condition_variable cv;
    std::shared_ptr<detail::FileHandle> file;
    std::optional<Error> open_error;
    std::uint64_t available = 0;
    bool finished = false;
    bool aborted = false;
    oci::Digest digest;
    std::uint64_t size = 0;
    std::filesystem::path final_path;
};

} // namespace edgeship::registry

namespace edgeship::registry::detail {

/// HEAD of a blob: true on 200, false on 404, an error otherwise.
Result<bool> head_blob(Conn& c, const std::string& repo, const oci::Digest& d, const Scopes& scopes);

/// Uploads one blob (§11.3): HEAD skip, mount from `mount_from` (when not empty; a 202 session is used for
/// the upload), POST, PATCH (one streamed or chunks of options.chunk_size), PUT ?digest=. A lost session
/// starts the blob again; DIGEST_INVALID starts over once.
Result<BlobResult> upload_blob(Conn& c, const std::string& repo, const oci::Descriptor& d, const BlobInput& in,
                               const std::string& mount_from, Events& ev);

/// GrowingBlob upload (§9.8, §2.3): one session, a PATCH per `chunk` bytes the producer has written, the
/// rest after finish(), then PUT ?digest= with the producer's digest.
Result<BlobResult> push_growing(Shared& s, const std::string& repo, GrowingBlob::Impl& g, std::uint64_t chunk,
                                const BlobEventCallback& events);

/// PATCHes bytes [from, size) to the session (§2.3, §11.3-4) in chunks of `chunk` (0 = one PATCH),
/// following the newest Location (`location` is updated). Recovers from network errors, 408/429/5xx and
/// 416 by asking the registry for its Range and re-sending only from there. Returns false when the
/// registry no longer knows the session (the caller starts over).
Result<bool> send_range(Conn& c, std::string& location, const oci::Descriptor& d, const BlobInput& in,
                        const std::shared_ptr<FileHandle>& file, std::uint64_t from, std::uint64_t size,
                        std::uint64_t chunk, const Scopes& scopes, Events& ev, BlobResult& result, LocalHash& hash);

/// GET <location> (§2.3 end-13): where the registry stands. Updates `location` when it sends one.
/// nullopt when the registry no longer knows the session (404).
Result<std::optional<std::uint64_t>> upload_status(Conn& c, std::string& location, const Scopes& scopes);

/// DELETE <location> when giving up (§2.3); failures ignored.
void abandon(Conn& c, const std::string& location, const Scopes& scopes);

} // namespace edgeship::registry::detail
