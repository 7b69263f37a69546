#pragma once

// Rollout evaluation: pure functions over $edgeAgent module twins, unit-tested without a network. A device
// is done when the agent reports the desired version with status 200 and every desired module runs with its
// desired status and (normalised) image. 500 and backoff are in progress; the rules and their sources in
// Azure/iotedge are in docs/design/iothub-edge-agent.md.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgeship::iothub {

enum class DeviceState { pending, succeeded, failed };

struct ModuleStatus {
    std::string name;    ///< module name; "edgeHub" for the system module
    std::string problem; ///< "backoff (exit code 1, 5 restarts)", "runs image a:1, wants a:2", …
    bool failed = false; ///< true: final (failed, dead, backoff past MaxRestartCount); false: not there yet
};

struct DeviceRollout {
    std::string device_id;
    bool targeted = true; ///< false when the twin does not name the deployment at all
    bool applied = true;  ///< the deployment is Applied on this device (always true without one)
    DeviceState state = DeviceState::pending;
    std::string reason; ///< one line: why pending or failed; empty when succeeded
    std::vector<ModuleStatus> modules;
    std::int64_t desired_version = -1;
    std::int64_t reported_version = -1; ///< lastDesiredVersion, -1 when absent
    long last_desired_status = 0;       ///< lastDesiredStatus.code, 0 when absent
    std::string agent_version;          ///< reported version.version ("1.4.20"), empty when absent
    /// Set when the device counts as succeeded by a rule the caller should know about, e.g. an agent older
    /// than 1.2.0 that kept lastDesiredVersion for an identical manifest.
    std::string note;
};

/// True when `version` ("1.1.18", "1.1.18.1234") is an edge agent older than 1.2.0; false when it is
/// 1.2.0 or later, or cannot be read.
bool agent_older_than_1_2(std::string_view version);

/// Evaluates one $edgeAgent module twin. With `deployment_id`, the device must also have
/// configurations[deployment_id].status == "Applied".
DeviceRollout evaluate_twin(const nlohmann::json& twin, std::optional<std::string_view> deployment_id);

/// "ConfigFormatError" for 400, and the other lastDesiredStatus codes of docs/design/iothub.md §9.
std::string_view desired_status_name(long code);

struct FleetSummary {
    std::string deployment_id; ///< empty for a single device
    std::size_t targeted = 0;
    std::size_t applied = 0;
    std::size_t succeeded = 0;
    std::size_t failed = 0;
    std::size_t pending = 0;
    std::vector<DeviceRollout> failures;       ///< every failed device
    std::vector<DeviceRollout> pending_devices; ///< pending devices (targeted ones only)
    std::vector<std::string> notes;             ///< "dev1: <note>" for succeeded devices with a note
    /// False while the hub may still be evaluating the target condition: wait_for_rollout sets it when the
    /// targeted count differs from the previous poll's. A single poll cannot know and leaves it true.
    bool targeting_settled = true;

    /// Nothing pending, at least one device targeted, and the targeted count stable.
    bool settled() const { return targeted > 0 && pending == 0 && targeting_settled; }
    bool all_succeeded() const { return settled() && failed == 0; }
};

/// Folds evaluated devices into counts; untargeted devices are ignored.
FleetSummary summarize(std::string deployment_id, const std::vector<DeviceRollout>& devices);

/// The --json summary: targeted, applied, succeeded, failed, pending, failures (device_id, reason,
/// modules[{name, problem}]) and pending_devices (the same shape), notes, in a stable field order.
nlohmann::ordered_json summary_to_json(const FleetSummary& summary);

/// One line for logs and progress: "3/5 succeeded, 1 failed, 1 pending (targeted 5, applied 5)".
std::string summary_line(const FleetSummary& summary);

} // namespace edgeship::iothub
