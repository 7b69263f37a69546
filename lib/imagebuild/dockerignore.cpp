#include "imagebuild/dockerignore.hpp"

#include "core/fs.hpp"

#include <fnmatch.h>

namespace edgeship::imagebuild {

namespace {

std::vector<std::string> split_clean(std::string_view path) {
    // filepath.Clean-like: drop empty and "." components, resolve ".." lexically
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        std::string c(path.substr(start, end - start));
        if (c == "..") {
            if (!out.empty()) {
                out.pop_back();
            }
        } else if (!c.empty() && c != ".") {
            out.push_back(std::move(c));
        }
        start = end + 1;
    }
    return out;
}

bool match_parts(const std::vector<std::string>& pat, std::size_t pi, const std::vector<std::string>& path, std::size_t si) {
    if (pi == pat.size()) {
        return si == path.size();
    }
    if (pat[pi] == "**") {
        for (std::size_t k = si; k <= path.size(); ++k) {
            if (match_parts(pat, pi + 1, path, k)) {
                return true;
            }
        }
        return false;
    }
    if (si == path.size()) {
        return false;
    }
    if (::fnmatch(pat[pi].c_str(), path[si].c_str(), 0) != 0) {
        return false;
    }
    return match_parts(pat, pi + 1, path, si + 1);
}

std::string trim(std::string_view s) {
    auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) {
        return "";
    }
    auto e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

} // namespace

DockerIgnore DockerIgnore::parse(std::string_view text) {
    DockerIgnore d;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string line = trim(text.substr(start, end - start));
        start = end + 1;
        if (line.empty() || line.front() == '#') {
            continue;
        }
        Pattern p;
        if (line.front() == '!') {
            p.negate = true;
            line = trim(line.substr(1));
        }
        p.parts = split_clean(line);
        if (p.parts.empty()) {
            continue;
        }
        d.m_patterns.push_back(std::move(p));
    }
    return d;
}

Result<DockerIgnore> DockerIgnore::load(const std::filesystem::path& context_dir) {
    const auto file = context_dir / ".dockerignore";
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        return DockerIgnore();
    }
    EDGESHIP_TRY_ASSIGN(auto text, core::read_file(file));
    return parse(text);
}

bool DockerIgnore::excluded(std::string_view path) const {
    const auto parts = split_clean(path);
    bool out = false;
    for (const auto& p : m_patterns) {
        // the pattern matches the path or one of its parent directories (patternmatcher MatchesOrParentMatches)
        bool hit = false;
        std::vector<std::string> prefix;
        for (const auto& c : parts) {
            prefix.push_back(c);
            if (match_parts(p.parts, 0, prefix, 0)) {
                hit = true;
                break;
            }
        }
        if (hit) {
            out = !p.negate;
        }
    }
    return out;
}

} // namespace edgeship::imagebuild
