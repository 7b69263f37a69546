// The registry transfer client (docs/design/registry.md §2-§4, §11): connections and auth retries, blob
// upload (HEAD skip, mount, streamed PATCH or chunks, resume, PUT ?digest=), manifests, pulls.

#include "registry/client.hpp"

#include "http/redact.hpp"
#include "core/sha256.hpp"
#include "http/url.hpp"
#include "oci/media_types.hpp"
#include "registry/protocol.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace edgeship::registry {

namespace {

using Scopes = std::vector<std::string>;

constexpr std::uint64_t k_progress_step = 1u << 20; // a progress event per MiB at most
/// PATCH size while a blob grows: ≥ 8 MiB (§9.6: smaller chunks cost a round trip each).
constexpr std::uint64_t k_growing_chunk = 16u << 20;

std::string api_host_of(const std::string& host) {
    return host == oci::k_docker_hub ? std::string(oci::k_docker_hub_api) : host;
}

ExitCode code_for(long status) {
    return status == 401 || status == 403 ? ExitCode::auth : ExitCode::failure;
}

/// "step: registry answered 500 …" with exit 4 for 401/403.
Error answer_error(const std::string& step, const http::Response& r) {
    return Error(step + ": " + describe_answer(r), code_for(r.status));
}

/// Serializes the caller's event callback (workers call it concurrently).
class Events {
public:
    explicit Events(const BlobEventCallback& cb) : m_cb(cb) {}
    void emit(BlobEvent::Kind kind, const oci::Descriptor& d, std::uint64_t done = 0, std::string detail = {}) {
        if (!m_cb) {
            return;
        }
        std::lock_guard lock(m_mutex);
        m_cb(BlobEvent{kind, d, done, std::move(detail)});
    }

private:
    const BlobEventCallback& m_cb;
    std::mutex m_mutex;
};

/// What every connection to one registry shares (the Authenticator is thread-safe).
struct Shared {
    RegistryOptions options;
    std::string host; ///< api host[:port]
    std::string base; ///< scheme://host
    http::ClientOptions http_options;
    std::shared_ptr<Authenticator> auth;
    std::mutex warn_mutex;
    std::set<std::string> warned;

    void note_warnings(const http::Response& r) {
        for (auto& w : warnings_299(r)) {
            std::lock_guard lock(warn_mutex);
            if (warned.insert(w).second) {
                options.logger.warning("registry " + host + ": " + w); // §4: shown, never acted on
            }
        }
    }

    bool wait(std::chrono::milliseconds d) const {
        auto end = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < end) {
            if (options.cancel != nullptr && options.cancel->cancelled()) {
                return false;
            }
            std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
                std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()),
                std::chrono::milliseconds(50)));
        }
        return options.cancel == nullptr || !options.cancel->cancelled();
    }
};

/// One HTTP connection (one libcurl handle: one per thread) plus the auth dance of §11.1-2.
class Conn {
public:
    static Result<Conn> create(Shared& shared) {
        EDGESHIP_TRY_ASSIGN(auto client, http::Client::create(shared.http_options));
        return Conn(shared, std::move(client));
    }

    Shared& shared() { return *m_shared; }
    std::string url(const std::string& path) const { return m_shared->base + path; }

    /// Sends with the cached Authorization for `scopes`; on a 401 answers the challenge once and resends
    /// (an `invalid_token` challenge first drops the cached token, §5.5). Other statuses are returned.
    Result<http::Response> send(http::Request req, const Scopes& scopes, const http::SendOptions& so = {}) {
        // A Location may point at another host: credentials stay with the registry's origin (§4, §11.8).
        const bool own_origin = http::url_origin(req.url) == http::url_origin(m_shared->base);
        if (own_origin) {
            set_auth(req, m_shared->auth->cached(scopes));
        }
        EDGESHIP_TRY_ASSIGN(auto resp, m_client.send(req, so));
        m_shared->note_warnings(resp);
        if (resp.status != 401 || !own_origin) {
            return resp;
        }
        auto challenges = header_values(resp, "WWW-Authenticate");
        if (challenges.empty()) {
            return resp;
        }
        if (is_invalid_token(challenges)) {
            m_shared->auth->invalidate(scopes);
        }
        EDGESHIP_TRY_ASSIGN(auto header, m_shared->auth->respond(challenges, scopes));
        if (req.body_source && req.body_source->rewind) {
            EDGESHIP_TRY(req.body_source->rewind());
        }
        set_auth(req, header);
        EDGESHIP_TRY_ASSIGN(auto again, m_client.send(req, so));
        m_shared->note_warnings(again);
        return again;
    }

private:
    Conn(Shared& shared, http::Client client) : m_shared(&shared), m_client(std::move(client)) {}

    static void set_auth(http::Request& req, const std::optional<std::string>& value) {
        std::erase_if(req.headers, [](const auto& h) {
            return h.first.size() == 13 && (h.first == "Authorization" || h.first == "authorization");
        });
        if (value && !value->empty()) {
            req.headers.emplace_back("Authorization", *value);
        }
    }

    Shared* m_shared;
    http::Client m_client;
};

/// Where a blob's bytes come from: a file (re-openable at any offset) or memory (config).
struct BlobInput {
    std::filesystem::path path;
    std::string_view bytes;
    bool is_file = false;
};

/// An open file shared by the body sources of one upload.
class FileHandle {
public:
    static Result<std::shared_ptr<FileHandle>> open(const std::filesystem::path& p) {
        int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            return fail(p.string() + ": cannot open: " + std::strerror(errno));
        }
        return std::shared_ptr<FileHandle>(new FileHandle(fd, p));
    }
    ~FileHandle() { ::close(m_fd); }
    Result<std::uint64_t> size() const {
        struct stat st {};
        if (::fstat(m_fd, &st) != 0) {
            return fail(m_path.string() + ": cannot stat: " + std::strerror(errno));
        }
        return static_cast<std::uint64_t>(st.st_size);
    }
    const std::filesystem::path& path() const { return m_path; }
    FileHandle(const FileHandle&) = delete;
    FileHandle& operator=(const FileHandle&) = delete;
    Result<std::size_t> read_at(char* buf, std::size_t n, std::uint64_t off) const {
        for (;;) {
            auto got = ::pread(m_fd, buf, n, static_cast<off_t>(off));
            if (got < 0 && errno == EINTR) {
                continue;
            }
            if (got < 0) {
                return fail(m_path.string() + ": read failed: " + std::strerror(errno));
            }
            return static_cast<std::size_t>(got);
        }
    }

private:
    FileHandle(int fd, std::filesystem::path p) : m_fd(fd), m_path(std::move(p)) {}
    int m_fd;
    std::filesystem::path m_path;
};

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

} // namespace

// --- GrowingBlob: a file another thread is still writing (§9.8) ---------------------------------------

struct GrowingBlob::Impl {
    std::mutex mutex;
    std::condition_variable cv;
    std::shared_ptr<FileHandle> file;
    std::optional<Error> open_error;
    std::uint64_t available = 0;
    bool finished = false;
    bool aborted = false;
    oci::Digest digest;
    std::uint64_t size = 0;
    std::filesystem::path final_path;
};

GrowingBlob::GrowingBlob() : m_impl(std::make_unique<Impl>()) {}
GrowingBlob::~GrowingBlob() = default;

void GrowingBlob::open(const std::filesystem::path& path) {
    auto f = FileHandle::open(path); // now: the producer renames the file when it is done
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

namespace {

/// Splits "host[:port]/repo/name" (ImageLayer::source_repository) into host and repository.
std::pair<std::string, std::string> split_source(const std::string& source) {
    auto slash = source.find('/');
    if (slash == std::string::npos) {
        return {"", source};
    }
    return {source.substr(0, slash), source.substr(slash + 1)};
}

std::string blob_path(const std::string& repo, const oci::Digest& d) { return "/v2/" + repo + "/blobs/" + d.str(); }

/// A temporary directory removed when this goes out of scope.
class ScratchDir {
public:
    static Result<ScratchDir> create(const std::string& parent) {
        std::error_code ec;
        std::filesystem::path base = parent.empty() ? std::filesystem::temp_directory_path(ec) : std::filesystem::path(parent);
        if (ec) {
            return fail("no temporary directory: " + ec.message());
        }
        std::string tmpl = (base / "edgeship-blob-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            return fail(base.string() + ": cannot create a scratch directory: " + std::strerror(errno));
        }
        return ScratchDir(tmpl);
    }
    ScratchDir(ScratchDir&& o) noexcept : m_path(std::move(o.m_path)) { o.m_path.clear(); }
    ScratchDir& operator=(ScratchDir&&) = delete;
    ~ScratchDir() {
        if (!m_path.empty()) {
            std::error_code ec;
            std::filesystem::remove_all(m_path, ec);
        }
    }
    const std::filesystem::path& path() const { return m_path; }

private:
    explicit ScratchDir(std::filesystem::path p) : m_path(std::move(p)) {}
    std::filesystem::path m_path;
};

/// Runs `tasks` on up to `workers` threads, one Conn each, in the given order; the first error stops
/// the start of further tasks and is returned.
template <class T>
Result<std::vector<T>> run_parallel(Shared& shared, int workers,
                                    const std::vector<std::function<Result<T>(Conn&)>>& tasks) {
    std::vector<std::optional<T>> results(tasks.size());
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mutex;
    std::optional<Error> first_error;
    auto record = [&](Error e) {
        std::lock_guard lock(mutex);
        if (!first_error) {
            first_error = std::move(e);
        }
        failed = true;
    };
    auto work = [&] {
        auto conn = Conn::create(shared);
        if (!conn) {
            record(std::move(conn).error());
            return;
        }
        for (;;) {
            if (failed) {
                return;
            }
            std::size_t i = next++;
            if (i >= tasks.size()) {
                return;
            }
            auto r = tasks[i](*conn);
            if (!r) {
                record(std::move(r).error());
                return;
            }
            results[i] = std::move(r).value();
        }
    };
    int n = std::max(1, std::min<int>(workers, static_cast<int>(tasks.size())));
    if (n == 1) {
        work();
    } else {
        std::vector<std::thread> threads;
        for (int i = 0; i < n; ++i) {
            threads.emplace_back(work);
        }
        for (auto& t : threads) {
            t.join();
        }
    }
    if (first_error) {
        return unexpected(std::move(*first_error));
    }
    std::vector<T> out;
    for (auto& r : results) {
        out.push_back(std::move(*r));
    }
    return out;
}

/// sha256 of a blob computed from the bytes as they are sent. Re-sent ranges (retries, resumes) are
/// skipped; if the stream was not read in one sequence the file is hashed again at the end.
class LocalHash {
public:
    /// A LocalHash that hashes nothing (the bytes were hashed by their producer; see push_growing).
    static LocalHash off() {
        LocalHash h;
        h.m_off = true;
        return h;
    }
    void feed(const char* data, std::uint64_t n, std::uint64_t at) {
        if (m_off) {
            return;
        }
        if (at == m_next) {
            m_sha.update(std::string_view(data, static_cast<std::size_t>(n)));
            m_next += n;
        } else if (at > m_next) {
            m_gap = true;
        }
    }
    Result<void> verify(const oci::Descriptor& d, const BlobInput& in, const std::shared_ptr<FileHandle>& file) {
        oci::Digest got;
        if (!in.is_file) {
            got = oci::Digest::of(in.bytes);
        } else if (!m_gap && m_next == static_cast<std::uint64_t>(d.size)) {
            got = oci::Digest::from_sha256_hex(m_sha.hex_digest());
        } else {
            EDGESHIP_TRY_ASSIGN(got, oci::Digest::of_file(file->path()));
        }
        if (got != d.digest) {
            return fail((in.is_file ? file->path().string() : "blob " + d.digest.short_str()) +
                        ": digest mismatch: content hashes to " + got.str() + ", expected " + d.digest.str());
        }
        return {};
    }

    /// The digest of the bytes sent, when they were [0, size) read in one sequence.
    std::optional<oci::Digest> sent_digest(std::uint64_t size) {
        if (m_gap || m_next != size) {
            return std::nullopt;
        }
        return oci::Digest::from_sha256_hex(m_sha.hex_digest());
    }

private:
    core::Sha256 m_sha;
    std::uint64_t m_next = 0;
    bool m_gap = false;
    bool m_off = false;
};

class RegistryImpl final : public Registry {
public:
    explicit RegistryImpl(std::unique_ptr<Shared> shared) : m_shared(std::move(shared)) {}

    const RegistryOptions& options() const override { return m_shared->options; }

    Result<void> ping() override {
        EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(*m_shared));
        http::Request req;
        req.url = conn.url("/v2/");
        auto r = conn.send(req, {});
        if (!r) {
            return unexpected(std::move(r).error().context("ping " + m_shared->host));
        }
        if (r->ok()) {
            return {};
        }
        if (r->status == 404) {
            return fail("ping " + m_shared->host + ": GET /v2/ answered 404: not an OCI distribution registry");
        }
        return unexpected(answer_error("ping " + m_shared->host + ": GET /v2/", *r));
    }

    Result<oci::Blob> get_manifest(const oci::Reference& ref) override {
        EDGESHIP_TRY(check_host(ref));
        EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(*m_shared));
        return fetch_manifest(conn, ref.repository, ref.manifest_ref(), ref.digest);
    }

    Result<RemoteImage> get_image(const oci::Reference& ref, const oci::Platform& platform) override {
        EDGESHIP_TRY(check_host(ref));
        EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(*m_shared));
        auto img = remote_image(conn, ref, platform);
        if (!img) {
            return unexpected(std::move(img).error().context("reading " + ref.str()));
        }
        return img;
    }

    Result<bool> blob_exists(const std::string& repository, const oci::Digest& digest) override {
        EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(*m_shared));
        return head_blob(conn, repository, digest, {repository_scope(repository, "pull")});
    }

    Result<TransferReport> push_image(const oci::LocalImage& image, const oci::Reference& dest,
                                      const BlobEventCallback& events) override {
        const std::string what = "push " + display(dest);
        if (auto r = check_host(dest); !r) {
            return unexpected(std::move(r).error().context(what));
        }
        if (dest.tag.empty() && !dest.digest) {
            return fail(what + ": the destination needs a tag or a digest");
        }
        Events ev(events);
        TransferReport report;
        const std::string manifest_ref = dest.tag.empty() ? dest.digest->str() : dest.tag;
        auto present = manifest_present(dest.repository, manifest_ref, image.manifest.descriptor.digest);
        if (!present) {
            return unexpected(std::move(present).error().context(what));
        }
        if (*present) {
            report_up_to_date({&image}, ev, report);
            report.reference = display(dest);
            report.digest = image.manifest.descriptor.digest;
            report.media_type = image.manifest.descriptor.media_type;
            return report;
        }
        auto r = push_one(image, dest.repository, manifest_ref, ev, report);
        if (!r) {
            return unexpected(std::move(r).error().context(what));
        }
        report.reference = display(dest);
        report.digest = *r;
        report.media_type = image.manifest.descriptor.media_type;
        return report;
    }

    Result<TransferReport> push_index(const std::vector<const oci::LocalImage*>& images, const oci::Blob& index,
                                      const oci::Reference& dest, const BlobEventCallback& events) override {
        const std::string what = "push " + display(dest);
        if (auto r = check_host(dest); !r) {
            return unexpected(std::move(r).error().context(what));
        }
        if (dest.tag.empty()) {
            return fail(what + ": an index is pushed under a tag");
        }
        Events ev(events);
        TransferReport report;
        auto present = manifest_present(dest.repository, dest.tag, index.descriptor.digest);
        if (!present) {
            return unexpected(std::move(present).error().context(what));
        }
        if (*present) {
            report_up_to_date(images, ev, report);
            report.reference = display(dest);
            report.digest = index.descriptor.digest;
            report.media_type = index.descriptor.media_type;
            return report;
        }
        for (const auto* image : images) {
            // §3.4: platform manifests first (by digest), then the index.
            auto r = push_one(*image, dest.repository, image->manifest.descriptor.digest.str(), ev, report);
            if (!r) {
                return unexpected(std::move(r).error().context(what).context(
                    "platform " + image->platform().str()));
            }
        }
        EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(*m_shared));
        auto d = put_manifest(conn, dest.repository, dest.tag, index);
        if (!d) {
            return unexpected(std::move(d).error().context(what));
        }
        report.reference = display(dest);
        report.digest = *d;
        report.media_type = index.descriptor.media_type;
        return report;
    }

    Result<BlobResult> push_growing_blob(const std::string& repo, GrowingBlob& blob, std::uint64_t chunk,
                                         const BlobEventCallback& events) override {
        auto r = push_growing(repo, blob.impl(), chunk == 0 ? k_growing_chunk : chunk, events);
        if (!r) {
            return unexpected(std::move(r).error().context("streaming upload to " + m_shared->host + "/" + repo));
        }
        return r;
    }

    Result<TransferReport> pull_to_layout(const oci::Reference& ref, oci::OciLayout& layout,
                                          const std::optional<oci::Platform>& platform, const std::string& tag,
                                          const BlobEventCallback& events) override {
        const std::string what = "pull " + ref.str();
        auto r = pull_impl(ref, layout, platform, tag, events);
        if (!r) {
            return unexpected(std::move(r).error().context(what));
        }
        return r;
    }

private:
    std::string display(const oci::Reference& ref) const {
        std::string s = ref.registry + "/" + ref.repository;
        if (!ref.tag.empty()) {
            s += ":" + ref.tag;
        }
        if (ref.digest) {
            s += "@" + ref.digest->str();
        }
        return s;
    }

    Result<void> check_host(const oci::Reference& ref) const {
        if (api_host_of(ref.api_host()) != m_shared->host) {
            return fail("reference " + ref.str() + " is on " + ref.api_host() + ", not on " + m_shared->host);
        }
        return {};
    }

    Scopes push_scopes(const std::string& repo) const { return {repository_scope(repo, "pull,push")}; }
    Scopes pull_scopes(const std::string& repo) const { return {repository_scope(repo, "pull")}; }

    // --- re-push of what is already there ---------------------------------------------------------

    /// Whether `repo:ref` already names the manifest `digest` (docs/design/registry.md §3.2: HEAD answers
    /// Docker-Content-Digest). A re-push of an unchanged image then costs one request instead of a HEAD per
    /// blob and a manifest PUT — as crane does (go-containerregistry remote.Write checks the existing
    /// manifest first). Blobs need no HEAD: the registry refused that manifest unless they were present.
    /// Anything but a 200 with the same digest (404, no header, another digest) means "push as usual".
    Result<bool> manifest_present(const std::string& repo, const std::string& ref, const oci::Digest& digest) {
        EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(*m_shared));
        http::Request head;
        head.method = "HEAD";
        head.url = conn.url("/v2/" + repo + "/manifests/" + ref);
        head.headers = {{"Accept", std::string(oci::media_type::manifest_accept)}}; // all four types (§3.2)
        head.redirects = http::Redirects::follow;
        // Push scope from the first request: the token serves the uploads that may follow.
        EDGESHIP_TRY_ASSIGN(auto r, conn.send(head, push_scopes(repo)));
        if (r.status != 200) {
            return false;
        }
        const auto* header = r.header("Docker-Content-Digest");
        if (header == nullptr || header->find_first_not_of(" \t") == std::string::npos) {
            return false;
        }
        return check_content_digest(header, digest, "").has_value(); // same digest, blanks trimmed
    }

    void report_up_to_date(const std::vector<const oci::LocalImage*>& images, Events& ev, TransferReport& report) {
        std::set<oci::Digest> reported;
        auto present = [&](const oci::Descriptor& d) {
            if (reported.insert(d.digest).second) {
                ev.emit(BlobEvent::Kind::skipped_exists, d, static_cast<std::uint64_t>(d.size));
                report.bytes_skipped += static_cast<std::uint64_t>(d.size);
                report.blobs.push_back(BlobResult{d, BlobResult::Outcome::skipped_exists, 0});
            }
        };
        for (const auto* image : images) {
            for (const auto& l : image->layers) {
                present(l.descriptor);
            }
            present(image->config.descriptor);
        }
        report.up_to_date = true;
    }

    // --- blobs -------------------------------------------------------------------------------------

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
            std::uint64_t chunk = m_shared->options.chunk_size;
            if (auto min = chunk_min_length(opened); chunk > 0 && min && chunk < *min) {
                chunk = *min;
            }
            // The bytes are hashed as they are sent (one read of the file); checked before the PUT, so a
            // corrupt local blob is never committed (the session is deleted instead).
            LocalHash hash;
            auto sent = send_body(c, location, d, in, file, chunk, scopes, ev, result, hash);
            if (!sent) {
                abandon(c, location, scopes);
                return unexpected(std::move(sent).error());
            }
            if (!*sent) {
                // The registry lost the session (distribution 2.8.2 after a connection cut mid-PATCH answers
                // 404 BLOB_UPLOAD_INVALID to GET <location>): start this blob again with a new POST.
                abandon(c, location, scopes);
                if (session >= m_shared->http_options.retry.max_attempts) {
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
                m_shared->options.logger.debug("upload of " + d.digest.short_str() + ": " +
                                               describe_answer(*closed) + "; starting over");
                continue;
            }
            abandon(c, location, scopes);
            return unexpected(answer_error("PUT digest", *closed));
        }
        ev.emit(BlobEvent::Kind::uploaded, d, static_cast<std::uint64_t>(d.size));
        return result;
    }

    /// GrowingBlob upload (§9.8, §2.3): one session, a PATCH per `chunk` bytes the producer has written, the
    /// rest after finish(); the hash of the bytes sent must equal the producer's digest before the PUT.
    Result<BlobResult> push_growing(const std::string& repo, GrowingBlob::Impl& g, std::uint64_t chunk,
                                    const BlobEventCallback& events) {
        Events ev(events);
        const Scopes scopes = push_scopes(repo);
        EDGESHIP_TRY_ASSIGN(auto c, Conn::create(*m_shared));
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
                    if (m_shared->options.cancel != nullptr && m_shared->options.cancel->cancelled()) {
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

    /// PATCHes [0, size) to the session (§2.3, §11.3-4), following the newest Location. `location` is
    /// updated. Recovers from network errors, 408/429/5xx and 416 by asking the registry for its Range.
    /// Returns false when the registry no longer knows the session (the caller starts over).
    Result<bool> send_body(Conn& c, std::string& location, const oci::Descriptor& d, const BlobInput& in,
                           const std::shared_ptr<FileHandle>& file, std::uint64_t chunk, const Scopes& scopes,
                           Events& ev, BlobResult& result, LocalHash& hash) {
        return send_range(c, location, d, in, file, 0, static_cast<std::uint64_t>(d.size), chunk, scopes, ev, result,
                          hash);
    }

    /// send_body for bytes [from, size) of a blob whose first `from` bytes the registry already holds.
    Result<bool> send_range(Conn& c, std::string& location, const oci::Descriptor& d, const BlobInput& in,
                            const std::shared_ptr<FileHandle>& file, std::uint64_t from, std::uint64_t size,
                            std::uint64_t chunk, const Scopes& scopes, Events& ev, BlobResult& result,
                            LocalHash& hash) {
        if (size <= from) {
            return true;
        }
        const auto& policy = m_shared->http_options.retry;
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
                    m_shared->options.logger.debug("upload of " + d.digest.short_str() + ": registry holds " +
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
            m_shared->options.logger.debug("upload of " + d.digest.short_str() + ": " + why + "; asking the registry " +
                                           "where the upload stands in " + std::to_string(delay.count()) + " ms");
            if (!m_shared->wait(delay)) {
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

    /// GET <location> (§2.3 end-13): where the registry stands. Updates `location` when it sends one.
    /// nullopt when the registry no longer knows the session (404).
    Result<std::optional<std::uint64_t>> upload_status(Conn& c, std::string& location, const Scopes& scopes) {
        http::Request get;
        get.url = location;
        EDGESHIP_TRY_ASSIGN(auto r, c.send(get, scopes));
        if (r.status == 404) {
            m_shared->options.logger.debug("GET upload status: " + describe_answer(r));
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

    /// DELETE <location> when giving up (§2.3); failures ignored.
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

    /// Downloads a blob into `out_dir` through a BlobFileWriter (digest and size verified), resuming a
    /// cut transfer with `Range: bytes=N-` (§2.6). Returns the committed path.
    Result<std::filesystem::path> download_blob(Conn& c, const std::string& repo, const oci::Descriptor& d,
                                                const std::filesystem::path& out_dir, Events& ev,
                                                std::uint64_t* bytes_received) {
        EDGESHIP_TRY_ASSIGN(auto writer, oci::BlobFileWriter::create(out_dir, m_shared->options.cancel));
        const auto& policy = m_shared->http_options.retry;
        http::RetryPolicy once = policy;
        once.max_attempts = 1;
        http::SendOptions so;
        so.retry = &once;
        std::uint64_t last_event = 0;
        ev.emit(BlobEvent::Kind::started, d, 0);
        for (int failures = 0;;) {
            const std::uint64_t have = writer.size();
            std::uint64_t skip = 0;
            http::Request get;
            get.url = c.url(blob_path(repo, d.digest));
            get.redirects = http::Redirects::follow;
            if (have > 0) {
                get.headers.emplace_back("Range", "bytes=" + std::to_string(have) + "-");
            }
            bool whole_body = true;
            get.sink_begin = [&](long status) -> Result<void> {
                whole_body = status != 206;
                return {};
            };
            get.body_sink = [&](std::string_view chunk) -> Result<void> {
                if (have > 0 && whole_body && skip < have) {
                    // The registry ignored Range and sent everything: drop what we already hold.
                    std::uint64_t drop = std::min<std::uint64_t>(have - skip, chunk.size());
                    skip += drop;
                    chunk.remove_prefix(static_cast<std::size_t>(drop));
                }
                if (chunk.empty()) {
                    return {};
                }
                EDGESHIP_TRY(writer.write(chunk));
                if (bytes_received != nullptr) {
                    *bytes_received += chunk.size();
                }
                std::uint64_t done = writer.size();
                if (done - last_event >= k_progress_step || done == static_cast<std::uint64_t>(d.size)) {
                    last_event = done;
                    ev.emit(BlobEvent::Kind::progress, d, done);
                }
                return {};
            };
            auto r = c.send(get, pull_scopes(repo), so);
            if (r && (r->status == 200 || r->status == 206)) {
                break;
            }
            std::string why;
            if (r) {
                if (!recoverable_status(r->status)) {
                    return unexpected(answer_error("GET " + d.digest.short_str(), *r));
                }
                why = "HTTP " + std::to_string(r->status);
            } else {
                if (r.error().code() == ExitCode::interrupted || r.error().code() == ExitCode::auth ||
                    r.error().message().find("request body") != std::string::npos) {
                    return unexpected(std::move(r).error());
                }
                why = r.error().message();
            }
            if (++failures >= policy.max_attempts) {
                return fail("GET " + d.digest.short_str() + ": gave up after " + std::to_string(failures) +
                            " attempts: " + why);
            }
            ev.emit(BlobEvent::Kind::retried, d, writer.size(), "retry " + std::to_string(failures) + " after " + why);
            if (!m_shared->wait(http::backoff_delay(policy, failures, 0.5))) {
                return unexpected(core::cancelled_error());
            }
        }
        auto path = writer.commit(d.digest, static_cast<std::uint64_t>(d.size));
        if (!path) {
            return unexpected(std::move(path).error().context("blob " + d.digest.short_str()));
        }
        ev.emit(BlobEvent::Kind::downloaded, d, static_cast<std::uint64_t>(d.size));
        return path;
    }

    /// A small blob (config) into memory, digest checked.
    Result<std::string> fetch_small_blob(Conn& c, const std::string& repo, const oci::Descriptor& d) {
        http::Request get;
        get.url = c.url(blob_path(repo, d.digest));
        get.redirects = http::Redirects::follow;
        EDGESHIP_TRY_ASSIGN(auto r, c.send(get, pull_scopes(repo)));
        if (r.status != 200) {
            return unexpected(answer_error("GET " + d.digest.short_str(), r));
        }
        auto got = oci::Digest::of(r.body);
        if (got != d.digest) {
            return fail("blob " + d.digest.short_str() + ": digest mismatch: content hashes to " + got.str());
        }
        return std::move(r.body);
    }

    // --- manifests ---------------------------------------------------------------------------------

    Result<oci::Blob> fetch_manifest(Conn& c, const std::string& repo, const std::string& ref,
                                     const std::optional<oci::Digest>& expected) {
        http::Request get;
        get.url = c.url("/v2/" + repo + "/manifests/" + ref);
        get.headers = {{"Accept", std::string(oci::media_type::manifest_accept)}}; // all four types (§3.2)
        get.redirects = http::Redirects::follow;
        EDGESHIP_TRY_ASSIGN(auto r, c.send(get, pull_scopes(repo)));
        const std::string what = "manifest " + repo + (ref.starts_with("sha256:") ? "@" : ":") + ref;
        if (r.status == 404) {
            return unexpected(Error(what + ": " + describe_answer(r)).hint("check the repository name and tag"));
        }
        if (r.status != 200) {
            return unexpected(answer_error("GET " + what, r));
        }
        auto digest = oci::Digest::of(r.body);
        if (expected && *expected != digest) {
            return fail(what + ": digest mismatch: content hashes to " + digest.str());
        }
        EDGESHIP_TRY(check_content_digest(r.header("Docker-Content-Digest"), digest, what));
        std::string media_type;
        if (const auto* ct = r.header("Content-Type")) {
            media_type = ct->substr(0, ct->find(';'));
            while (!media_type.empty() && media_type.back() == ' ') {
                media_type.pop_back();
            }
        }
        if (!oci::media_type::is_manifest(media_type) && !oci::media_type::is_index(media_type)) {
            auto j = nlohmann::json::parse(r.body, nullptr, false);
            media_type = j.is_discarded() ? "" : oci::sniff_media_type(j);
            if (media_type.empty() && j.is_object() && j.contains("manifests")) {
                media_type = std::string(oci::media_type::oci_index);
            } else if (media_type.empty() && j.is_object() && j.contains("layers")) {
                media_type = std::string(oci::media_type::oci_manifest);
            }
        }
        if (!oci::media_type::is_manifest(media_type) && !oci::media_type::is_index(media_type)) {
            return fail(what + ": unsupported manifest type \"" + media_type + "\"");
        }
        oci::Blob blob;
        blob.descriptor.media_type = media_type;
        blob.descriptor.digest = digest;
        blob.descriptor.size = static_cast<std::int64_t>(r.body.size());
        blob.bytes = std::move(r.body);
        return blob;
    }

    Result<oci::Digest> put_manifest(Conn& c, const std::string& repo, const std::string& ref, const oci::Blob& m) {
        http::Request put;
        put.method = "PUT";
        put.url = c.url("/v2/" + repo + "/manifests/" + ref);
        put.headers = {{"Content-Type", m.descriptor.media_type}}; // = mediaType, no parameters (§3.1)
        put.body = m.bytes;
        const std::string what = "manifest " + m.descriptor.digest.short_str();
        EDGESHIP_TRY_ASSIGN(auto r, c.send(put, push_scopes(repo)));
        if (r.status != 201 && r.status != 200) {
            return unexpected(answer_error("PUT " + what, r));
        }
        // Serialize once, hash those bytes, compare Docker-Content-Digest (§3.1, §11.5).
        auto local = oci::Digest::of(m.bytes);
        if (local != m.descriptor.digest) {
            return fail(what + ": bytes hash to " + local.str() + ", not to their descriptor's digest");
        }
        EDGESHIP_TRY(check_content_digest(r.header("Docker-Content-Digest"), local, "PUT " + what));
        return local;
    }

    // --- whole images ------------------------------------------------------------------------------

    /// Layers in parallel (largest first), then the config, then the manifest under `manifest_ref`.
    Result<oci::Digest> push_one(const oci::LocalImage& image, const std::string& repo, const std::string& manifest_ref,
                                 Events& ev, TransferReport& report) {
        struct LayerJob {
            const oci::ImageLayer* layer;
            std::size_t number; ///< 1-based, for messages
        };
        std::vector<LayerJob> jobs;
        std::set<oci::Digest> seen;
        for (std::size_t i = 0; i < image.layers.size(); ++i) {
            if (seen.insert(image.layers[i].descriptor.digest).second) {
                jobs.push_back({&image.layers[i], i + 1});
            }
        }
        std::stable_sort(jobs.begin(), jobs.end(), [](const LayerJob& a, const LayerJob& b) {
            return a.layer->descriptor.size > b.layer->descriptor.size; // largest first (containers/image#1738)
        });
        const std::size_t total = image.layers.size();
        std::vector<std::function<Result<BlobResult>(Conn&)>> tasks;
        for (const auto& job : jobs) {
            tasks.emplace_back([this, job, total, &repo, &ev](Conn& c) -> Result<BlobResult> {
                auto r = push_layer(c, repo, *job.layer, ev);
                if (!r) {
                    ev.emit(BlobEvent::Kind::failed, job.layer->descriptor, 0, r.error().message());
                    return unexpected(std::move(r).error().context(
                        "layer " + job.layer->descriptor.digest.short_str() + "… (" + std::to_string(job.number) +
                        " of " + std::to_string(total) + ")"));
                }
                return r;
            });
        }
        // The config's HEAD runs beside the layers' (a re-push with everything present then costs one
        // round trip of HEADs, then the manifest PUT); a missing config is still uploaded after every
        // layer (below).
        const auto& cfg_d = image.config.descriptor;
        std::atomic<bool> config_present{false};
        tasks.emplace_back([this, &repo, &cfg_d, &config_present](Conn& c) -> Result<BlobResult> {
            auto there = head_blob(c, repo, cfg_d.digest, push_scopes(repo));
            if (!there) {
                return unexpected(std::move(there).error().context("config " + cfg_d.digest.short_str() + "…"));
            }
            config_present = *there;
            return BlobResult{cfg_d, BlobResult::Outcome::skipped_exists, 0};
        });
        EDGESHIP_TRY_ASSIGN(auto layer_results, run_parallel<BlobResult>(*m_shared, m_shared->options.parallel_blobs, tasks));
        layer_results.pop_back(); // the config's HEAD
        EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(*m_shared));
        // Config after the layers (§3.1 order: layers, config, manifest).
        BlobInput cfg_in;
        cfg_in.bytes = image.config.bytes;
        // An image read from another repository of this registry: its config is mounted like its layers.
        std::string cfg_from;
        for (const auto& l : image.layers) {
            auto [h, r] = split_source(l.source_repository);
            if (!l.source_repository.empty() && api_host_of(h) == m_shared->host && r != repo) {
                cfg_from = r;
                break;
            }
        }
        Result<BlobResult> cfg = BlobResult{cfg_d, BlobResult::Outcome::skipped_exists, 0};
        if (config_present) {
            ev.emit(BlobEvent::Kind::skipped_exists, cfg_d, static_cast<std::uint64_t>(cfg_d.size));
        } else {
            cfg = upload_blob(conn, repo, cfg_d, cfg_in, cfg_from, ev);
        }
        if (!cfg) {
            ev.emit(BlobEvent::Kind::failed, image.config.descriptor, 0, cfg.error().message());
            return unexpected(std::move(cfg).error().context("config " + image.config.descriptor.digest.short_str() + "…"));
        }
        // Report in manifest order.
        std::map<oci::Digest, BlobResult> by_digest;
        for (auto& b : layer_results) {
            by_digest.emplace(b.blob.digest, b);
        }
        std::set<oci::Digest> reported;
        auto account = [&report](const BlobResult& b) {
            if (b.outcome == BlobResult::Outcome::uploaded) {
                report.bytes_uploaded += b.bytes_sent;
            } else {
                report.bytes_skipped += static_cast<std::uint64_t>(b.blob.size);
            }
            report.blobs.push_back(b);
        };
        for (const auto& l : image.layers) {
            if (reported.insert(l.descriptor.digest).second) {
                account(by_digest.at(l.descriptor.digest));
            }
        }
        account(*cfg);
        // Manifest last, only after every blob is verified present (§3.1).
        return put_manifest(conn, repo, manifest_ref, image.manifest);
    }

    Result<BlobResult> push_layer(Conn& c, const std::string& repo, const oci::ImageLayer& layer, Events& ev) {
        const auto& d = layer.descriptor;
        if (!layer.path.empty()) {
            BlobInput in;
            in.path = layer.path;
            in.is_file = true;
            // Known in another repository of this registry: mount, and use the session on a 202 (§11.3).
            std::string mount_from;
            if (!layer.source_repository.empty()) {
                auto [h, r] = split_source(layer.source_repository);
                if (api_host_of(h) == m_shared->host && r != repo) {
                    mount_from = r;
                }
            }
            return upload_blob(c, repo, d, in, mount_from, ev);
        }
        if (layer.source_repository.empty()) {
            return fail("the layer has neither a file nor a source repository");
        }
        auto [src_host, src_repo] = split_source(layer.source_repository);
        if (api_host_of(src_host) == m_shared->host) {
            if (src_repo == repo) {
                EDGESHIP_TRY_ASSIGN(bool there, head_blob(c, repo, d.digest, push_scopes(repo)));
                if (!there) {
                    return fail("blob is missing from " + layer.source_repository);
                }
                ev.emit(BlobEvent::Kind::skipped_exists, d, static_cast<std::uint64_t>(d.size));
                return BlobResult{d, BlobResult::Outcome::skipped_exists, 0};
            }
            // Same registry, another repository: cross-repository mount (§2.5).
            EDGESHIP_TRY_ASSIGN(auto mounted, try_mount(c, repo, d, src_repo, ev));
            if (mounted) {
                return *mounted;
            }
            // Not mounted (202): the bytes have to come through us (below).
        }
        return stream_through(c, repo, layer, src_host, src_repo, ev);
    }

    /// HEAD, then POST ?mount=&from= (§2.5). nullopt when the registry opened an ordinary session instead
    /// (202): that session is cancelled, as there are no local bytes to send into it.
    Result<std::optional<BlobResult>> try_mount(Conn& c, const std::string& repo, const oci::Descriptor& d,
                                                const std::string& from, Events& ev) {
        Scopes scopes = push_scopes(repo);
        scopes.push_back(repository_scope(from, "pull"));
        EDGESHIP_TRY_ASSIGN(bool exists, head_blob(c, repo, d.digest, scopes));
        if (exists) {
            ev.emit(BlobEvent::Kind::skipped_exists, d, static_cast<std::uint64_t>(d.size));
            return std::optional<BlobResult>(BlobResult{d, BlobResult::Outcome::skipped_exists, 0});
        }
        http::Request post;
        post.method = "POST";
        post.url = c.url("/v2/" + repo + "/blobs/uploads/?mount=" + d.digest.str() + "&from=" + from);
        post.headers = {{"Content-Type", "application/octet-stream"}};
        EDGESHIP_TRY_ASSIGN(auto r, c.send(post, scopes));
        if (r.status == 201) {
            EDGESHIP_TRY(check_content_digest(r.header("Docker-Content-Digest"), d.digest, "mount"));
            ev.emit(BlobEvent::Kind::mounted, d, static_cast<std::uint64_t>(d.size), "mounted from " + from);
            return std::optional<BlobResult>(BlobResult{d, BlobResult::Outcome::mounted, 0});
        }
        if (r.status == 202) {
            if (const auto* loc = r.header("Location"); loc != nullptr && !loc->empty()) {
                if (auto where = http::resolve_location(post.url, *loc, "POST mount"); where) {
                    abandon(c, *where, scopes); // an unused session; never followed off the registry (§4)
                }
            }
            m_shared->options.logger.debug(d.digest.short_str() + ": not mounted from " + from +
                                           "; copying it through");
            return std::optional<BlobResult>();
        }
        return unexpected(answer_error("POST mount", r));
    }

    /// A layer held by another registry: GET it into a scratch file (digest verified), upload, remove.
    Result<BlobResult> stream_through(Conn& c, const std::string& repo, const oci::ImageLayer& layer,
                                      const std::string& src_host, const std::string& src_repo, Events& ev) {
        const auto& d = layer.descriptor;
        EDGESHIP_TRY_ASSIGN(bool there, head_blob(c, repo, d.digest, push_scopes(repo)));
        if (there) {
            ev.emit(BlobEvent::Kind::skipped_exists, d, static_cast<std::uint64_t>(d.size));
            return BlobResult{d, BlobResult::Outcome::skipped_exists, 0};
        }
        RegistryOptions src_opts;
        if (m_shared->options.options_for_host) {
            EDGESHIP_TRY_ASSIGN(src_opts, m_shared->options.options_for_host(src_host));
        } else {
            src_opts = m_shared->options;
            src_opts.host = src_host;
            src_opts.credential = Credential{};
        }
        src_opts.host = src_host;
        EDGESHIP_TRY_ASSIGN(auto src, connect_shared(std::move(src_opts)));
        EDGESHIP_TRY_ASSIGN(auto src_conn, Conn::create(*src));
        EDGESHIP_TRY_ASSIGN(auto scratch, ScratchDir::create(m_shared->options.scratch_dir));
        BlobEventCallback none;
        Events quiet{none};
        auto path = download_blob(src_conn, src_repo, d, scratch.path(), quiet, nullptr);
        if (!path) {
            return unexpected(std::move(path).error().context("reading it from " + src_host + "/" + src_repo));
        }
        BlobInput in;
        in.path = *path;
        in.is_file = true;
        return upload_blob(c, repo, d, in, "", ev);
    }

    Result<RemoteImage> remote_image(Conn& c, const oci::Reference& ref, const oci::Platform& platform) {
        EDGESHIP_TRY_ASSIGN(auto top, fetch_manifest(c, ref.repository, ref.manifest_ref(), ref.digest));
        oci::Blob manifest_blob = top;
        if (oci::media_type::is_index(top.descriptor.media_type)) {
            EDGESHIP_TRY_ASSIGN(auto index, oci::Index::parse(top.bytes, "index of " + ref.str()));
            EDGESHIP_TRY_ASSIGN(auto entry, choose_platform(index, platform, ref.str()));
            EDGESHIP_TRY_ASSIGN(manifest_blob, fetch_manifest(c, ref.repository, entry.digest.str(), entry.digest));
            manifest_blob.descriptor.platform = entry.platform;
        }
        EDGESHIP_TRY_ASSIGN(auto manifest, oci::Manifest::parse(manifest_blob.bytes, "manifest of " + ref.str()));
        EDGESHIP_TRY_ASSIGN(auto cfg_bytes, fetch_small_blob(c, ref.repository, manifest.config));
        EDGESHIP_TRY_ASSIGN(auto cfg, oci::ImageConfig::parse(cfg_bytes, "config of " + ref.str()));
        if (cfg.diff_ids.size() != manifest.layers.size()) {
            return fail("config of " + ref.str() + ": " + std::to_string(cfg.diff_ids.size()) +
                        " diff_ids for " + std::to_string(manifest.layers.size()) + " layers");
        }
        RemoteImage img;
        img.manifest = manifest_blob;
        if (!img.manifest.descriptor.platform) {
            img.manifest.descriptor.platform = cfg.platform();
        }
        img.config.bytes = std::move(cfg_bytes);
        img.config.descriptor = manifest.config;
        img.parsed_config = cfg;
        for (std::size_t i = 0; i < manifest.layers.size(); ++i) {
            oci::ImageLayer l;
            l.descriptor = manifest.layers[i];
            l.diff_id = cfg.diff_ids[i];
            l.source_repository = ref.registry + "/" + ref.repository;
            img.layers.push_back(std::move(l));
        }
        img.parsed_manifest = std::move(manifest);
        return img;
    }

    static Result<oci::Descriptor> choose_platform(const oci::Index& index, const oci::Platform& p,
                                                   const std::string& what) {
        std::string known;
        for (const auto& m : index.manifests) {
            if (!m.platform) {
                continue;
            }
            known += (known.empty() ? "" : ", ") + m.platform->str();
            if (m.platform->os == p.os && m.platform->architecture == p.architecture &&
                (p.variant.empty() || m.platform->variant == p.variant)) {
                return m;
            }
        }
        return fail(what + ": no image for platform " + p.str() + " (the index has: " +
                    (known.empty() ? "none" : known) + ")");
    }

    Result<TransferReport> pull_impl(const oci::Reference& ref, oci::OciLayout& layout,
                                     const std::optional<oci::Platform>& platform, const std::string& tag_arg,
                                     const BlobEventCallback& events) {
        EDGESHIP_TRY(check_host(ref));
        std::string tag = tag_arg.empty() ? ref.tag : tag_arg;
        if (tag.empty()) {
            return unexpected(Error("a reference by digest needs a tag for the layout").hint("pass --tag NAME"));
        }
        if (!oci::is_valid_ref_name(tag)) {
            return fail("invalid layout tag \"" + tag + "\"");
        }
        Events ev(events);
        TransferReport report;
        report.reference = display(ref);
        EDGESHIP_TRY_ASSIGN(auto conn, Conn::create(*m_shared));
        EDGESHIP_TRY_ASSIGN(auto top, fetch_manifest(conn, ref.repository, ref.manifest_ref(), ref.digest));
        oci::Descriptor tagged = top.descriptor;
        if (oci::media_type::is_index(top.descriptor.media_type)) {
            EDGESHIP_TRY_ASSIGN(auto index, oci::Index::parse(top.bytes, "index of " + ref.str()));
            if (platform) {
                EDGESHIP_TRY_ASSIGN(auto entry, choose_platform(index, *platform, ref.str()));
                EDGESHIP_TRY_ASSIGN(auto m, fetch_manifest(conn, ref.repository, entry.digest.str(), entry.digest));
                EDGESHIP_TRY(pull_image(conn, ref.repository, m, layout, ev, report));
                tagged = m.descriptor;
            } else {
                for (const auto& entry : index.manifests) {
                    EDGESHIP_TRY_ASSIGN(auto m, fetch_manifest(conn, ref.repository, entry.digest.str(), entry.digest));
                    if (!oci::media_type::is_manifest(m.descriptor.media_type)) {
                        return fail("index of " + ref.str() + ": nested index " + entry.digest.str() + " is not supported");
                    }
                    EDGESHIP_TRY(pull_image(conn, ref.repository, m, layout, ev, report));
                }
                EDGESHIP_TRY(layout.write_blob(top));
            }
        } else {
            EDGESHIP_TRY(pull_image(conn, ref.repository, top, layout, ev, report));
        }
        // index.json last, atomically: an interrupted pull never leaves a tag to a missing blob.
        EDGESHIP_TRY(layout.set_tag(tagged, tag));
        report.digest = tagged.digest;
        report.media_type = tagged.media_type;
        return report;
    }

    Result<void> pull_image(Conn& conn, const std::string& repo, const oci::Blob& manifest_blob,
                            oci::OciLayout& layout, Events& ev, TransferReport& report) {
        EDGESHIP_TRY_ASSIGN(auto manifest, oci::Manifest::parse(manifest_blob.bytes,
                                                                "manifest " + manifest_blob.descriptor.digest.short_str()));
        std::vector<oci::Descriptor> layers;
        std::set<oci::Digest> seen;
        for (const auto& l : manifest.layers) {
            if (seen.insert(l.digest).second) {
                layers.push_back(l);
            }
        }
        std::stable_sort(layers.begin(), layers.end(), [](const auto& a, const auto& b) { return a.size > b.size; });
        const auto blobs_dir = layout.blobs_dir();
        std::vector<std::function<Result<BlobResult>(Conn&)>> tasks;
        for (const auto& d : layers) {
            tasks.emplace_back([this, d, &repo, &layout, &ev, blobs_dir](Conn& c) -> Result<BlobResult> {
                if (layout.has_blob(d.digest)) {
                    ev.emit(BlobEvent::Kind::skipped_exists, d, static_cast<std::uint64_t>(d.size));
                    return BlobResult{d, BlobResult::Outcome::skipped_exists, 0};
                }
                std::uint64_t got = 0;
                auto p = download_blob(c, repo, d, blobs_dir, ev, &got);
                if (!p) {
                    ev.emit(BlobEvent::Kind::failed, d, 0, p.error().message());
                    return unexpected(std::move(p).error().context("layer " + d.digest.short_str() + "…"));
                }
                return BlobResult{d, BlobResult::Outcome::downloaded, got};
            });
        }
        EDGESHIP_TRY_ASSIGN(auto results, run_parallel<BlobResult>(*m_shared, m_shared->options.parallel_blobs, tasks));
        BlobResult cfg_result{manifest.config, BlobResult::Outcome::skipped_exists, 0};
        if (!layout.has_blob(manifest.config.digest)) {
            EDGESHIP_TRY_ASSIGN(auto cfg, fetch_small_blob(conn, repo, manifest.config));
            oci::Blob b{std::move(cfg), manifest.config};
            EDGESHIP_TRY(layout.write_blob(b));
            cfg_result = BlobResult{manifest.config, BlobResult::Outcome::downloaded, b.bytes.size()};
            ev.emit(BlobEvent::Kind::downloaded, manifest.config, b.bytes.size());
        }
        results.push_back(cfg_result);
        for (const auto& b : results) {
            if (b.outcome == BlobResult::Outcome::downloaded) {
                report.bytes_uploaded += b.bytes_sent; // for a pull: bytes transferred
            } else {
                report.bytes_skipped += static_cast<std::uint64_t>(b.blob.size);
            }
            report.blobs.push_back(b);
        }
        EDGESHIP_TRY(layout.write_blob(manifest_blob));
        return {};
    }

public:
    static Result<std::unique_ptr<Shared>> connect_shared(RegistryOptions options) {
        auto shared = std::make_unique<Shared>();
        if (options.host.empty()) {
            return fail("registry host is empty");
        }
        // Workers log concurrently: serialize the caller's sink (core::Logger leaves that to the caller).
        if (auto inner = options.logger; true) {
            auto mutex = std::make_shared<std::mutex>();
            options.logger = core::Logger([mutex, inner](core::LogLevel level, std::string_view msg) {
                std::lock_guard lock(*mutex);
                inner.log(level, msg);
            });
        }
        shared->host = api_host_of(options.host);
        shared->base = (options.transport == Transport::plain_http ? "http://" : "https://") + shared->host;
        http::ClientOptions ho;
        ho.tls.ca_file = options.ca_file;
        ho.tls.insecure = options.transport == Transport::https_insecure ? http::Insecure::yes : http::Insecure::no;
        ho.allow_http = options.transport == Transport::plain_http ? http::AllowHttp::yes : http::AllowHttp::no;
        ho.user_agent = options.user_agent;
        ho.retry = registry_retry_policy(options.retry);
        ho.logger = options.logger;
        ho.cancel = options.cancel;
        ho.request_timeout = std::chrono::milliseconds(120000);
        if (options.parallel_blobs < 1) {
            options.parallel_blobs = 1;
        }
        AuthenticatorOptions ao;
        ao.registry_host = shared->host;
        ao.credential = options.credential;
        ao.http = ho;
        EDGESHIP_TRY_ASSIGN(shared->auth, Authenticator::create(std::move(ao)));
        // Check the client options once (a --ca-file that does not exist fails here, not per thread).
        EDGESHIP_TRY(http::Client::create(ho));
        shared->http_options = std::move(ho);
        shared->options = std::move(options);
        return shared;
    }

private:
    std::unique_ptr<Shared> m_shared;
};

} // namespace

Result<std::unique_ptr<Registry>> Registry::connect(RegistryOptions options) {
    EDGESHIP_TRY_ASSIGN(auto shared, RegistryImpl::connect_shared(std::move(options)));
    return std::unique_ptr<Registry>(std::make_unique<RegistryImpl>(std::move(shared)));
}

} // namespace edgeship::registry
