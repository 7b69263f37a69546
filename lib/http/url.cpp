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

} // namespace edgeship::http
