#include "http/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace edgeship::http {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

constexpr std::array<std::string_view, 11> k_secret_params = {
    "sig", "signature", "token", "access_token", "refresh_token", "code", "password",
    "secret", "key", "sharedaccesskey", "client_secret"};

bool is_param_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}

} // namespace

bool is_secret_header(std::string_view name) {
    std::string n = lower(name);
    // X-Registry-Auth: the Docker Engine API's base64url JSON of registry credentials (lib/engine).
    return n == "authorization" || n == "proxy-authorization" || n == "cookie" || n == "set-cookie" ||
           n == "x-registry-auth" ||
           n.find("token") != std::string::npos || n.find("secret") != std::string::npos ||
           n.find("password") != std::string::npos || n.ends_with("-key") || n == "key";
}

std::string redact_header_value(std::string_view name, std::string_view value) {
    std::string n = lower(name);
    if (n == "authorization" || n == "proxy-authorization") {
        auto space = value.find(' ');
        if (space == std::string_view::npos) {
            return std::string(k_redacted);
        }
        std::string scheme(value.substr(0, space));
        if (lower(scheme) == "sharedaccesssignature") {
            // The SAS fields other than sig are not secret and help debugging (sr, se, skn).
            return scheme + " " + redact_text(value.substr(space + 1));
        }
        return scheme + " " + std::string(k_redacted);
    }
    if (is_secret_header(name)) {
        return std::string(k_redacted);
    }
    return std::string(value);
}

std::string redact_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        // user:password@ in a URL authority
        if (text.compare(i, 3, "://") == 0) {
            std::size_t start = i + 3;
            std::size_t end = start;
            while (end < text.size() && text[end] != '/' && text[end] != '@' && text[end] != ' ' &&
                   text[end] != '?' && text[end] != '#') {
                ++end;
            }
            out.append("://");
            if (end < text.size() && text[end] == '@') {
                std::string_view userinfo = text.substr(start, end - start);
                auto colon = userinfo.find(':');
                if (colon != std::string_view::npos) {
                    out.append(userinfo.substr(0, colon + 1));
                    out.append(k_redacted);
                } else {
                    out.append(userinfo);
                }
                out.push_back('@');
                i = end + 1;
            } else {
                i = start;
            }
            continue;
        }
        // name=value where name is a secret parameter and starts a token
        if (is_param_char(text[i]) && (i == 0 || !is_param_char(text[i - 1]))) {
            std::size_t j = i;
            while (j < text.size() && is_param_char(text[j])) {
                ++j;
            }
            if (j < text.size() && text[j] == '=') {
                std::string name = lower(text.substr(i, j - i));
                if (std::find(k_secret_params.begin(), k_secret_params.end(), name) != k_secret_params.end()) {
                    out.append(text.substr(i, j - i + 1));
                    std::size_t k = j + 1;
                    while (k < text.size() && text[k] != '&' && text[k] != ';' && text[k] != ' ' &&
                           text[k] != '"' && text[k] != '\'' && text[k] != ',' && text[k] != '\n') {
                        ++k;
                    }
                    out.append(k_redacted);
                    i = k;
                    continue;
                }
            }
            out.append(text.substr(i, j - i));
            i = j;
            continue;
        }
        out.push_back(text[i]);
        ++i;
    }
    return out;
}

} // namespace edgeship::http
