#include "http/url.hpp"

#include <cctype>

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

} // namespace edgeship::http
