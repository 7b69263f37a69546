#include "oci/detail/paths.hpp"

#include <algorithm>

namespace edgeship::oci::detail {

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i <= path.size()) {
        auto j = path.find('/', i);
        if (j == std::string_view::npos) {
            j = path.size();
        }
        if (j > i) {
            out.push_back(path.substr(i, j - i));
        }
        i = j + 1;
    }
    return out;
}

namespace {

Result<std::string> normalize(std::string_view path, std::string_view what, bool allow_absolute) {
    auto quoted = std::string(what) + " \"" + std::string(path) + "\"";
    if (path.find('\0') != std::string_view::npos) {
        return fail(quoted + ": contains a NUL byte");
    }
    if (!path.empty() && path.front() == '/' && !allow_absolute) {
        return fail(quoted + ": absolute paths are not allowed (paths are relative to the image root)");
    }
    std::string out;
    for (auto comp : split_path(path)) {
        if (comp == ".") {
            continue;
        }
        if (comp == "..") {
            return fail(quoted + ": \"..\" components are not allowed");
        }
        if (!out.empty()) {
            out += '/';
        }
        out.append(comp);
    }
    if (out.empty()) {
        return fail(quoted + ": empty path");
    }
    return out;
}

} // namespace

Result<std::string> normalize_entry_path(std::string_view path, std::string_view what) {
    return normalize(path, what, false);
}

Result<std::string> normalize_image_dir(std::string_view path, std::string_view what) {
    return normalize(path, what, true);
}

bool symlink_escapes(std::string_view link_path, std::string_view target) {
    if (target.empty()) {
        return false;
    }
    std::vector<std::string_view> stack;
    if (target.front() != '/') {
        stack = split_path(link_path);
        if (!stack.empty()) {
            stack.pop_back(); // the link's own name: resolve from its directory
        }
    }
    bool absolute = target.front() == '/';
    for (auto comp : split_path(target)) {
        if (comp == ".") {
            continue;
        }
        if (comp == "..") {
            if (stack.empty()) {
                if (absolute) {
                    continue; // "/.." is "/" inside the container
                }
                return true;
            }
            stack.pop_back();
            continue;
        }
        stack.push_back(comp);
    }
    return false;
}

bool path_less(std::string_view a, std::string_view b) {
    auto ca = split_path(a);
    auto cb = split_path(b);
    return std::lexicographical_compare(ca.begin(), ca.end(), cb.begin(), cb.end());
}

} // namespace edgeship::oci::detail
