#pragma once

// IoT Hub commands (issue 7): deploy, deployment create|list|show|update|delete|status, status,
// device create|show|list. Each command: an Options struct, register_* binding flags, run_* calling
// lib/iothub. Credentials come from IOTHUB_CONNECTION_STRING (environment or .env) or
// --connection-string-file, never from a flag value.

#include "cli/context.hpp"
#include "core/result.hpp"
#include "iothub/client.hpp"
#include "iothub/connect.hpp"
#include "iothub/deployments.hpp"

#include <CLI/App.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace edgeship::cli {

/// Flags shared by every IoT Hub command.
struct HubFlags {
    std::string connection_string_file; ///< file holding the connection string (not the string itself)
    std::string hub_url;                ///< endpoint override (private endpoints, the test double)
    std::string ca_file;                ///< PEM CA bundle to trust
    std::string api_version;            ///< empty = setting iothub_api_version (default 2021-04-12)
};

/// Adds --connection-string-file, --hub-url, --ca-file, --api-version to `sub`.
void add_hub_flags(CLI::App* sub, HubFlags& flags);

/// The run's hub client (Context::hub, iothub::connect): `flags` enter ctx.config as the top layer
/// first (`ca_flag` names the CA flag in origins: ship's is --hub-ca-file). The connection string comes
/// from --connection-string-file, else IOTHUB_CONNECTION_STRING (environment, solution .env, .env);
/// missing or malformed: exit 4, the error never contains the key.
Result<std::reference_wrapper<iothub::HubClient>> open_hub(const HubFlags& flags, Context& ctx,
                                                           const char* ca_flag = "--ca-file");

/// "30s", "5m", "1h", "250ms", "1m30s" or plain seconds ("90"). Errors are usage errors naming `flag`.
using iothub::parse_duration;

/// "k=v" pairs from repeated flags; errors name `flag`.
Result<std::map<std::string, std::string>> parse_pairs(const std::vector<std::string>& items, std::string_view flag);

/// Options for waiting (shared by deploy, deployment create/status and status).
struct WaitFlags {
    bool wait = false;
    std::string timeout = "10m";
    std::string interval = "5s";
    int page_size = iothub::k_default_page_size;
};
void add_wait_flags(CLI::App* sub, WaitFlags& flags, bool with_wait_flag);

/// Waits for a rollout, drawing progress on a TTY (ctx.console rules), and returns the result.
/// `poll` is called once per interval; `what` names the rollout in progress lines.
Result<iothub::WaitResult> wait_with_progress(const std::function<Result<iothub::FleetSummary>()>& poll,
                                              const WaitFlags& flags, bool json, const std::string& what, Context& ctx);

/// Prints a rollout summary: JSON object with --json, otherwise one line plus one line per failed or
/// pending device (with module names).
void print_summary(const iothub::FleetSummary& summary, const std::string& what, Context& ctx);

/// Validates a complete manifest with lib/manifest (issue 5): warnings on stderr; errors listed on
/// stdout (or as JSON) and returned as a validation error (exit 3).
Result<void> validate_for_deploy(const nlohmann::json& manifest, const std::string& path, bool json, Context& ctx);

// deploy ----------------------------------------------------------------------------------------
struct DeployOptions {
    std::string device;
    std::string manifest;
    bool no_validate = false;
    bool dry_run = false;
    bool json = false;
    WaitFlags wait;
    HubFlags hub;
};
void register_deploy(CLI::App& parent, Context& ctx, Runner<DeployOptions> run);
Result<void> run_deploy(const DeployOptions& opts, Context& ctx);

// deployment ------------------------------------------------------------------------------------
struct DeploymentCreateOptions {
    std::string id;
    std::string manifest;
    std::string target_condition;
    int priority = 0;
    bool priority_given = false;
    std::vector<std::string> labels;
    std::vector<std::string> metrics;
    bool layered = false;
    bool no_validate = false;
    std::string replace;
    bool dry_run = false;
    bool json = false;
    WaitFlags wait;
    HubFlags hub;
};
struct DeploymentListOptions {
    int top = 0;
    bool json = false;
    HubFlags hub;
};
struct DeploymentShowOptions {
    std::string id;
    bool json = false;
    HubFlags hub;
};
struct DeploymentUpdateOptions {
    std::string id;
    std::string target_condition;
    bool target_condition_given = false;
    int priority = 0;
    bool priority_given = false;
    std::vector<std::string> labels;
    std::vector<std::string> metrics;
    std::string etag;
    bool force = false;
    bool json = false;
    WaitFlags wait;
    HubFlags hub;
};
struct DeploymentDeleteOptions {
    std::string id;
    std::string etag;
    bool force = false;
    bool json = false;
    HubFlags hub;
};
struct DeploymentStatusOptions {
    std::string id;
    bool json = false;
    WaitFlags wait;
    HubFlags hub;
};
struct DeploymentRunners {
    Runner<DeploymentCreateOptions> create;
    Runner<DeploymentListOptions> list;
    Runner<DeploymentShowOptions> show;
    Runner<DeploymentUpdateOptions> update;
    Runner<DeploymentDeleteOptions> remove;
    Runner<DeploymentStatusOptions> status;
};
void register_deployment(CLI::App& parent, Context& ctx, DeploymentRunners runners);
DeploymentRunners deployment_runners();
Result<void> run_deployment_create(const DeploymentCreateOptions& opts, Context& ctx);
Result<void> run_deployment_list(const DeploymentListOptions& opts, Context& ctx);
Result<void> run_deployment_show(const DeploymentShowOptions& opts, Context& ctx);
Result<void> run_deployment_update(const DeploymentUpdateOptions& opts, Context& ctx);
Result<void> run_deployment_delete(const DeploymentDeleteOptions& opts, Context& ctx);
Result<void> run_deployment_status(const DeploymentStatusOptions& opts, Context& ctx);

// status ----------------------------------------------------------------------------------------
struct StatusOptions {
    std::string device;
    std::string deployment;
    bool json = false;
    WaitFlags wait;
    HubFlags hub;
};
void register_status(CLI::App& parent, Context& ctx, Runner<StatusOptions> run);
Result<void> run_status(const StatusOptions& opts, Context& ctx);

// device ----------------------------------------------------------------------------------------
struct DeviceCreateOptions {
    std::string id;
    bool edge = false;
    bool show_keys = false;
    bool json = false;
    HubFlags hub;
};
struct DeviceShowOptions {
    std::string id;
    bool show_keys = false;
    bool json = false;
    HubFlags hub;
};
struct DeviceListOptions {
    bool edge_only = false;
    int top = 0;
    int page_size = iothub::k_default_page_size;
    bool json = false;
    HubFlags hub;
};
struct DeviceRunners {
    Runner<DeviceCreateOptions> create;
    Runner<DeviceShowOptions> show;
    Runner<DeviceListOptions> list;
};
void register_device(CLI::App& parent, Context& ctx, DeviceRunners runners);
DeviceRunners device_runners();
Result<void> run_device_create(const DeviceCreateOptions& opts, Context& ctx);
Result<void> run_device_show(const DeviceShowOptions& opts, Context& ctx);
Result<void> run_device_list(const DeviceListOptions& opts, Context& ctx);

} // namespace edgeship::cli
