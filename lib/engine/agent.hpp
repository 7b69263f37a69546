#pragma once

// The IoT Edge agent's rules for turning a deployment manifest into container create requests, as a pure
// function: manifest JSON in, the ordered list of Engine API create bodies out. Each rule cites the agent
// source (Azure/iotedge at 55353a649ea9) in docs/design/container-tests.md ("How the IoT Edge runtime
// creates a module") and docs/run.md; tests/container/agent_create.py is the Python twin the container
// tests use. Nothing here talks to an engine.

#include "core/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::engine {

inline constexpr std::string_view k_owner_label = "net.azure-devices.edge.owner";
inline constexpr std::string_view k_owner_value = "Microsoft.Azure.Devices.Edge.Agent";
inline constexpr std::string_view k_original_image_label = "net.azure-devices.edge.original-image";
/// The network aziot-edged creates and the agent attaches modules to (edgelet-settings `lib.rs:29`).
inline constexpr std::string_view k_default_network = "azure-iot-edge";
/// Modules without `startupOrder` come last (agent Core/Constants.cs: DefaultStartupOrder = uint.MaxValue).
inline constexpr std::uint64_t k_default_startup_order = 4294967295ULL;

/// One entry of `$edgeAgent.runtime.settings.registryCredentials`. The password is a secret: it only ever
/// leaves as the X-Registry-Auth header (redacted in traces), never in messages.
struct RegistryCredential {
    std::string address;
    std::string username;
    std::string password;
};

/// A custom module as the agent would create it.
struct ModulePlan {
    std::string name;  ///< the container name (rule 8)
    std::string image; ///< normalised (rule 4)
    nlohmann::json body; ///< the POST /containers/create body (rules 1-3, 6, 7, 9)
    std::uint64_t startup_order = k_default_startup_order;
    std::string restart_policy; ///< the manifest's value (always, on-failure, on-unhealthy, never)
    std::string status;         ///< desired status: running or stopped
    std::optional<RegistryCredential> credential; ///< the one whose address matches the image's registry
};

struct Plan {
    std::vector<ModulePlan> modules;      ///< by startupOrder, then name
    std::vector<std::string> system_modules; ///< present in the manifest, not created (edgeAgent, edgeHub)
};

struct PlanOptions {
    /// The network modules are attached to when their createOptions name none (rule 9). "host" uses the
    /// host's network instead (HostConfig.NetworkMode=host, NetworkingConfig dropped): for engines without
    /// a bridge, such as the test suite's private dockerd.
    std::string network = std::string(k_default_network);
    /// Labels added to every container after the agent's (e.g. dev.edgeship.run=<deployment id>).
    std::map<std::string, std::string> extra_labels;
};

/// Rule 4 (DockerConfig.cs ValidateAndGetImage): trimmed, `$upstream` refused (needs a parent device),
/// `:latest` added when there is no tag or digest.
Result<std::string> normalize_image(std::string_view image);

/// Rules 1-2 (DockerConfig.cs GetCreateOptions, ChunkedProperty): createOptions, createOptions01 … joined
/// in name order (at most 100, numbered without gaps), parsed as JSON; "" or "null" is {}.
Result<nlohmann::json> join_create_options(const nlohmann::json& settings);

/// Rule 6 (edgelet-docker runtime.rs merge_env): the module's env, then createOptions' Env over it
/// (createOptions wins), sorted by name, as NAME=VALUE.
std::vector<std::string> merge_env(const nlohmann::json& create_env, const std::map<std::string, std::string>& module_env);

/// The registry an image is pulled from, as the agent tells it (DockerUtil.cs TryParseDomainFromImage):
/// the first path component when it has a '.' or ':', else Docker Hub's "https://index.docker.io/v1/"
/// when there is more than one component; nullopt for a one-component name (the agent matches no credential).
std::optional<std::string> image_registry(std::string_view image);

/// The credential for `image` (DockerUtil.cs FirstAuthConfig: the first whose address equals the image's
/// registry, case-insensitively; an address is used as given).
std::optional<RegistryCredential> credential_for(std::string_view image, const std::vector<RegistryCredential>& creds);

/// The X-Registry-Auth value: base64url (with padding) of {"username","password","serveraddress"}, as
/// edgelet-docker runtime.rs `pull` encodes it.
std::string registry_auth_header(const RegistryCredential& credential);

/// repository and tag for POST /images/create (a digest reference keeps `@sha256:…` in the repository,
/// tag "").
std::pair<std::string, std::string> split_image(std::string_view normalized_image);

/// The whole deployment: every custom module of `modulesContent.$edgeAgent["properties.desired"]`
/// (also accepts the `$edgeAgent` object alone). Errors name the module: "module M: …".
Result<Plan> plan_deployment(const nlohmann::json& manifest, const PlanOptions& options = {});

} // namespace edgeship::engine
