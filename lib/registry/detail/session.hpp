#pragma once

// What every transfer of the registry client stands on (docs/design/registry.md §4, §5, §11.1-2): the
// state shared by one registry's connections (options, base URL, the thread-safe Authenticator, 299
// warnings shown once), one connection with the auth dance, and the worker pool that gives each thread
// its own connection. Internal to lib/registry.

#include "registry/client.hpp"
#include "registry/protocol.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace edgeship::registry::detail {

using Scopes = std::vector<std::string>;

constexpr std::uint64_t k_progress_step = 1u << 20; // a progress event per MiB at most
/// PATCH size while a blob grows: ≥ 8 MiB (§9.6: smaller chunks cost a round trip each).
constexpr std::uint64_t k_growing_chunk = 16u << 20;

/// docker.io → registry-1.docker.io; every other host as given.
std::string api_host_of(const std::string& host);

/// "step: registry answered 500 …" with exit 4 for 401/403.
Error answer_error(const std::string& step, const http::Response& r);

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

    /// Shows each 299 Warning once (§4: shown, never acted on).
    void note_warnings(const http::Response& r);
    /// Sleeps `d` in slices; false when cancelled meanwhile.
    bool wait(std::chrono::milliseconds d) const;
};

/// Checks `options` and builds the shared state of one registry (its Authenticator, its HTTP options).
Result<std::unique_ptr<Shared>> connect_session(RegistryOptions options);

/// One HTTP connection (one libcurl handle: one per thread) plus the auth dance of §11.1-2.
class Conn {
public:
    static Result<Conn> create(Shared& shared);

    Shared& shared() { return *m_shared; }
    std::string url(const std::string& path) const { return m_shared->base + path; }

    /// Sends with the cached Authorization for `scopes`; on a 401 answers the challenge once and resends
    /// (an `invalid_token` challenge first drops the cached token, §5.5). Other statuses are returned.
    Result<http::Response> send(http::Request req, const Scopes& scopes, const http::SendOptions& so = {});

private:
    Conn(Shared& shared, http::Client client) : m_shared(&shared), m_client(std::move(client)) {}

    Shared* m_shared;
    http::Client m_client;
};

inline Scopes push_scopes(const std::string& repo) { return {repository_scope(repo, "pull,push")}; }
inline Scopes pull_scopes(const std::string& repo) { return {repository_scope(repo, "pull")}; }
inline std::string blob_path(const std::string& repo, const oci::Digest& d) {
    return "/v2/" + repo + "/blobs/" + d.str();
}

/// host/repo:tag@digest, as reports and errors show a reference.
std::string display(const oci::Reference& ref);

/// An error unless `ref` is on this registry.
Result<void> check_host(const Shared& s, const oci::Reference& ref);

/// Whether `blob` is in another repository of this registry (then it can be mounted from there).
inline bool mountable_from(const Shared& s, const oci::RemoteBlob& blob, const std::string& repo) {
    return api_host_of(blob.host) == s.host && blob.repository != repo;
}

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

} // namespace edgeship::registry::detail
