#pragma once

// An in-process OCI distribution registry for the transfer client's unit tests (docs/design/registry.md
// §2-§5): a small HTTP/1.1 server on 127.0.0.1 (free port, one thread, one connection at a time, each
// answer closing its connection) that keeps blobs, upload sessions and manifests in memory. It speaks
// /v2/ (optionally behind a Basic or Bearer challenge with a token endpoint), HEAD/GET blobs, POST uploads
// (with ?mount=&from=), PATCH (whole or Content-Range chunks, 416 out of order), PUT ?digest= (sha256
// checked), GET upload status, DELETE sessions and PUT/GET/HEAD manifests with Docker-Content-Digest.
// Faults are injected by the test: a PATCH cut after N bytes, one-shot error answers, mounts refused,
// wrong digests. Bounded: accept polls a stop flag every 50 ms, reads give up after 5 s of silence.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <atomic>
#include <vector>

namespace edgeship::test {

class FakeRegistry {
public:
    enum class Auth { none, basic, bearer };
    struct Options {
        Auth auth = Auth::none;
        std::string username = "alice"; ///< Basic credential (of /v2/ or of the token endpoint)
        std::string password = "s3cret";
    };

    /// A request as it arrived (the body's size only: bodies are kept in the registry's state).
    struct Seen {
        std::string method;
        std::string target;        ///< path and query
        std::string authorization; ///< the Authorization header, "" when absent
        std::string content_range; ///< PATCH Content-Range, "" when absent
        std::uint64_t body_bytes = 0;
    };

    FakeRegistry() : FakeRegistry(Options{}) {}
    explicit FakeRegistry(Options options);
    ~FakeRegistry();
    FakeRegistry(const FakeRegistry&) = delete;
    FakeRegistry& operator=(const FakeRegistry&) = delete;

    std::string host() const { return "127.0.0.1:" + std::to_string(m_port); }

    // --- state -----------------------------------------------------------------------------------
    /// Stores `bytes` as a blob of `repo`; returns its "sha256:…" digest.
    std::string put_blob(const std::string& repo, const std::string& bytes);
    bool has_blob(const std::string& repo, const std::string& digest) const;
    std::optional<std::string> blob(const std::string& repo, const std::string& digest) const;
    /// The manifest bytes under a tag or digest.
    std::optional<std::string> manifest(const std::string& repo, const std::string& ref) const;
    /// Stores manifest bytes under `tag` (and their digest) with `media_type`; returns the digest.
    std::string put_manifest(const std::string& repo, const std::string& tag, const std::string& bytes,
                             const std::string& media_type);
    std::vector<Seen> requests() const;
    /// Requests whose "METHOD target" starts with `prefix` (e.g. "PUT /v2/app/manifests/").
    std::vector<Seen> requests_matching(const std::string& prefix) const;
    std::size_t open_sessions() const;
    std::vector<std::string> token_scopes() const; ///< the scope= of every token request, in order

    // --- faults ----------------------------------------------------------------------------------
    /// The next PATCH keeps its first `bytes` body bytes in the session, then the connection is cut
    /// without an answer (a network failure mid-upload).
    void cut_next_patch_after(std::uint64_t bytes);
    /// The next request whose "METHOD target" starts with `prefix` is answered `status` (a registry error
    /// body; Retry-After: 0 for 429/503) and changes nothing.
    void fail_once(const std::string& prefix, int status);
    /// POST ?mount= opens an ordinary session (202) instead of mounting, as registries may.
    void refuse_mounts(bool refuse = true);
    /// Manifest PUTs answer a Docker-Content-Digest that is not the digest of the bytes received.
    void lie_about_manifest_digest(bool lie = true);
    /// GETs of `digest` in any repository answer `bytes` instead of the blob.
    void serve_wrong_bytes(const std::string& digest, const std::string& bytes);

    struct Request; ///< a parsed request (fake_registry.cpp)
    struct Reply;   ///< an answer before it is written

private:
    void loop();
    void serve(int fd);
    Reply handle(const Request& req, int fd, bool& cut);
    Reply handle_blobs(const Request& req, const std::string& repo, const std::string& rest, int fd, bool& cut);
    Reply handle_manifests(const Request& req, const std::string& repo, const std::string& ref);
    std::optional<Reply> check_auth(const Request& req);

    Options m_options;
    int m_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;

    mutable std::mutex m_mutex;
    struct Upload {
        std::string repo;
        std::string bytes;
    };
    struct Manifest {
        std::string bytes;
        std::string media_type;
    };
    std::map<std::string, std::map<std::string, std::string>> m_blobs;    ///< repo → digest → bytes
    std::map<std::string, std::map<std::string, Manifest>> m_manifests;   ///< repo → tag or digest → manifest
    std::map<std::string, Upload> m_uploads;                              ///< session id → upload
    int m_next_session = 1;
    std::vector<Seen> m_seen;
    std::vector<std::string> m_token_scopes;
    std::optional<std::uint64_t> m_cut_patch_after;
    std::vector<std::pair<std::string, int>> m_fail_once;
    bool m_refuse_mounts = false;
    bool m_lie_manifest_digest = false;
    std::map<std::string, std::string> m_wrong_bytes;
    std::string m_token = "fake-token-1";
};

} // namespace edgeship::test
