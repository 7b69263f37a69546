// Blob uploads: monolithic or chunked PATCHes, resume from the registry's Range, PUT ?digest=, abandoned
// sessions deleted, growing blobs (detail/blob_upload.hpp; docs/design/registry.md §2.3-2.4, §9.8, §11.3-4).

#include "registry/detail/blob_upload.hpp"

#include "http/url.hpp"

#include <algorithm>
#include <random>

namespace edgeship::registry {

GrowingBlob::GrowingBlob() : m_impl(std::make_unique<Impl>()) {}
GrowingBlob::~GrowingBlob() = default;

void GrowingBlob::open(const std::filesystem::path& path) {
    auto f = detail::FileHandle::open(path); // now: the producer renames the file when it is done
    std::lock_guard lock(m_impl->mutex);
    if (f) {
        m_impl->file = std::move(*f);
    } else {
        m_impl->open_error = std::move(f).error();
    }
    m_impl->cv.notify_all();
}

void GrowingBlob::grew(std::uint64_t bytes_in_file) {
    std::lock_guard lock(m_impl->mutex);
    if (bytes_in_file > m_impl->available) {
        m_impl->available = bytes_in_file;
        m_impl->cv.notify_all();
    }
}

void GrowingBlob::finish(const oci::Digest& digest, std::uint64_t size, const std::filesystem::path& final_path) {
    std::lock_guard lock(m_impl->mutex);
    m_impl->digest = digest;
    m_impl->size = size;
    m_impl->available = size;
    m_impl->final_path = final_path;
    m_impl->finished = true;
    m_impl->cv.notify_all();
}

void GrowingBlob::abort() {
    std::lock_guard lock(m_impl->mutex);
    m_impl->aborted = true;
    m_impl->cv.notify_all();
}

} // namespace edgeship::registry

namespace edgeship::registry::detail {


/// A re-openable body for bytes [start, end) of a blob (§11.4: retries need re-openable bodies).
http::BodySource range_source(const std::shared_ptr<FileHandle>& file, std::string_view bytes, std::uint64_t start,
                              std::uint64_t end,
                              std::function<void(const char* data, std::uint64_t n, std::uint64_t at)> on_read) {
    auto pos = std::make_shared<std::uint64_t>(start);
    http::BodySource s;
    s.size = end - start;
    s.read = [file, bytes, pos, end, on_read](char* buf, std::size_t len) -> Result<std::size_t> {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(len, end - *pos));
        if (n == 0) {
            return std::size_t{0};
        }
        std::size_t got = 0;
        if (file) {
            EDGESHIP_TRY_ASSIGN(got, file->read_at(buf, n, *pos));
        } else {
            std::copy_n(bytes.data() + *pos, n, buf);
            got = n;
        }
        std::uint64_t at = *pos;
        *pos += got;
        if (on_read) {
            on_read(buf, got, at);
        }
        return got;
    };
    s.rewind = [pos, start]() -> Result<void> {
        *pos = start;
        return {};
    };
    return s;
}

Result<bool> head_blob(Conn& c, const std::string& repo, const oci::Digest& d, const Scopes& scopes) {
    http::Request req;
    req.method = "HEAD";
    req.url = c.url(blob_path(repo, d));
    req.redirects = http::Redirects::follow;
    EDGESHIP_TRY_ASSIGN(auto r, c.send(req, scopes));
    if (r.status == 200) {
        return true;
    }
    if (r.status == 404) {
        return false;
    }
    return unexpected(answer_error("HEAD " + d.short_str(), r));
}

/// Uploads one blob (§11.3): HEAD skip, mount, POST, PATCH (one streamed or chunks), PUT ?digest=.
Result<BlobResult> upload_blob(Conn& c, const std::string& repo, const oci::Descriptor& d, const BlobInput& in,
                               const std::string& mount_from, Events& ev) {
    BlobResult result{d, BlobResult::Outcome::uploaded, 0};
    Scopes scopes = push_scopes(repo);
    if (!mount_from.empty()) {
        scopes.push_back(repository_scope(mount_from, "pull")); // push scope first (§2.5, §5.4)
    }
    EDGESHIP_TRY_ASSIGN(bool exists, head_blob(c, repo, d.digest, scopes));
    if (exists) {
        result.outcome = BlobResult::Outcome::skipped_exists;
        ev.emit(BlobEvent::Kind::skipped_exists, d, static_cast<std::uint64_t>(d.size));
        return result;
    }
    std::shared_ptr<FileHandle> file;
    if (in.is_file) {
        EDGESHIP_TRY_ASSIGN(file, FileHandle::open(in.path));
        EDGESHIP_TRY_ASSIGN(auto actual, file->size());
        if (actual != static_cast<std::uint64_t>(d.size)) {
            return fail(in.path.string() + ": size mismatch: " + std::to_string(actual) + " bytes, the manifest says " +
                        std::to_string(d.size));
        }
    } else if (in.bytes.size() != static_cast<std::uint64_t>(d.size)) {
        return fail("blob " + d.digest.short_str() + ": size mismatch: " + std::to_string(in.bytes.size()) +
                    " bytes, the manifest says " + std::to_string(d.size));
    }
    ev.emit(BlobEvent::Kind::started, d, 0);
    for (int session = 1;; ++session) {
        // Open a session: a mount attempt doubles as one (202 = not mounted, §2.5).
        http::Request post;
        post.method = "POST";
        post.url = c.url("/v2/" + repo + "/blobs/uploads/");
        if (!mount_from.empty()) {
            post.url += "?mount=" + d.digest.str() + "&from=" + mount_from;
        }
        post.headers = {{"Content-Type", "application/octet-stream"}};
        EDGESHIP_TRY_ASSIGN(auto opened, c.send(post, scopes));
        if (opened.status == 201 && !mount_from.empty()) {
            EDGESHIP_TRY(check_content_digest(opened.header("Docker-Content-Digest"), d.digest,
                                              "mount of " + d.digest.short_str()));
            result.outcome = BlobResult::Outcome::mounted;
            ev.emit(BlobEvent::Kind::mounted, d, static_cast<std::uint64_t>(d.size), "mounted from " + mount_from);
            return result;
        }
        const std::string* loc = opened.header("Location");
        if (opened.status != 202 || loc == nullptr || loc->empty()) {
            if (opened.ok()) {
                return fail("POST upload: registry answered " + std::to_string(opened.status) +
                            " without an upload Location");
            }
            return unexpected(answer_error("POST upload", opened));
        }
        EDGESHIP_TRY_ASSIGN(std::string location, http::resolve_location(post.url, *loc, "POST upload"));
        std::uint64_t chunk = c.shared().options.chunk_size;
        if (auto min = chunk_min_length(opened); chunk > 0 && min && chunk < *min) {
            chunk = *min;
        }
        // The bytes are hashed as they are sent (one read of the file); checked before the PUT, so a
        // corrupt local blob is never committed (the session is deleted instead).
        LocalHash hash;
        auto sent = send_range(c, location, d, in, file, 0, static_cast<std::uint64_t>(d.size), chunk, scopes, ev,
                                   result, hash);
        if (!sent) {
            abandon(c, location, scopes);
            return unexpected(std::move(sent).error());
        }
        if (!*sent) {
            // The registry lost the session (distribution 2.8.2 after a connection cut mid-PATCH answers
            // 404 BLOB_UPLOAD_INVALID to GET <location>): start this blob again with a new POST.
            abandon(c, location, scopes);
            if (session >= c.shared().http_options.retry.max_attempts) {
                return fail("upload session lost " + std::to_string(session) + " times; giving up");
            }
            ev.emit(BlobEvent::Kind::retried, d, 0, "upload session lost; starting the blob again");
            continue;
        }
        if (auto ok = hash.verify(d, in, file); !ok) {
            abandon(c, location, scopes);
            return unexpected(std::move(ok).error());
        }
        // Close: PUT <location>&digest= with an empty body (§2.3, §2.4).
        http::Request put;
        put.method = "PUT";
        put.url = append_digest(location, d.digest);
        put.headers = {{"Content-Type", "application/octet-stream"}};
        auto closed = c.send(put, scopes);
        if (!closed) {
            // The answer was lost: the blob may be there all the same.
            auto there = head_blob(c, repo, d.digest, scopes);
            if (there && *there) {
                break;
            }
            abandon(c, location, scopes);
            return unexpected(std::move(closed).error());
        }
        if (closed->status == 201 || closed->status == 204) {
            EDGESHIP_TRY(check_content_digest(closed->header("Docker-Content-Digest"), d.digest,
                                              "upload of " + d.digest.short_str()));
            break;
        }
        if (has_error_code(*closed, "DIGEST_INVALID") && session < 2) {
            // §11.4: after DIGEST_INVALID the session is gone; start over once from byte 0.
            ev.emit(BlobEvent::Kind::retried, d, 0, "registry rejected the digest; uploading again");
            c.shared().options.logger.debug("upload of " + d.digest.short_str() + ": " +
                                           describe_answer(*closed) + "; starting over");
            continue;
        }
        abandon(c, location, scopes);
        return unexpected(answer_error("PUT digest", *closed));
    }
    ev.emit(BlobEvent::Kind::uploaded, d, static_cast<std::uint64_t>(d.size));
    return result;
}

Result<BlobResult> push_growing(Shared& s, const std::string& repo, GrowingBlob::Impl& g, std::uint64_t chunk,
                                const BlobEventCallback& events) {
    Events ev(events);
    const Scopes scopes = push_scopes(repo);
    EDGESHIP_TRY_ASSIGN(auto c, Conn::create(s));
    http::Request post;
    post.method = "POST";
    post.url = c.url("/v2/" + repo + "/blobs/uploads/");
    post.headers = {{"Content-Type", "application/octet-stream"}};
    EDGESHIP_TRY_ASSIGN(auto opened, c.send(post, scopes));
    const std::string* loc = opened.header("Location");
    if (opened.status != 202 || loc == nullptr || loc->empty()) {
        return unexpected(answer_error("POST upload", opened));
    }
    EDGESHIP_TRY_ASSIGN(std::string location, http::resolve_location(post.url, *loc, "POST upload"));
    if (auto min = chunk_min_length(opened); min && chunk < *min) {
        chunk = *min;
    }
    auto give_up = [&](Error e) -> Result<BlobResult> {
        abandon(c, location, scopes);
        return unexpected(std::move(e));
    };
    oci::Descriptor d;
    d.media_type = "application/octet-stream";
    BlobInput in;
    in.is_file = true;
    BlobResult result{d, BlobResult::Outcome::uploaded, 0};
    LocalHash hash = LocalHash::off();
    std::shared_ptr<FileHandle> file;
    std::uint64_t offset = 0;
    for (bool last = false; !last;) {
        std::uint64_t end = 0;
        {
            std::unique_lock lock(g.mutex);
            for (;;) {
                if (g.aborted) {
                    lock.unlock();
                    return give_up(Error("the blob's producer stopped"));
                }
                if (g.open_error) {
                    Error e = *g.open_error;
                    lock.unlock();
                    return give_up(std::move(e));
                }
                if (g.file && (g.finished || g.available >= offset + chunk)) {
                    break;
                }
                if (s.options.cancel != nullptr && s.options.cancel->cancelled()) {
                    lock.unlock();
                    return give_up(core::cancelled_error());
                }
                g.cv.wait_for(lock, std::chrono::milliseconds(100));
            }
            file = g.file;
            last = g.finished;
            end = last ? g.size : g.available;
            if (last) {
                d.digest = g.digest;
                d.size = static_cast<std::int64_t>(g.size);
            }
        }
        auto sent = send_range(c, location, d, in, file, offset, end, 0, scopes, ev, result, hash);
        if (!sent) {
            return give_up(std::move(sent).error());
        }
        if (!*sent) {
            return give_up(Error("the registry lost the upload session"));
        }
        offset = std::max(offset, end);
    }
    // No second local hash here: the producer computed the digest from these very bytes as it wrote
    // them, and the registry hashes what it receives and refuses a PUT ?digest= that does not match
    // (DIGEST_INVALID, docs/design/registry.md §2.3), so nothing unverified is committed. Hashing the
    // file again cost a third sha256 pass over the layer (~0.15 s per 256 MiB on the bench machine),
    // on the cores the compressor and the registry need.
    http::Request put;
    put.method = "PUT";
    put.url = append_digest(location, d.digest);
    put.headers = {{"Content-Type", "application/octet-stream"}};
    auto closed = c.send(put, scopes);
    if (!closed) {
        return give_up(std::move(closed).error());
    }
    if (closed->status != 201 && closed->status != 204) {
        return give_up(answer_error("PUT digest", *closed));
    }
    EDGESHIP_TRY(check_content_digest(closed->header("Docker-Content-Digest"), d.digest,
                                      "upload of " + d.digest.short_str()));
    result.blob = d;
    ev.emit(BlobEvent::Kind::uploaded, d, static_cast<std::uint64_t>(d.size));
    return result;
}

Result<bool> send_range(Conn& c, std::string& location, const oci::Descriptor& d, const BlobInput& in,
                        const std::shared_ptr<FileHandle>& file, std::uint64_t from, std::uint64_t size,
                        std::uint64_t chunk, const Scopes& scopes, Events& ev, BlobResult& result,
                        LocalHash& hash) {
    if (size <= from) {
        return true;
    }
    const auto& policy = c.shared().http_options.retry;
    http::RetryPolicy once = policy;
    once.max_attempts = 1; // PATCH recovery is done here, from the registry's Range
    http::SendOptions so;
    so.retry = &once;
    std::mt19937_64 rng{std::random_device{}()};
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::uint64_t offset = from;
    int failures = 0;
    std::uint64_t last_event = from;
    while (offset < size) {
        std::uint64_t end = chunk == 0 ? size : std::min(size, offset + chunk);
        std::uint64_t base = offset;
        std::uint64_t read_in_request = 0;
        auto on_read = [&](const char* data, std::uint64_t n, std::uint64_t at) {
            hash.feed(data, n, at);
            read_in_request += n;
            result.bytes_sent += n;
            std::uint64_t done = base + read_in_request;
            if (done - last_event >= k_progress_step || done == size) {
                last_event = done;
                ev.emit(BlobEvent::Kind::progress, d, done);
            }
        };
        http::Request patch;
        patch.method = "PATCH";
        patch.url = location;
        // Plain "start-end" (no "bytes "), Content-Length from the source (§2.3, §5.6).
        patch.headers = {{"Content-Type", "application/octet-stream"},
                         {"Content-Range", std::to_string(offset) + "-" + std::to_string(end - 1)}};
        patch.body_source = range_source(file, in.bytes, offset, end, on_read);
        auto r = c.send(patch, scopes, so);
        std::string why;
        std::optional<std::chrono::milliseconds> retry_after;
        if (r && r->status == 202) {
            if (const auto* l = r->header("Location"); l != nullptr && !l->empty()) {
                // always the newest Location (§2.3)
                EDGESHIP_TRY_ASSIGN(location, http::resolve_location(location, *l, "PATCH upload"));
            }
            std::optional<std::uint64_t> next;
            if (const auto* range = r->header("Range")) {
                next = resume_offset(*range);
            }
            // Trust our count unless the registry says it holds less ("0-0" is ambiguous: ignored).
            std::uint64_t held = end;
            if (next && *next > 0 && *next < end) {
                held = *next;
                c.shared().options.logger.debug("upload of " + d.digest.short_str() + ": registry holds " +
                                               std::to_string(held) + " of " + std::to_string(end) + " bytes");
            }
            if (held <= base) {
                if (++failures >= policy.max_attempts) {
                    return fail("PATCH: the registry accepted no bytes after " + std::to_string(failures) +
                                " attempts");
                }
            } else {
                failures = 0;
            }
            offset = held;
            continue;
        }
        if (r && r->status == 404 &&
            (has_error_code(*r, "BLOB_UPLOAD_UNKNOWN") || has_error_code(*r, "BLOB_UPLOAD_INVALID"))) {
            return false;
        }
        if (r && !(recoverable_status(r->status) || r->status == 416)) {
            return unexpected(answer_error("PATCH", *r));
        }
        if (!r) {
            if (r.error().code() == ExitCode::interrupted || r.error().code() == ExitCode::auth) {
                return unexpected(std::move(r).error());
            }
            why = r.error().message();
        } else {
            why = "HTTP " + std::to_string(r->status);
            if (const auto* ra = r->header("Retry-After")) {
                retry_after = http::parse_retry_after(*ra, std::chrono::system_clock::now());
            }
        }
        if (++failures >= policy.max_attempts) {
            return fail("PATCH: gave up after " + std::to_string(failures) + " attempts: " +
                        (r ? describe_answer(*r) : why));
        }
        auto delay = retry_after ? std::min(*retry_after, policy.max_delay)
                                 : http::backoff_delay(policy, failures, uniform(rng));
        ev.emit(BlobEvent::Kind::retried, d, offset,
                "retry " + std::to_string(failures) + " after " + why);
        c.shared().options.logger.debug("upload of " + d.digest.short_str() + ": " + why + "; asking the registry " +
                                       "where the upload stands in " + std::to_string(delay.count()) + " ms");
        if (!c.shared().wait(delay)) {
            return unexpected(core::cancelled_error());
        }
        // §11.4: GET <location> ⇒ 204 + Range: resume at N+1.
        EDGESHIP_TRY_ASSIGN(auto status, upload_status(c, location, scopes));
        if (!status) {
            return false;
        }
        offset = *status;
    }
    return true;
}
Result<std::optional<std::uint64_t>> upload_status(Conn& c, std::string& location, const Scopes& scopes) {
    http::Request get;
    get.url = location;
    EDGESHIP_TRY_ASSIGN(auto r, c.send(get, scopes));
    if (r.status == 404) {
        c.shared().options.logger.debug("GET upload status: " + describe_answer(r));
        return std::optional<std::uint64_t>();
    }
    if (r.status != 204 && r.status != 200) {
        return unexpected(answer_error("GET upload status", r));
    }
    if (const auto* l = r.header("Location"); l != nullptr && !l->empty()) {
        EDGESHIP_TRY_ASSIGN(location, http::resolve_location(location, *l, "GET upload status"));
    }
    const auto* range = r.header("Range");
    auto next = range != nullptr ? resume_offset(*range) : std::optional<std::uint64_t>(0);
    if (!next) {
        return fail("GET upload status: unusable Range header \"" + *range + "\"");
    }
    return std::optional<std::uint64_t>(*next);
}
void abandon(Conn& c, const std::string& location, const Scopes& scopes) {
    http::Request del;
    del.method = "DELETE";
    del.url = location;
    http::RetryPolicy once;
    once.max_attempts = 1;
    http::SendOptions so;
    so.retry = &once;
    (void)c.send(del, scopes, so);
}

} // namespace edgeship::registry::detail
