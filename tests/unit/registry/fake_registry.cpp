// The in-process registry of the transfer client's unit tests (fake_registry.hpp).

#include "fake_registry.hpp"

#include "core/base64.hpp"
#include "core/sha256.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace edgeship::test {

namespace {

std::string lower(std::string s) {
    for (auto& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

std::string percent_decode(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string sha256_digest(const std::string& bytes) {
    core::Sha256 h;
    h.update(bytes);
    return "sha256:" + h.hex_digest();
}

/// Waits up to 5 s for bytes; false on silence, EOF or error.
bool read_more(int fd, std::string& buf, std::size_t max) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) {
        return false;
    }
    char tmp[65536];
    auto n = ::recv(fd, tmp, std::min(sizeof tmp, max), 0);
    if (n <= 0) {
        return false;
    }
    buf.append(tmp, static_cast<std::size_t>(n));
    return true;
}

std::string range_of(std::size_t size) { return "0-" + std::to_string(size == 0 ? 0 : size - 1); }

} // namespace

struct FakeRegistry::Request {
    std::string method;
    std::string target;
    std::string path;
    std::map<std::string, std::string> query;
    std::map<std::string, std::string> headers; ///< lower-case names
    std::string body;

    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

struct FakeRegistry::Reply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool head = false; ///< HEAD: Content-Length of the body that GET would send, no body
};

namespace {

FakeRegistry::Reply error_reply(int status, const std::string& code, const std::string& message) {
    FakeRegistry::Reply r;
    r.status = status;
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = nlohmann::json{{"errors", {{{"code", code}, {"message", message}}}}}.dump();
    return r;
}

} // namespace

FakeRegistry::FakeRegistry(Options options) : m_options(std::move(options)) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0; // a free port
    if (::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(m_fd, 16) != 0) {
        ::close(m_fd);
        throw std::runtime_error("fake registry: bind/listen on 127.0.0.1 failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
    m_thread = std::thread([this] { loop(); });
}

FakeRegistry::~FakeRegistry() {
    m_stop = true;
    m_thread.join();
    ::close(m_fd);
}

std::string FakeRegistry::put_blob(const std::string& repo, const std::string& bytes) {
    std::lock_guard lock(m_mutex);
    auto d = sha256_digest(bytes);
    m_blobs[repo][d] = bytes;
    return d;
}

bool FakeRegistry::has_blob(const std::string& repo, const std::string& digest) const {
    return blob(repo, digest).has_value();
}

std::optional<std::string> FakeRegistry::blob(const std::string& repo, const std::string& digest) const {
    std::lock_guard lock(m_mutex);
    auto r = m_blobs.find(repo);
    if (r == m_blobs.end()) {
        return std::nullopt;
    }
    auto b = r->second.find(digest);
    return b == r->second.end() ? std::nullopt : std::optional<std::string>(b->second);
}

std::optional<std::string> FakeRegistry::manifest(const std::string& repo, const std::string& ref) const {
    std::lock_guard lock(m_mutex);
    auto r = m_manifests.find(repo);
    if (r == m_manifests.end()) {
        return std::nullopt;
    }
    auto m = r->second.find(ref);
    return m == r->second.end() ? std::nullopt : std::optional<std::string>(m->second.bytes);
}

std::string FakeRegistry::put_manifest(const std::string& repo, const std::string& tag, const std::string& bytes,
                                       const std::string& media_type) {
    std::lock_guard lock(m_mutex);
    auto d = sha256_digest(bytes);
    m_manifests[repo][tag] = Manifest{bytes, media_type};
    m_manifests[repo][d] = Manifest{bytes, media_type};
    return d;
}

std::vector<FakeRegistry::Seen> FakeRegistry::requests() const {
    std::lock_guard lock(m_mutex);
    return m_seen;
}

std::vector<FakeRegistry::Seen> FakeRegistry::requests_matching(const std::string& prefix) const {
    std::vector<Seen> out;
    for (auto& s : requests()) {
        if ((s.method + " " + s.target).starts_with(prefix)) {
            out.push_back(s);
        }
    }
    return out;
}

std::size_t FakeRegistry::open_sessions() const {
    std::lock_guard lock(m_mutex);
    return m_uploads.size();
}

std::vector<std::string> FakeRegistry::token_scopes() const {
    std::lock_guard lock(m_mutex);
    return m_token_scopes;
}

void FakeRegistry::cut_next_patch_after(std::uint64_t bytes) {
    std::lock_guard lock(m_mutex);
    m_cut_patch_after = bytes;
}

void FakeRegistry::fail_once(const std::string& prefix, int status) {
    std::lock_guard lock(m_mutex);
    m_fail_once.emplace_back(prefix, status);
}

void FakeRegistry::refuse_mounts(bool refuse) {
    std::lock_guard lock(m_mutex);
    m_refuse_mounts = refuse;
}

void FakeRegistry::lie_about_manifest_digest(bool lie) {
    std::lock_guard lock(m_mutex);
    m_lie_manifest_digest = lie;
}

void FakeRegistry::serve_wrong_bytes(const std::string& digest, const std::string& bytes) {
    std::lock_guard lock(m_mutex);
    m_wrong_bytes[digest] = bytes;
}

void FakeRegistry::loop() {
    while (!m_stop) {
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) {
            continue;
        }
        int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) {
            continue;
        }
        serve(c);
        ::close(c);
    }
}

void FakeRegistry::serve(int fd) {
    std::string buf;
    std::size_t head_end = 0;
    while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
        if (buf.size() > (64u << 10) || !read_more(fd, buf, 65536)) {
            return;
        }
    }
    Request req;
    std::string head = buf.substr(0, head_end);
    req.body = buf.substr(head_end + 4);
    auto line_end = head.find("\r\n");
    std::string line = head.substr(0, line_end);
    auto sp1 = line.find(' ');
    auto sp2 = line.find(' ', sp1 + 1);
    if (sp1 == std::string::npos || sp2 == std::string::npos) {
        return;
    }
    req.method = line.substr(0, sp1);
    req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    for (std::size_t pos = line_end; pos != std::string::npos && pos < head.size();) {
        auto next = head.find("\r\n", pos + 2);
        std::string h = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
        if (auto colon = h.find(':'); colon != std::string::npos) {
            std::string v = h.substr(colon + 1);
            v.erase(0, v.find_first_not_of(' '));
            req.headers[lower(h.substr(0, colon))] = v;
        }
        pos = next;
    }
    auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) {
        std::string query = req.target.substr(q + 1);
        for (std::size_t start = 0; start <= query.size();) {
            auto amp = query.find('&', start);
            std::string kv = query.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
            auto eq = kv.find('=');
            req.query[percent_decode(kv.substr(0, eq))] = eq == std::string::npos ? "" : percent_decode(kv.substr(eq + 1));
            if (amp == std::string::npos) {
                break;
            }
            start = amp + 1;
        }
    }
    const std::size_t want = req.headers.count("content-length") ? std::stoull(req.header("content-length")) : 0;
    // A cut PATCH keeps only its first bytes; the rest of the body is never read.
    std::optional<std::uint64_t> cut_after;
    {
        std::lock_guard lock(m_mutex);
        if (req.method == "PATCH" && m_cut_patch_after) {
            cut_after = m_cut_patch_after;
            m_cut_patch_after.reset();
        }
    }
    const std::size_t limit = cut_after ? std::min<std::size_t>(want, *cut_after) : want;
    while (req.body.size() < limit) {
        if (!read_more(fd, req.body, limit - req.body.size())) {
            break;
        }
    }
    if (req.body.size() > limit) {
        req.body.resize(limit);
    }
    bool cut = cut_after.has_value();
    Reply r = handle(req, fd, cut);
    if (cut) {
        linger l{1, 0}; // RST: the client sees the connection fail mid-body
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        return;
    }
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\n";
    for (const auto& [k, v] : r.headers) {
        out += k + ": " + v + "\r\n";
    }
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n";
    if (!r.head) {
        out += r.body;
    }
    for (std::size_t off = 0; off < out.size();) {
        auto n = ::send(fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
            break;
        }
        off += static_cast<std::size_t>(n);
    }
}

std::optional<FakeRegistry::Reply> FakeRegistry::check_auth(const Request& req) {
    const std::string basic = "Basic " + core::base64_encode(m_options.username + ":" + m_options.password);
    const std::string given = req.header("authorization");
    if (m_options.auth == Auth::basic && given != basic) {
        auto r = error_reply(401, "UNAUTHORIZED", "authentication required");
        r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"fake-registry\"");
        return r;
    }
    if (m_options.auth == Auth::bearer && given != "Bearer " + m_token) {
        auto r = error_reply(401, "UNAUTHORIZED", "authentication required");
        std::string challenge = "Bearer realm=\"http://" + host() + "/token\",service=\"fake-registry\"";
        r.headers.emplace_back("WWW-Authenticate", challenge);
        return r;
    }
    return std::nullopt;
}

FakeRegistry::Reply FakeRegistry::handle(const Request& req, int fd, bool& cut) {
    std::unique_lock lock(m_mutex);
    m_seen.push_back(Seen{req.method, req.target, req.header("authorization"), req.header("content-range"),
                          req.body.size()});
    if (req.path == "/token") {
        if (m_options.auth != Auth::bearer) {
            return error_reply(404, "NOT_FOUND", "no token endpoint");
        }
        m_token_scopes.push_back(req.query.count("scope") ? req.query.at("scope") : "");
        const std::string basic = "Basic " + core::base64_encode(m_options.username + ":" + m_options.password);
        if (req.header("authorization") != basic) {
            return error_reply(401, "UNAUTHORIZED", "bad credentials");
        }
        Reply r;
        r.headers.emplace_back("Content-Type", "application/json");
        r.body = nlohmann::json{{"token", m_token}, {"expires_in", 300}}.dump();
        return r;
    }
    if (auto denied = check_auth(req)) {
        cut = false; // an unauthenticated PATCH is answered, not cut
        return *denied;
    }
    for (auto it = m_fail_once.begin(); it != m_fail_once.end(); ++it) {
        if ((req.method + " " + req.target).starts_with(it->first)) {
            int status = it->second;
            m_fail_once.erase(it);
            cut = false;
            auto r = error_reply(status, status == 503 ? "UNAVAILABLE" : "UNKNOWN", "injected failure");
            if (status == 429 || status == 503) {
                r.headers.emplace_back("Retry-After", "0");
            }
            return r;
        }
    }
    if (req.path == "/v2/" || req.path == "/v2") {
        Reply r;
        r.headers.emplace_back("Docker-Distribution-API-Version", "registry/2.0");
        r.body = "{}";
        return r;
    }
    if (!req.path.starts_with("/v2/")) {
        return error_reply(404, "NOT_FOUND", "not a registry path");
    }
    const std::string rest = req.path.substr(4);
    if (auto b = rest.rfind("/blobs/"); b != std::string::npos) {
        return handle_blobs(req, rest.substr(0, b), rest.substr(b + 7), fd, cut);
    }
    if (auto m = rest.rfind("/manifests/"); m != std::string::npos) {
        cut = false;
        return handle_manifests(req, rest.substr(0, m), rest.substr(m + 11));
    }
    cut = false;
    return error_reply(404, "NAME_UNKNOWN", "unknown path");
}

FakeRegistry::Reply FakeRegistry::handle_blobs(const Request& req, const std::string& repo, const std::string& rest,
                                               int /*fd*/, bool& cut) {
    const std::string uploads = "uploads/";
    auto location = [&](const std::string& id) { return "/v2/" + repo + "/blobs/uploads/" + id + "?_state=" + id; };
    if (rest == uploads || rest == "uploads") {
        if (req.method != "POST") {
            return error_reply(405, "UNSUPPORTED", "POST only");
        }
        if (req.query.count("mount") && req.query.count("from") && !m_refuse_mounts) {
            const auto& digest = req.query.at("mount");
            auto from = m_blobs.find(req.query.at("from"));
            if (from != m_blobs.end() && from->second.count(digest)) {
                m_blobs[repo][digest] = from->second.at(digest);
                Reply r;
                r.status = 201;
                r.headers = {{"Location", "/v2/" + repo + "/blobs/" + digest}, {"Docker-Content-Digest", digest}};
                return r;
            }
        }
        const std::string id = "s" + std::to_string(m_next_session++);
        m_uploads[id] = Upload{repo, {}};
        Reply r;
        r.status = 202;
        r.headers = {{"Location", location(id)}, {"Range", "0-0"}, {"Docker-Upload-UUID", id}};
        return r;
    }
    if (rest.starts_with(uploads)) {
        const std::string id = rest.substr(uploads.size());
        auto it = m_uploads.find(id);
        if (it == m_uploads.end() || it->second.repo != repo) {
            cut = false;
            return error_reply(404, "BLOB_UPLOAD_UNKNOWN", "upload unknown");
        }
        auto& up = it->second;
        if (req.method == "PATCH") {
            if (auto cr = req.header("content-range"); !cr.empty()) {
                const auto start = std::stoull(cr.substr(0, cr.find('-')));
                if (start != up.bytes.size()) {
                    cut = false;
                    Reply r = error_reply(416, "BLOB_UPLOAD_INVALID", "range does not follow the session");
                    r.headers = {{"Location", location(id)}, {"Range", range_of(up.bytes.size())}};
                    return r;
                }
            }
            up.bytes += req.body;
            Reply r;
            r.status = 202;
            r.headers = {{"Location", location(id)}, {"Range", range_of(up.bytes.size())}, {"Docker-Upload-UUID", id}};
            return r;
        }
        if (req.method == "GET") {
            Reply r;
            r.status = 204;
            r.headers = {{"Location", location(id)}, {"Range", range_of(up.bytes.size())}, {"Docker-Upload-UUID", id}};
            return r;
        }
        if (req.method == "DELETE") {
            m_uploads.erase(it);
            Reply r;
            r.status = 204;
            return r;
        }
        if (req.method == "PUT") {
            up.bytes += req.body;
            const std::string digest = req.query.count("digest") ? req.query.at("digest") : "";
            const std::string actual = sha256_digest(up.bytes);
            if (digest != actual) {
                m_uploads.erase(it); // as distribution: the session is gone after DIGEST_INVALID
                return error_reply(400, "DIGEST_INVALID", "content hashes to " + actual);
            }
            m_blobs[repo][digest] = std::move(up.bytes);
            m_uploads.erase(it);
            Reply r;
            r.status = 201;
            r.headers = {{"Location", "/v2/" + repo + "/blobs/" + digest}, {"Docker-Content-Digest", digest}};
            return r;
        }
        return error_reply(405, "UNSUPPORTED", "method");
    }
    // /v2/<repo>/blobs/<digest>
    auto r_it = m_blobs.find(repo);
    if (r_it == m_blobs.end() || !r_it->second.count(rest)) {
        Reply r = error_reply(404, "BLOB_UNKNOWN", "blob unknown");
        r.head = req.method == "HEAD";
        return r;
    }
    Reply r;
    r.headers = {{"Content-Type", "application/octet-stream"}, {"Docker-Content-Digest", rest}};
    r.body = m_wrong_bytes.count(rest) ? m_wrong_bytes.at(rest) : r_it->second.at(rest);
    r.head = req.method == "HEAD";
    return r;
}

FakeRegistry::Reply FakeRegistry::handle_manifests(const Request& req, const std::string& repo, const std::string& ref) {
    if (req.method == "PUT") {
        const std::string digest = sha256_digest(req.body);
        auto j = nlohmann::json::parse(req.body, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            return error_reply(400, "MANIFEST_INVALID", "not JSON");
        }
        // Like distribution: every blob (or platform manifest) it names must be in the repository.
        std::vector<std::string> blobs;
        std::vector<std::string> manifests;
        if (j.contains("config")) {
            blobs.push_back(j["config"].value("digest", ""));
        }
        for (const auto& l : j.value("layers", nlohmann::json::array())) {
            blobs.push_back(l.value("digest", ""));
        }
        for (const auto& m : j.value("manifests", nlohmann::json::array())) {
            manifests.push_back(m.value("digest", ""));
        }
        for (const auto& b : blobs) {
            if (!m_blobs[repo].count(b)) {
                return error_reply(400, "MANIFEST_BLOB_UNKNOWN", "blob unknown: " + b);
            }
        }
        for (const auto& m : manifests) {
            if (!m_manifests[repo].count(m)) {
                return error_reply(400, "MANIFEST_BLOB_UNKNOWN", "manifest unknown: " + m);
            }
        }
        Manifest stored{req.body, req.header("content-type")};
        m_manifests[repo][ref] = stored;
        m_manifests[repo][digest] = stored;
        Reply r;
        r.status = 201;
        r.headers = {{"Location", "/v2/" + repo + "/manifests/" + digest},
                     {"Docker-Content-Digest", m_lie_manifest_digest ? sha256_digest(req.body + "?") : digest}};
        return r;
    }
    auto r_it = m_manifests.find(repo);
    if (r_it == m_manifests.end() || !r_it->second.count(ref)) {
        Reply r = error_reply(404, "MANIFEST_UNKNOWN", "manifest unknown");
        r.head = req.method == "HEAD";
        return r;
    }
    const auto& m = r_it->second.at(ref);
    Reply r;
    r.headers = {{"Content-Type", m.media_type}, {"Docker-Content-Digest", sha256_digest(m.bytes)}};
    r.body = m.bytes;
    r.head = req.method == "HEAD";
    return r;
}

} // namespace edgeship::test
