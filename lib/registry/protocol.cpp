#include "registry/protocol.hpp"

#include "http/error.hpp"
#include "http/redact.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace edgeship::registry {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::optional<std::uint64_t> to_u64(std::string_view s) {
    std::uint64_t v = 0;
    if (s.empty()) {
        return std::nullopt;
    }
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
        s.remove_suffix(1);
    }
    return s;
}

// Text of an HTML or plain body, one line, tags removed (proxies and ACR send HTML 413 pages, §4).
std::string text_excerpt(std::string_view body) {
    std::string out;
    bool in_tag = false;
    for (char c : body) {
        if (c == '<') {
            in_tag = true;
            out.push_back(' ');
        } else if (c == '>') {
            in_tag = false;
        } else if (!in_tag) {
            out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
        }
    }
    std::string squeezed;
    for (char c : out) {
        if (c == ' ' && (squeezed.empty() || squeezed.back() == ' ')) {
            continue;
        }
        squeezed.push_back(c);
    }
    while (!squeezed.empty() && squeezed.back() == ' ') {
        squeezed.pop_back();
    }
    if (squeezed.size() > 200) {
        squeezed = squeezed.substr(0, 200) + "…";
    }
    return squeezed;
}

} // namespace

std::string append_digest(std::string_view location, const oci::Digest& digest) {
    std::string out(location);
    out += location.find('?') == std::string_view::npos ? "?digest=" : "&digest=";
    out += digest.str(); // ':' is allowed in a query (RFC 3986 §3.4); distribution and skopeo send it raw
    return out;
}

std::optional<std::uint64_t> parse_range_end(std::string_view range) {
    range = trim(range);
    if (range.starts_with("bytes=")) {
        range.remove_prefix(6);
    }
    auto dash = range.find('-');
    if (dash == std::string_view::npos) {
        return std::nullopt;
    }
    auto start = to_u64(range.substr(0, dash));
    auto end = to_u64(range.substr(dash + 1));
    if (!start || !end || *start != 0) {
        return std::nullopt;
    }
    return end;
}

std::optional<std::uint64_t> resume_offset(std::string_view range) {
    auto end = parse_range_end(range);
    if (!end) {
        return std::nullopt;
    }
    return *end == 0 ? 0 : *end + 1;
}

std::vector<RegistryErrorEntry> parse_error_body(std::string_view body) {
    std::vector<RegistryErrorEntry> out;
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return out;
    }
    auto it = j.find("errors");
    if (it == j.end() || !it->is_array()) {
        return out;
    }
    for (const auto& e : *it) {
        if (!e.is_object()) {
            continue;
        }
        RegistryErrorEntry entry;
        if (auto c = e.find("code"); c != e.end() && c->is_string()) {
            entry.code = c->get<std::string>();
        }
        if (auto m = e.find("message"); m != e.end() && m->is_string()) {
            entry.message = m->get<std::string>();
        }
        if (auto d = e.find("detail"); d != e.end() && !d->is_null()) {
            entry.detail = d->is_string() ? d->get<std::string>() : d->dump();
        }
        out.push_back(std::move(entry));
    }
    return out;
}

std::string describe_answer(const http::Response& response) {
    std::string reason = response.reason.empty() ? http::status_reason(response.status) : response.reason;
    std::string msg = "registry answered " + std::to_string(response.status);
    if (!reason.empty()) {
        msg += " " + reason;
    }
    auto errors = parse_error_body(response.body);
    if (!errors.empty()) {
        for (std::size_t i = 0; i < errors.size() && i < 3; ++i) {
            const auto& e = errors[i];
            msg += i == 0 ? ": " : "; ";
            msg += e.code.empty() ? "error" : e.code;
            if (!e.message.empty()) {
                msg += ": " + e.message;
            }
            if (!e.detail.empty() && e.detail.size() <= 200) {
                msg += " (" + e.detail + ")";
            }
        }
        if (errors.size() > 3) {
            msg += "; and " + std::to_string(errors.size() - 3) + " more";
        }
    } else if (auto text = text_excerpt(response.body); !text.empty()) {
        msg += ": " + text;
    }
    return http::redact_text(msg);
}

bool has_error_code(const http::Response& response, std::string_view code) {
    auto errors = parse_error_body(response.body);
    return std::any_of(errors.begin(), errors.end(), [&](const auto& e) { return e.code == code; });
}

bool recoverable_status(long status) {
    return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

http::RetryPolicy registry_retry_policy(http::RetryPolicy base) {
    for (long s : {408L, 429L, 500L, 502L, 503L, 504L}) {
        if (std::find(base.retry_statuses.begin(), base.retry_statuses.end(), s) == base.retry_statuses.end()) {
            base.retry_statuses.push_back(s);
        }
    }
    return base;
}

Result<void> check_content_digest(const std::string* header, const oci::Digest& expected, std::string_view what) {
    if (header == nullptr || trim(*header).empty()) {
        return {};
    }
    std::string got(trim(*header));
    if (got != expected.str()) {
        return fail(std::string(what) + ": registry answered digest " + got + ", expected " + expected.str());
    }
    return {};
}

bool is_invalid_token(const std::vector<std::string>& www_authenticate) {
    return std::any_of(www_authenticate.begin(), www_authenticate.end(), [](const std::string& v) {
        return v.find("error=\"invalid_token\"") != std::string::npos || v.find("error=invalid_token") != std::string::npos;
    });
}

std::vector<std::string> header_values(const http::Response& response, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [k, v] : response.headers) {
        if (iequals(k, name)) {
            out.push_back(v);
        }
    }
    return out;
}

std::vector<std::string> warnings_299(const http::Response& response) {
    std::vector<std::string> out;
    for (const auto& v : header_values(response, "Warning")) {
        std::string_view s = trim(v);
        if (!s.starts_with("299")) {
            continue;
        }
        auto q1 = s.find('"');
        auto q2 = s.rfind('"');
        if (q1 != std::string_view::npos && q2 != std::string_view::npos && q2 > q1) {
            out.emplace_back(s.substr(q1 + 1, q2 - q1 - 1));
        } else {
            out.emplace_back(trim(s.substr(3)));
        }
    }
    return out;
}

std::optional<std::uint64_t> chunk_min_length(const http::Response& response) {
    if (const auto* h = response.header("OCI-Chunk-Min-Length")) {
        return to_u64(trim(*h));
    }
    return std::nullopt;
}

} // namespace edgeship::registry
