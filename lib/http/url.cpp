#include "http/url.hpp"

#include "http/redact.hpp"

#include <arpa/inet.h>
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

namespace edgeship::http {

std::string percent_encode(std::string_view text, HexCase hex) {
    const char* digits = hex == HexCase::upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    out.reserve(text.size() * 3);
    for (unsigned char c : text) {
        if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 0x0f]);
        }
    }
    return out;
}

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}
} // namespace

std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            int hi = hex_value(text[i + 1]);
            int lo = hex_value(text[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(text[i]);
    }
    return out;
}

std::string build_url(std::string_view base, const std::vector<std::string>& segments,
                      const std::vector<std::pair<std::string, std::string>>& query) {
    std::string url(base);
    for (const auto& s : segments) {
        url.push_back('/');
        url += percent_encode(s);
    }
    char sep = '?';
    for (const auto& [k, v] : query) {
        url.push_back(sep);
        url += percent_encode(k);
        url.push_back('=');
        url += percent_encode(v);
        sep = '&';
    }
    return url;
}

std::string strip_query(std::string_view url) {
    auto pos = url.find_first_of("?#");
    return std::string(url.substr(0, pos));
}

std::string url_scheme(std::string_view url) {
    auto pos = url.find("://");
    if (pos == std::string_view::npos) {
        return "";
    }
    std::string s(url.substr(0, pos));
    for (auto& c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

std::string url_origin(std::string_view url) {
    std::string scheme = url_scheme(url);
    if (scheme.empty()) {
        return "";
    }
    std::string_view rest = url.substr(url.find("://") + 3);
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority.remove_prefix(at + 1); // user:password@ is not part of the origin
    }
    std::string host(authority);
    for (auto& c : host) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    // A port is present when the last ':' comes after any IPv6 literal's closing bracket.
    auto colon = host.rfind(':');
    auto bracket = host.rfind(']');
    bool has_port = colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
    if (!has_port) {
        host += scheme == "https" ? ":443" : scheme == "http" ? ":80" : "";
    }
    return scheme + "://" + host;
}

std::string resolve_url(std::string_view base, std::string_view location) {
    if (!url_scheme(location).empty()) {
        return std::string(location);
    }
    std::string scheme = url_scheme(base);
    if (location.starts_with("//")) {
        return scheme + ":" + std::string(location);
    }
    auto after_scheme = base.find("://");
    if (after_scheme == std::string_view::npos) {
        return std::string(location);
    }
    auto path_start = base.find_first_of("/?#", after_scheme + 3);
    std::string_view authority_part = base.substr(0, path_start);
    if (location.starts_with("/")) {
        return std::string(authority_part) + std::string(location);
    }
    std::string_view path = path_start == std::string_view::npos ? std::string_view("/") : base.substr(path_start);
    path = path.substr(0, path.find_first_of("?#"));
    if (location.starts_with("?")) {
        return std::string(authority_part) + std::string(path) + std::string(location);
    }
    auto slash = path.rfind('/');
    std::string dir = slash == std::string_view::npos ? "/" : std::string(path.substr(0, slash + 1));
    return std::string(authority_part) + dir + std::string(location);
}

std::string url_host(std::string_view url) {
    std::string origin = url_origin(url); // scheme://host:port, lower-cased, userinfo dropped
    if (origin.empty()) {
        return "";
    }
    std::string host = origin.substr(origin.find("://") + 3);
    if (host.starts_with("[")) {
        auto close = host.find(']');
        return close == std::string::npos ? host : host.substr(1, close - 1);
    }
    return host.substr(0, host.rfind(':'));
}

namespace {

bool non_public_v4(const std::array<std::uint8_t, 4>& a) {
    return a[0] == 127 || a[0] == 10 || a[0] == 0 ||              // loopback, private, "this network"
           (a[0] == 172 && (a[1] & 0xf0) == 16) ||                // 172.16.0.0/12
           (a[0] == 192 && a[1] == 168) ||                        // 192.168.0.0/16
           (a[0] == 169 && a[1] == 254);                          // link-local (cloud metadata)
}

} // namespace

bool is_non_public_host(std::string_view host) {
    std::string h(host);
    for (auto& c : h) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    while (!h.empty() && h.back() == '.') {
        h.pop_back(); // "localhost." is localhost
    }
    if (h == "localhost" || h.ends_with(".localhost")) {
        return true;
    }
    std::array<std::uint8_t, 4> v4{};
    if (::inet_pton(AF_INET, h.c_str(), v4.data()) == 1) {
        return non_public_v4(v4);
    }
    std::array<std::uint8_t, 16> v6{};
    if (::inet_pton(AF_INET6, h.c_str(), v6.data()) != 1) {
        return false; // a DNS name: not judged (see the header)
    }
    const bool zero_prefix = std::all_of(v6.begin(), v6.begin() + 10, [](std::uint8_t b) { return b == 0; });
    if (zero_prefix && v6[10] == 0xff && v6[11] == 0xff) { // ::ffff:a.b.c.d
        return non_public_v4({v6[12], v6[13], v6[14], v6[15]});
    }
    const bool zero_head = zero_prefix && v6[10] == 0 && v6[11] == 0 && v6[12] == 0 && v6[13] == 0 && v6[14] == 0;
    return (zero_head && v6[15] <= 1) ||          // :: (unspecified) and ::1 (loopback)
           (v6[0] & 0xfe) == 0xfc ||              // fc00::/7 unique local
           (v6[0] == 0xfe && (v6[1] & 0xc0) == 0x80); // fe80::/10 link-local
}

Result<std::string> resolve_location(std::string_view base, std::string_view location, std::string_view what) {
    std::string next = resolve_url(base, location);
    const std::string from = url_host(base);
    const std::string to = url_host(next);
    if (!to.empty() && to != from && is_non_public_host(to) && !is_non_public_host(from)) {
        return fail(std::string(what) + ": refusing Location " + redact_text(strip_query(next)) + " from " + from +
                    ": it leads to another host on loopback, a private or a link-local network");
    }
    return next;
}

} // namespace edgeship::http
