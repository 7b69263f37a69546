#include "oci/reference.hpp"

#include <cctype>
#include <vector>

namespace edgeship::oci {
namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | [-]+
bool is_valid_component(std::string_view c) {
    if (c.empty() || !is_lower_alnum(c.front()) || !is_lower_alnum(c.back())) {
        return false;
    }
    std::size_t i = 0;
    while (i < c.size()) {
        if (is_lower_alnum(c[i])) {
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < c.size() && !is_lower_alnum(c[j])) {
            ++j;
        }
        auto sep = c.substr(i, j - i);
        bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
        if (!(sep == "." || sep == "_" || sep == "__" || dashes)) {
            return false;
        }
        i = j;
    }
    return true;
}

// domain-component := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]
bool is_valid_domain_component(std::string_view c) {
    if (c.empty() || !is_alnum(c.front()) || !is_alnum(c.back())) {
        return false;
    }
    for (char ch : c) {
        if (!is_alnum(ch) && ch != '-') {
            return false;
        }
    }
    return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        auto pos = s.find(sep, start);
        out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (pos == std::string_view::npos) {
            return out;
        }
        start = pos + 1;
    }
}

// host[:port] with host a domain name, an IPv4 address, or [IPv6].
Result<void> check_registry(std::string_view reg) {
    std::string_view host = reg;
    std::string_view port;
    if (!reg.empty() && reg.front() == '[') {
        auto close = reg.find(']');
        if (close == std::string_view::npos) {
            return fail("registry \"" + std::string(reg) + "\": unterminated [IPv6] address");
        }
        auto inner = reg.substr(1, close - 1);
        if (inner.empty() || inner.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) {
            return fail("registry \"" + std::string(reg) + "\": bad IPv6 address");
        }
        auto rest = reg.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                return fail("registry \"" + std::string(reg) + "\": unexpected text after ]");
            }
            port = rest.substr(1);
            if (port.empty()) {
                return fail("registry \"" + std::string(reg) + "\": empty port");
            }
        }
    } else {
        auto colon = reg.find(':');
        if (colon != std::string_view::npos) {
            host = reg.substr(0, colon);
            port = reg.substr(colon + 1);
            if (port.empty()) {
                return fail("registry \"" + std::string(reg) + "\": empty port");
            }
        }
        for (auto comp : split(host, '.')) {
            if (!is_valid_domain_component(comp)) {
                return fail("registry \"" + std::string(reg) + "\": invalid host name");
            }
        }
    }
    if (!port.empty()) {
        if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos ||
            std::stoi(std::string(port)) > 65535 || std::stoi(std::string(port)) == 0) {
            return fail("registry \"" + std::string(reg) + "\": port must be a number 1-65535");
        }
    }
    return {};
}

} // namespace

bool is_valid_tag(std::string_view tag) {
    if (tag.empty() || tag.size() > 128) {
        return false;
    }
    auto word = [](char c) { return is_alnum(c) || c == '_'; };
    if (!word(tag.front())) {
        return false;
    }
    for (char c : tag) {
        if (!word(c) && c != '.' && c != '-') {
            return false;
        }
    }
    return true;
}

bool is_valid_repository(std::string_view repository) {
    if (repository.empty()) {
        return false;
    }
    for (auto comp : split(repository, '/')) {
        if (!is_valid_component(comp)) {
            return false;
        }
    }
    return true;
}

Result<Reference> Reference::parse(std::string_view text) {
    auto bad = [&](const std::string& why) {
        return fail("invalid reference \"" + std::string(text) + "\": " + why);
    };
    if (text.empty()) {
        return bad("empty");
    }
    for (char c : text) {
        if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) {
            return bad("contains white space or control characters");
        }
    }
    Reference ref;
    std::string_view rest = text;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        auto d = Digest::parse(rest.substr(at + 1));
        if (!d) {
            return bad(d.error().message());
        }
        ref.digest = *d;
        rest = rest.substr(0, at);
    }
    auto last_slash = rest.rfind('/');
    auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
        auto tag = rest.substr(colon + 1);
        if (!is_valid_tag(tag)) {
            return bad("tag \"" + std::string(tag) +
                       "\" must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127} (at most 128 characters)");
        }
        ref.tag = std::string(tag);
        rest = rest.substr(0, colon);
    }
    if (rest.empty()) {
        return bad("missing repository name");
    }
    // Docker's rule: the first component is a registry if it has '.' or ':', is "localhost", or has
    // upper-case letters; otherwise everything is the repository on Docker Hub.
    auto first_slash = rest.find('/');
    std::string_view registry;
    std::string_view repo = rest;
    if (first_slash != std::string_view::npos) {
        auto first = rest.substr(0, first_slash);
        bool has_upper = false;
        for (char c : first) {
            has_upper = has_upper || (c >= 'A' && c <= 'Z');
        }
        if (first.find_first_of(".:[") != std::string_view::npos || first == "localhost" || has_upper) {
            registry = first;
            repo = rest.substr(first_slash + 1);
        }
    }
    if (!registry.empty()) {
        auto ok = check_registry(registry);
        if (!ok) {
            return bad(ok.error().message());
        }
    }
    if (repo.empty()) {
        return bad("missing repository name after the registry");
    }
    for (auto comp : split(repo, '/')) {
        if (comp.empty()) {
            return bad("empty path component (\"//\" or a trailing \"/\")");
        }
        if (!is_valid_component(comp)) {
            bool upper = false;
            for (char c : comp) {
                upper = upper || (c >= 'A' && c <= 'Z');
            }
            if (upper) {
                return bad("repository \"" + std::string(repo) + "\" must be lower case");
            }
            return bad("repository component \"" + std::string(comp) +
                       "\" must be [a-z0-9] separated by '.', '_', '__' or '-'");
        }
    }
    ref.registry = registry.empty() ? std::string(k_docker_hub) : std::string(registry);
    if (ref.registry == "index.docker.io" || ref.registry == k_docker_hub_api) {
        ref.registry = std::string(k_docker_hub);
    }
    ref.repository = std::string(repo);
    if (ref.registry == k_docker_hub && ref.repository.find('/') == std::string::npos) {
        ref.repository = "library/" + ref.repository;
    }
    if (ref.registry.size() + 1 + ref.repository.size() > 255) {
        return bad("registry and repository together exceed 255 characters");
    }
    if (ref.tag.empty() && !ref.digest) {
        ref.tag = "latest";
    }
    return ref;
}

std::string Reference::name() const { return registry + "/" + repository; }

std::string Reference::str() const {
    std::string out = name();
    if (!tag.empty()) {
        out += ":" + tag;
    }
    if (digest) {
        out += "@" + digest->str();
    }
    return out;
}

std::string Reference::familiar() const {
    std::string out;
    if (registry == k_docker_hub) {
        out = repository.starts_with("library/") ? repository.substr(8) : repository;
    } else {
        out = name();
    }
    if (!tag.empty()) {
        out += ":" + tag;
    }
    if (digest) {
        out += "@" + digest->str();
    }
    return out;
}

std::string Reference::api_host() const {
    return registry == k_docker_hub ? std::string(k_docker_hub_api) : registry;
}

std::string Reference::manifest_ref() const { return digest ? digest->str() : tag; }

Reference Reference::with_tag(std::string new_tag) const {
    Reference r = *this;
    r.tag = std::move(new_tag);
    r.digest.reset();
    return r;
}

Reference Reference::with_digest(Digest d) const {
    Reference r = *this;
    r.digest = std::move(d);
    return r;
}

} // namespace edgeship::oci
