#include "engine/endpoint.hpp"

#include <sys/stat.h>

namespace edgeship::engine {

namespace {

Result<std::string> socket_of(const std::string& url, const std::string& origin) {
    if (url.starts_with("unix://")) {
        std::string path = url.substr(7);
        if (path.empty() || path.front() != '/') {
            return fail(origin + " " + url + ": expected unix:///ABSOLUTE/PATH");
        }
        return path;
    }
    if (!url.empty() && url.front() == '/') {
        return url;
    }
    auto scheme = url.find("://");
    std::string what = scheme == std::string::npos ? "not a unix:// URL" : url.substr(0, scheme) + ":// engines are not supported";
    return unexpected(Error(origin + " " + url + ": " + what + " (edgeship run talks to a local engine over its unix socket)")
                          .hint("use --engine unix:///PATH/docker.sock"));
}

} // namespace

bool is_socket(const std::filesystem::path& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

std::vector<std::string> default_sockets(const core::Environment& env) {
    std::vector<std::string> out{"/var/run/docker.sock"};
    if (const auto* xdg = core::find_env(env, "XDG_RUNTIME_DIR"); xdg != nullptr && !xdg->empty()) {
        out.push_back(*xdg + "/podman/podman.sock");
    }
    out.emplace_back("/run/podman/podman.sock");
    return out;
}

Result<Endpoint> discover_endpoint(const std::string& flag, const core::Environment& env, const SocketProbe& probe) {
    if (!flag.empty()) {
        EDGESHIP_TRY_ASSIGN(auto path, socket_of(flag, "--engine"));
        return Endpoint{path, "--engine"};
    }
    if (const auto* host = core::find_env(env, "DOCKER_HOST"); host != nullptr && !host->empty()) {
        EDGESHIP_TRY_ASSIGN(auto path, socket_of(*host, "DOCKER_HOST"));
        return Endpoint{path, "DOCKER_HOST"};
    }
    auto candidates = default_sockets(env);
    for (const auto& c : candidates) {
        if (probe(c)) {
            return Endpoint{c, "default"};
        }
    }
    std::string looked;
    for (const auto& c : candidates) {
        looked += (looked.empty() ? "" : ", ") + c;
    }
    return unexpected(Error("no container engine reachable: no --engine, DOCKER_HOST is not set, and no socket at " +
                            looked)
                          .hint("start Docker (or Podman's socket: systemctl start podman.socket), or pass "
                                "--engine unix:///PATH"));
}

} // namespace edgeship::engine
