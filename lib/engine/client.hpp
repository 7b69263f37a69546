#pragma once

// A small Docker Engine API client (v1.41: Docker 20.10, Podman's compatibility API) over a unix socket,
// on lib/http's libcurl client: only what `edgeship run` needs. Errors carry the engine's own message
// ({"message": …}); registry passwords travel only in the X-Registry-Auth header, which -vv traces redact.

#include "core/cancel.hpp"
#include "core/log.hpp"
#include "core/result.hpp"
#include "engine/agent.hpp"
#include "engine/endpoint.hpp"
#include "http/client.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace edgeship::engine {

inline constexpr std::string_view k_api_version = "v1.41";

struct ClientOptions {
    core::Logger logger;
    /// Requests stop when it is cancelled; pass a token nobody cancels for clean-up after Ctrl-C.
    const core::CancelToken* cancel = &core::CancelToken::global();
    std::chrono::milliseconds request_timeout{60000};
    std::string user_agent;
};

/// stdout and stderr of a container (the 8-byte frame headers of a non-TTY log stream removed).
struct Logs {
    std::string out;
    std::string err;
    std::string combined; ///< both, in the order the engine sent them
};

/// Splits the multiplexed stream of GET /containers/{id}/logs: frames of [stream, 0, 0, 0, size (4 bytes,
/// big-endian)] + payload; stream 1 = stdout, 2 = stderr. Data that does not start with a valid header is
/// a TTY container's raw output and kept whole.
Logs demultiplex_logs(std::string_view data);

/// The error objects of a pull's progress stream (one JSON object per line, HTTP 200 even on failure):
/// `error` or `errorDetail.message` of every line that has one.
std::vector<std::string> progress_errors(std::string_view stream);

struct ContainerSummary {
    std::string id;
    std::string name; ///< without the leading '/'
    std::string state; ///< running, exited, created …
    std::map<std::string, std::string> labels;
};

class Client {
public:
    /// Opens the endpoint and pings it: "no container engine reachable at unix://… (from DOCKER_HOST): …"
    /// when it does not answer.
    static Result<Client> connect(const Endpoint& endpoint, ClientOptions options);

    const Endpoint& endpoint() const { return m_endpoint; }
    /// GET /version: the engine's name and version, e.g. "Docker Engine 20.10.24" or "Podman Engine 4.3.1".
    Result<nlohmann::json> version();
    /// POST /images/create?fromImage=…&tag=…, with X-Registry-Auth when `credential` is set. Fails on
    /// an HTTP error or an error object in the progress stream.
    Result<void> pull(const std::string& image, const std::optional<RegistryCredential>& credential);
    /// GET /images/{name}/json answered 200.
    Result<bool> image_exists(const std::string& image);
    /// Creates the bridge network `name` unless it exists (aziot-edged's create_network_if_missing).
    Result<void> ensure_network(const std::string& name);
    /// POST /containers/create?name=…; returns the id.
    Result<std::string> create(const std::string& name, const nlohmann::json& body);
    Result<void> start(const std::string& id);
    Result<nlohmann::json> inspect(const std::string& id);
    /// POST /containers/{id}/stop?t=…: SIGTERM, SIGKILL after `grace` (edgelet-docker runtime.rs stop).
    Result<void> stop(const std::string& id, std::chrono::seconds grace);
    /// DELETE /containers/{id}?force=1&v=1; a missing container is not an error.
    Result<void> remove(const std::string& id);
    /// GET /containers/{id}/logs; `tail` = 0 means all.
    Result<Logs> logs(const std::string& id, unsigned tail);
    /// GET /containers/json?all=1&filters={"label":[label]}; `label` is KEY or KEY=VALUE.
    Result<std::vector<ContainerSummary>> list(const std::string& label);

private:
    Client(Endpoint endpoint, http::Client http) : m_endpoint(std::move(endpoint)), m_http(std::move(http)) {}
    Result<http::Response> call(const std::string& method, const std::string& path, const std::string& body = "",
                                http::Headers headers = {});
    Error engine_error(const std::string& what, const http::Response& r) const;
    Endpoint m_endpoint;
    http::Client m_http;
};

} // namespace edgeship::engine
