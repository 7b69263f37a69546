#pragma once

// A general HTTPS client over libcurl. It knows nothing about IoT Hub or registries: callers build
// requests, decide what a status means and turn error bodies into messages (http/error.hpp helps).

#include "core/cancel.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "http/retry.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgeship::http {

/// Header list in send order; names compared case-insensitively by Response::header().
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
    std::string method = "GET"; ///< GET, HEAD, POST, PUT, PATCH, DELETE
    std::string url;            ///< absolute; https:// unless ClientOptions::allow_http
    Headers headers;
    std::string body; ///< sent when non-empty, or always for POST/PUT/PATCH
};

struct Response {
    long status = 0;
    std::string reason; ///< from the status line, e.g. "Not Found" (empty for HTTP/2)
    Headers headers;
    std::string body;
    int attempts = 1;                     ///< how many times the request was sent
    std::chrono::milliseconds elapsed{0}; ///< wall time of all attempts, waits included

    /// The first header named `name` (case-insensitive), or nullptr.
    const std::string* header(std::string_view name) const;
    bool ok() const { return status >= 200 && status < 300; }
};

enum class Insecure { no, yes };
enum class AllowHttp { no, yes };

struct TlsOptions {
    std::string ca_file;            ///< PEM bundle trusted instead of the system store; empty = system
    Insecure insecure = Insecure::no; ///< skip certificate verification; only when the user asks for it
};

struct ClientOptions {
    TlsOptions tls;
    AllowHttp allow_http = AllowHttp::no; ///< plain http:// refused unless a caller opts in
    std::string user_agent;               ///< see default_user_agent()
    std::chrono::milliseconds connect_timeout{10000};
    std::chrono::milliseconds request_timeout{60000};
    RetryPolicy retry;
    core::Logger logger; ///< debug: retries; trace: requests and responses, secrets redacted
    const core::CancelToken* cancel = &core::CancelToken::global();
    /// Waits between attempts; returns false when cancelled. Default: sleeps in slices, polling `cancel`.
    std::function<bool(std::chrono::milliseconds)> sleep;
};

/// Per-request hooks.
struct SendOptions {
    /// Called before every attempt (1-based), e.g. to take a slot from a rate budget; an error stops.
    std::function<Result<void>(int attempt)> before_attempt;
    /// Overrides the client's retry policy for this request.
    const RetryPolicy* retry = nullptr;
};

/// `edgeship/<version> (<os>/<arch>)`, e.g. `edgeship/0.1.0 (linux/x86_64)` (STYLE.md §7).
std::string default_user_agent(std::string_view version);

/// A reusable HTTPS client: one libcurl easy handle, so keep-alive connections are reused between
/// requests. Not thread-safe: use one Client per thread. Movable, not copyable.
class Client {
public:
    /// Checks the options (a --ca-file that exists and is readable) and initialises libcurl.
    static Result<Client> create(ClientOptions options);
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    ~Client();

    /// Sends `request`, retrying network errors and the policy's statuses with backoff and jitter
    /// (Retry-After honoured when present). Returns any HTTP response, success or not, once no retry
    /// is left; returns an Error only when no response arrived (DNS, connect, TLS, timeout,
    /// cancellation: exit 130). Error messages carry the method and the redacted URL.
    Result<Response> send(const Request& request, const SendOptions& options = {});

    const ClientOptions& options() const;
    /// Requests sent (attempts included) since creation; for benchmarks and tests.
    std::size_t requests_sent() const;

private:
    struct Impl;
    explicit Client(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace edgeship::http
