#pragma once

// Where the container engine listens: the Docker Engine API over a unix socket (Docker's, or Podman's
// compatible one). Only unix:// endpoints: a tcp:// engine needs TLS client certificates edgeship does
// not handle, and is refused with a message saying so.

#include "core/env.hpp"
#include "core/result.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace edgeship::engine {

struct Endpoint {
    std::string socket; ///< the unix socket path
    std::string origin; ///< how it was found: "--engine", "DOCKER_HOST", "default"
    std::string url() const { return "unix://" + socket; }
};

/// Says whether a path is a unix socket (injected so tests need no sockets).
using SocketProbe = std::function<bool(const std::filesystem::path&)>;
/// The real probe: stat(2) says S_IFSOCK.
bool is_socket(const std::filesystem::path& path);

/// The places looked at when neither --engine nor DOCKER_HOST is set, in order: /var/run/docker.sock,
/// $XDG_RUNTIME_DIR/podman/podman.sock (rootless Podman; only when XDG_RUNTIME_DIR is set),
/// /run/podman/podman.sock.
std::vector<std::string> default_sockets(const core::Environment& env);

/// `flag` (--engine, "" when not given) > DOCKER_HOST > the first default socket that exists. A
/// unix:///PATH or an absolute PATH is accepted; tcp://, ssh:// and others are refused. No endpoint: an
/// error listing every place looked at.
Result<Endpoint> discover_endpoint(const std::string& flag, const core::Environment& env,
                                   const SocketProbe& probe = is_socket);

} // namespace edgeship::engine
