#include "http/client.hpp"

#include "http/error.hpp"
#include "http/redact.hpp"
#include "http/url.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sys/utsname.h>
#include <thread>

namespace edgeship::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return std::string(s);
}

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// State of one attempt shared with the libcurl callbacks.
struct Transfer {
    Response* response = nullptr;
    long status = 0; ///< of the status line being received (a 100 Continue is replaced by the final one)
    const BodySink* sink = nullptr;
    const std::function<Result<void>(long)>* sink_begin = nullptr;
    bool sink_started = false;
    std::uint64_t sink_bytes = 0;
    std::optional<Error> sink_error;
    const BodySource* source = nullptr;
    std::uint64_t source_sent = 0;
    std::optional<Error> source_error;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::size_t len = size * n;
    if (t->sink != nullptr && *t->sink && t->status >= 200 && t->status < 300) {
        if (!t->sink_started) {
            t->sink_started = true;
            if (t->sink_begin != nullptr && *t->sink_begin) {
                if (auto b = (*t->sink_begin)(t->status); !b) {
                    t->sink_error = std::move(b).error();
                    return 0;
                }
            }
        }
        auto r = (*t->sink)(std::string_view(data, len));
        if (!r) {
            t->sink_error = std::move(r).error();
            return 0; // CURLE_WRITE_ERROR
        }
        t->sink_bytes += len;
        return len;
    }
    t->response->body.append(data, len);
    return len;
}

size_t on_read(char* buffer, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::uint64_t left = t->source->size - t->source_sent;
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, size * n));
    if (want == 0) {
        return 0;
    }
    auto r = t->source->read(buffer, want);
    if (!r) {
        t->source_error = std::move(r).error();
        return CURL_READFUNC_ABORT;
    }
    if (*r == 0 || *r > want) {
        t->source_error = Error("request body ended after " + std::to_string(t->source_sent) + " of " +
                                std::to_string(t->source->size) + " bytes");
        return CURL_READFUNC_ABORT;
    }
    t->source_sent += *r;
    return *r;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string_view line(data, size * n);
    if (line.starts_with("HTTP/")) {
        // A new status line (after 100 Continue or a proxy CONNECT): start over.
        t->response->headers.clear();
        t->status = 0;
        auto sp1 = line.find(' ');
        if (sp1 != std::string_view::npos) {
            auto sp2 = line.find(' ', sp1 + 1);
            auto code = trim(line.substr(sp1 + 1, sp2 == std::string_view::npos ? std::string_view::npos : sp2 - sp1 - 1));
            t->status = std::strtol(code.c_str(), nullptr, 10);
            t->response->reason = sp2 == std::string_view::npos ? "" : trim(line.substr(sp2 + 1));
        }
        return size * n;
    }
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        t->response->headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    }
    return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    const auto* cancel = static_cast<const core::CancelToken*>(user);
    return (cancel != nullptr && cancel->cancelled()) ? 1 : 0;
}

bool network_error_retryable(CURLcode code) {
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

bool tls_error(CURLcode code) {
    switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
        return true;
    default:
        return false;
    }
}

bool default_sleep(std::chrono::milliseconds d, const core::CancelToken* cancel) {
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
        if (cancel != nullptr && cancel->cancelled()) {
            return false;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(50)));
    }
    return cancel == nullptr || !cancel->cancelled();
}

std::string seconds_text(std::chrono::milliseconds d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d.count()) / 1000.0);
    return buf;
}

struct Attempt {
    CURLcode code = CURLE_OK;
    std::string curl_message;
    Response response;
    std::optional<Error> body_error; ///< the body source or sink failed (not retried)
    std::uint64_t sink_bytes = 0;    ///< bytes handed to the sink (a retry would repeat them)
};

bool is_redirect(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool streamed(const Request& req) { return req.body_source.has_value() || static_cast<bool>(req.body_sink); }

} // namespace

const std::string* Response::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) {
            return &v;
        }
    }
    return nullptr;
}

std::string default_user_agent(std::string_view version) {
    std::string os = "unknown";
    std::string arch = "unknown";
    struct utsname u {};
    if (::uname(&u) == 0) {
        os = u.sysname;
        arch = u.machine;
    }
    std::transform(os.begin(), os.end(), os.begin(), [](unsigned char c) { return std::tolower(c); });
    return "edgeship/" + std::string(version) + " (" + os + "/" + arch + ")";
}

struct Client::Impl {
    ClientOptions options;
    CURL* easy = nullptr;
    std::size_t sent = 0;
    std::mt19937_64 rng{std::random_device{}()};

    ~Impl() {
        if (easy != nullptr) {
            curl_easy_cleanup(easy);
        }
    }

    void trace_request(const Request& req, int attempt) const {
        options.logger.trace("> " + req.method + " " + redact_text(req.url) +
                             (attempt > 1 ? " (attempt " + std::to_string(attempt) + ")" : ""));
        for (const auto& [k, v] : req.headers) {
            options.logger.trace("> " + k + ": " + redact_header_value(k, v));
        }
        if (req.body_source) {
            options.logger.trace("> (" + std::to_string(req.body_source->size) + " bytes of streamed body)");
        } else if (!req.body.empty()) {
            options.logger.trace("> (" + std::to_string(req.body.size()) + " bytes of body)");
        }
    }

    void trace_response(const Response& r, std::chrono::milliseconds took) const {
        options.logger.trace("< " + std::to_string(r.status) + (r.reason.empty() ? "" : " " + r.reason) + " (" +
                             std::to_string(took.count()) + " ms)");
        for (const auto& [k, v] : r.headers) {
            options.logger.trace("< " + k + ": " + redact_header_value(k, v));
        }
        if (!r.body.empty()) {
            options.logger.trace("< (" + std::to_string(r.body.size()) + " bytes of body)");
        }
    }

    Attempt perform(const Request& req) {
        Attempt a;
        curl_easy_reset(easy); // keeps live connections, so keep-alive survives between requests
        char errbuf[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(easy, CURLOPT_URL, req.url.c_str());
        curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, options.allow_http == AllowHttp::yes ? "http,https" : "https");
        curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "https");
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, options.tls.insecure == Insecure::yes ? 0L : 1L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, options.tls.insecure == Insecure::yes ? 0L : 2L);
        if (!options.tls.ca_file.empty()) {
            curl_easy_setopt(easy, CURLOPT_CAINFO, options.tls.ca_file.c_str());
        }
        if (!options.unix_socket.empty()) {
            curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, options.unix_socket.c_str());
        }
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
        if (streamed(req)) {
            // A large blob may take longer than any fixed limit: fail when the transfer stalls instead.
            curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
            curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME,
                             std::max(1L, static_cast<long>(options.request_timeout.count() / 1000)));
        } else {
            curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout.count()));
        }
        if (!options.user_agent.empty()) {
            curl_easy_setopt(easy, CURLOPT_USERAGENT, options.user_agent.c_str());
        }
        if (!req.body_sink) {
            // Streamed bodies are taken byte for byte (their digest is checked): no content decoding.
            curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
        }
        Transfer transfer;
        transfer.response = &a.response;
        transfer.sink = &req.body_sink;
        transfer.sink_begin = &req.sink_begin;

        if (req.method == "HEAD") {
            curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
        } else if (req.method == "GET") {
            curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
        } else {
            curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
        }
        bool with_body = !req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
        if (req.body_source) {
            // CURLOPT_UPLOAD with a known size sends Content-Length, never chunked
            // (docs/design/registry.md §7).
            transfer.source = &*req.body_source;
            curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body_source->size));
            // Large reads and sends for blobs (libcurl's default is 64 KiB; 1 MiB cuts the read/send calls
            // 16-fold on a 256 MiB layer, docs/design/registry.md §9.6). Capped by libcurl (2 MiB in 7.88).
            curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, req.body_source->size >= (1 << 20) ? 1L << 20 : 65536L);
            curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(easy, CURLOPT_READDATA, &transfer);
            curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
        } else if (with_body) {
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req.body.data());
        }

        curl_slist* list = nullptr;
        for (const auto& [k, v] : req.headers) {
            list = curl_slist_append(list, (k + ": " + v).c_str());
        }
        list = curl_slist_append(list, "Expect:");
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);

        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
        curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);
        curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(easy, CURLOPT_XFERINFODATA, options.cancel);

        ++sent;
        a.code = curl_easy_perform(easy);
        curl_slist_free_all(list);
        a.sink_bytes = transfer.sink_bytes;
        a.response.url = req.url;
        if (transfer.source_error) {
            a.body_error = std::move(transfer.source_error);
        } else if (transfer.sink_error) {
            a.body_error = std::move(transfer.sink_error);
        }
        if (a.code != CURLE_OK) {
            a.curl_message = errbuf[0] != '\0' ? trim(errbuf) : curl_easy_strerror(a.code);
            return a;
        }
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        a.response.status = status;
        return a;
    }
};

Client::Client(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

const ClientOptions& Client::options() const { return m_impl->options; }
std::size_t Client::requests_sent() const { return m_impl->sent; }

Result<Client> Client::create(ClientOptions options) {
    if (!options.tls.ca_file.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(options.tls.ca_file, ec)) {
            return fail(options.tls.ca_file + ": CA file not found (or not a regular file)");
        }
        std::ifstream probe(options.tls.ca_file);
        if (!probe) {
            return fail(options.tls.ca_file + ": CA file is not readable");
        }
    }
    global_init();
    auto impl = std::make_unique<Impl>();
    impl->options = std::move(options);
    impl->easy = curl_easy_init();
    if (impl->easy == nullptr) {
        return fail("libcurl: could not create a handle");
    }
    return Client(std::move(impl));
}

Result<Response> Client::send(const Request& request, const SendOptions& send_options) {
    if (request.redirects == Redirects::no || (request.method != "GET" && request.method != "HEAD")) {
        return send_attempts(request, send_options);
    }
    // Redirects are followed here, not by libcurl, so that only the final 2xx body reaches the sink and
    // the Authorization rule below does not depend on the libcurl version (docs/design/registry.md §4).
    Request current = request;
    const std::string origin = url_origin(request.url);
    for (int hop = 0;; ++hop) {
        EDGESHIP_TRY_ASSIGN(auto response, send_attempts(current, send_options));
        const std::string* location = response.header("Location");
        if (!is_redirect(response.status) || location == nullptr || location->empty()) {
            return response;
        }
        if (hop >= 10) {
            return fail(request.method + " " + redact_text(strip_query(request.url)) + ": more than 10 redirects");
        }
        EDGESHIP_TRY_ASSIGN(std::string next, resolve_location(current.url, *location,
                                                               request.method + " " + redact_text(strip_query(request.url))));
        std::string next_scheme = url_scheme(next);
        if (next_scheme != "https" && !(next_scheme == "http" && m_impl->options.allow_http == AllowHttp::yes)) {
            return fail(request.method + " " + redact_text(strip_query(request.url)) + ": refusing redirect to " +
                        redact_text(strip_query(next)) + " (only https:// is allowed)");
        }
        if (url_scheme(current.url) == "https" && next_scheme == "http") {
            return fail(request.method + " " + redact_text(strip_query(request.url)) +
                        ": refusing redirect from https to " + redact_text(strip_query(next)));
        }
        if (url_origin(next) != origin) {
            // Never forward credentials to another host (docs/design/registry.md §4, §11.8).
            std::erase_if(current.headers, [](const auto& h) {
                return iequals(h.first, "Authorization") || iequals(h.first, "Proxy-Authorization") ||
                       iequals(h.first, "Cookie");
            });
        }
        m_impl->options.logger.debug("following " + std::to_string(response.status) + " redirect of " +
                                     request.method + " " + redact_text(strip_query(current.url)) + " to " +
                                     redact_text(strip_query(next)));
        current.url = std::move(next);
    }
}

Result<Response> Client::send_attempts(const Request& request, const SendOptions& send_options) {
    Impl& impl = *m_impl;
    const RetryPolicy& policy = send_options.retry != nullptr ? *send_options.retry : impl.options.retry;
    std::string scheme = url_scheme(request.url);
    std::string shown_url = redact_text(strip_query(request.url));
    if (scheme != "https" && !(scheme == "http" && impl.options.allow_http == AllowHttp::yes)) {
        return fail(request.method + " " + shown_url + ": only https:// URLs are allowed");
    }
    auto sleeper = [&impl](std::chrono::milliseconds d) {
        return impl.options.sleep ? impl.options.sleep(d) : default_sleep(d, impl.options.cancel);
    };
    const auto start = std::chrono::steady_clock::now();
    std::uniform_real_distribution<double> uniform(0.0, 1.0);

    for (int attempt = 1;; ++attempt) {
        if (send_options.before_attempt) {
            EDGESHIP_TRY(send_options.before_attempt(attempt));
        }
        if (attempt > 1 && request.body_source) {
            if (auto r = request.body_source->rewind(); !r) {
                return unexpected(std::move(r).error().context(request.method + " " + shown_url));
            }
        }
        if (impl.options.cancel != nullptr && impl.options.cancel->cancelled()) {
            return unexpected(core::cancelled_error());
        }
        impl.trace_request(request, attempt);
        auto t0 = std::chrono::steady_clock::now();
        Attempt a = impl.perform(request);
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
        auto total = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);

        if (a.body_error) {
            return unexpected(std::move(*a.body_error).context(request.method + " " + shown_url));
        }
        if (a.code == CURLE_ABORTED_BY_CALLBACK) {
            return unexpected(core::cancelled_error());
        }
        bool retryable;
        std::string why;
        if (a.code != CURLE_OK) {
            retryable = network_error_retryable(a.code);
            why = redact_text(a.curl_message);
            impl.options.logger.trace("< (no response: " + why + ")");
        } else {
            impl.trace_response(a.response, took);
            retryable = policy.retries_status(a.response.status);
            why = std::to_string(a.response.status) + " " +
                  (a.response.reason.empty() ? status_reason(a.response.status) : a.response.reason);
        }

        std::chrono::milliseconds delay{0};
        bool retry = retryable && attempt < policy.max_attempts;
        if (a.sink_bytes > 0 || (request.body_source && !request.body_source->rewind)) {
            retry = false; // the body cannot be repeated: the caller resumes or reports
        }
        if (retry) {
            delay = backoff_delay(policy, attempt, uniform(impl.rng));
            if (a.code == CURLE_OK) {
                if (const auto* ra = a.response.header("Retry-After")) {
                    if (auto parsed = parse_retry_after(*ra, std::chrono::system_clock::now())) {
                        delay = std::min(*parsed, policy.max_delay);
                    }
                }
            }
            if (total + delay > policy.max_total) {
                retry = false; // the retry budget is spent: report what we have
            }
        }
        if (!retry) {
            if (a.code != CURLE_OK) {
                std::string msg = request.method + " " + shown_url + ": " + why;
                if (attempt > 1) {
                    msg += " (gave up after " + std::to_string(attempt) + " attempts)";
                }
                Error e(msg);
                if (tls_error(a.code)) {
                    e.hint("the server's TLS certificate is not trusted or does not match the host; "
                           "trust a private CA with a CA file (--ca-file)");
                }
                return unexpected(std::move(e));
            }
            a.response.attempts = attempt;
            a.response.elapsed = total;
            return std::move(a.response);
        }
        impl.options.logger.debug("retrying " + request.method + " " + shown_url + " in " + seconds_text(delay) +
                                  " after " + why + " (attempt " + std::to_string(attempt + 1) + " of " +
                                  std::to_string(policy.max_attempts) + ")");
        if (!sleeper(delay)) {
            return unexpected(core::cancelled_error());
        }
    }
}

std::string status_reason(long status) {
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
    }
}

HttpFailure make_failure(const Request& request, const Response& response, std::string service_code,
                         std::string detail) {
    HttpFailure f;
    f.method = request.method;
    f.url = redact_text(strip_query(request.url));
    f.status = response.status;
    f.reason = response.reason.empty() ? status_reason(response.status) : response.reason;
    f.service_code = std::move(service_code);
    f.detail = std::move(detail);
    f.attempts = response.attempts;
    f.retryable = response.status == 429 || response.status == 503 || response.status == 502 ||
                  response.status == 504;
    return f;
}

std::string describe(const HttpFailure& f) {
    std::string msg = f.method + " " + f.url + ": " + std::to_string(f.status);
    if (!f.reason.empty()) {
        msg += " " + f.reason;
    }
    if (!f.service_code.empty()) {
        msg += ": " + f.service_code;
    }
    if (!f.detail.empty()) {
        msg += ": " + redact_text(f.detail);
    }
    if (f.attempts > 1) {
        msg += " (gave up after " + std::to_string(f.attempts) + " attempts)";
    }
    return msg;
}

Error to_error(const HttpFailure& failure, ExitCode code) { return Error(describe(failure), code); }

} // namespace edgeship::http
