#pragma once

// A general HTTPS client over libcurl. It knows nothing about IoT Hub or registries: callers build
// requests, decide what a status means and turn error bodies into messages (http/error.hpp helps).

#include "core/cancel.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "http/retry.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgeship::http {

/// Header list in send order; names compared case-insensitively by Response::header().
using Headers = std::vector<std::pair<std::string, std::string>>;

/// A request body read in pieces (a 256 MiB layer never sits in memory). Sent with an exact
/// `Content-Length: size`, never `Transfer-Encoding: chunked` (docs/design/registry.md §5.6, §7: ACR
/// rejects chunked bodies). Re-openable: `rewind` is called before a retry, so a retried attempt sends
/// the same bytes again; without `rewind` the request is not retried once the body was read.
struct BodySource {
    std::uint64_t size = 0; ///< exact number of bytes `read` will produce
    /// Fills up to `len` bytes of `buf`; returns how many (0 only at the end). An error aborts the request.
    std::function<Result<std::size_t>(char* buf, std::size_t len)> read{};
    /// Goes back to the first byte of the body (e.g. seeks a file back to its start offset).
    std::function<Result<void>()> rewind{};
};

/// Receives a 2xx response body as it arrives instead of Response::body (other statuses still fill
/// Response::body, for error messages). An error aborts the request. A request whose sink has already
/// received bytes is not retried by the client: the caller resumes (e.g. with a Range request).
using BodySink = std::function<Result<void>(std::string_view chunk)>;

/// Whether 301/302/303/307/308 answers are followed (GET and HEAD only). Registries redirect blob
/// downloads to storage; `Authorization` is dropped whenever the redirect leaves the original origin
/// (scheme, host or port), and an https → http redirect is refused unless http is allowed
/// (docs/design/registry.md §4, §11.8).
enum class Redirects { no, follow };

struct Request {
    std::string method = "GET"; ///< GET, HEAD, POST, PUT, PATCH, DELETE
    std::string url;            ///< absolute; https:// unless ClientOptions::allow_http
    Headers headers;
    std::string body; ///< sent when non-empty, or always for POST/PUT/PATCH (ignored with body_source)
    std::optional<BodySource> body_source{}; ///< streamed body with Content-Length (replaces `body`)
    BodySink body_sink{};                  ///< streamed 2xx response body (optional)
    /// Called once with the status (200, 206, …) before the first byte of a 2xx body reaches body_sink,
    /// e.g. to tell a 206 partial answer from a 200 that ignored a Range header. An error aborts.
    std::function<Result<void>(long status)> sink_begin{};
    Redirects redirects = Redirects::no;
};

struct Response {
    long status = 0;
    std::string reason; ///< from the status line, e.g. "Not Found" (empty for HTTP/2)
    Headers headers;
    std::string body;
    std::string url{};                    ///< the URL that answered (after redirects)
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
    /// Connect to this unix socket instead of the URL's host (libcurl's CURLOPT_UNIX_SOCKET_PATH): the
    /// Docker Engine API (lib/engine). The URL still names the path, e.g. http://localhost/v1.41/_ping.
    std::string unix_socket;
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
    /// cancellation: exit 130), or when a body source or sink failed. Error messages carry the method
    /// and the redacted URL. Requests with a body source or sink have no overall time limit: they fail
    /// when the transfer stalls (no byte for request_timeout) instead.
    Result<Response> send(const Request& request, const SendOptions& options = {});

    const ClientOptions& options() const;
    /// Requests sent (attempts included) since creation; for benchmarks and tests.
    std::size_t requests_sent() const;

private:
    struct Impl;
    explicit Client(std::unique_ptr<Impl> impl);
    Result<Response> send_attempts(const Request& request, const SendOptions& options);
    std::unique_ptr<Impl> m_impl;
};

} // namespace edgeship::http
