#pragma once

// A tiny HTTP/1.1 server on 127.0.0.1 (free port) for client tests: one connection at a time, every
// request recorded raw (head + body), answers built by the test's handler, connection closed after
// each answer. Bounded: accept polls a stop flag every 50 ms; reads give up after 5 s of silence.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace edgeship::test {

struct RawRequest {
    std::string method;
    std::string target; ///< path and query as sent
    std::string head;   ///< request line and headers, raw
    std::string body;
    bool chunked = false;

    /// The value of header `name` (case-insensitive), or "" when absent.
    std::string header(const std::string& name) const {
        std::string lower_head = head;
        std::string lower_name = name;
        for (auto& c : lower_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (auto& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto pos = lower_head.find("\r\n" + lower_name + ":");
        if (pos == std::string::npos) {
            return "";
        }
        auto start = pos + 2 + name.size() + 1;
        auto end = head.find("\r\n", start);
        std::string v = head.substr(start, end - start);
        while (!v.empty() && v.front() == ' ') v.erase(v.begin());
        return v;
    }
    bool has_header(const std::string& name) const {
        std::string lower_head = head;
        std::string lower_name = name;
        for (auto& c : lower_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        for (auto& c : lower_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return lower_head.find("\r\n" + lower_name + ":") != std::string::npos;
    }
};

struct RawReply {
    std::string bytes;          ///< the whole response as sent on the wire
    bool reset = false;         ///< after sending `bytes`, reset the connection (RST) instead of closing
};

/// "HTTP/1.1 <status> X" + headers + Content-Length + body.
inline RawReply reply(int status, const std::string& body = "",
                      const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    std::string r = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
    for (const auto& [k, v] : headers) {
        r += k + ": " + v + "\r\n";
    }
    r += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    return {r, false};
}

class TestServer {
public:
    using Handler = std::function<RawReply(const RawRequest&)>;

    explicit TestServer(Handler handler) : m_handler(std::move(handler)) {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(m_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        if (::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(m_fd, 8) != 0) {
            throw std::runtime_error("test server: bind/listen failed");
        }
        socklen_t len = sizeof addr;
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
        m_port = ntohs(addr.sin_port);
        m_thread = std::thread([this] { loop(); });
    }
    ~TestServer() {
        m_stop = true;
        m_thread.join();
        ::close(m_fd);
    }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    int port() const { return m_port; }
    std::string url(const std::string& path = "") const { return "http://127.0.0.1:" + std::to_string(m_port) + path; }
    std::vector<RawRequest> requests() const {
        std::lock_guard lock(m_mutex);
        return m_requests;
    }

private:
    static bool read_more(int fd, std::string& buf) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) {
            return false;
        }
        char tmp[65536];
        auto n = ::recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0) {
            return false;
        }
        buf.append(tmp, static_cast<std::size_t>(n));
        return true;
    }

    void serve(int fd) {
        std::string buf;
        std::size_t head_end;
        while ((head_end = buf.find("\r\n\r\n")) == std::string::npos) {
            if (!read_more(fd, buf)) {
                return;
            }
        }
        RawRequest req;
        req.head = buf.substr(0, head_end + 2);
        std::string rest = buf.substr(head_end + 4);
        auto sp1 = req.head.find(' ');
        auto sp2 = req.head.find(' ', sp1 + 1);
        req.method = req.head.substr(0, sp1);
        req.target = req.head.substr(sp1 + 1, sp2 - sp1 - 1);
        std::string te = req.header("Transfer-Encoding");
        if (te.find("chunked") != std::string::npos) {
            req.chunked = true;
            while (rest.find("\r\n0\r\n\r\n") == std::string::npos && !rest.starts_with("0\r\n\r\n")) {
                if (!read_more(fd, rest)) {
                    break;
                }
            }
            req.body = rest;
        } else {
            std::size_t want = req.has_header("Content-Length") ? std::stoull(req.header("Content-Length")) : 0;
            while (rest.size() < want) {
                if (!read_more(fd, rest)) {
                    break;
                }
            }
            req.body = rest;
        }
        {
            std::lock_guard lock(m_mutex);
            m_requests.push_back(req);
        }
        RawReply r = m_handler(req);
        std::size_t off = 0;
        while (off < r.bytes.size()) {
            auto n = ::send(fd, r.bytes.data() + off, r.bytes.size() - off, MSG_NOSIGNAL);
            if (n <= 0) {
                break;
            }
            off += static_cast<std::size_t>(n);
        }
        if (r.reset) {
            linger l{1, 0};
            ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
    }

    void loop() {
        while (!m_stop) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) {
                continue;
            }
            int c = ::accept(m_fd, nullptr, nullptr);
            if (c < 0) {
                continue;
            }
            serve(c);
            ::close(c);
        }
    }

    Handler m_handler;
    int m_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::thread m_thread;
    mutable std::mutex m_mutex;
    std::vector<RawRequest> m_requests;
};

} // namespace edgeship::test
